"""The book detail cache: served as bytes through the cache port (the SQLite-file adapter),
evicted after commit by `book_catalog` when the book, its ratings or a name it shows change;
never evicted by a rebuild, whose switch moves readers to keys of the new build."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pipelines.rebuild import rebuild
from pipelines.runner import ProjectionRunner
from read_side.projections.catalog_books import BookCatalogProjection
from read_side.queries.catalog import BookView, book_detail
from read_side.queries.catalog_cache import BOOK_DETAIL_TTL, cached_book_detail, detail_key
from tests.read_side.catalog.conftest import World
from write_side.catalog import RenameAuthor, RenameCategory, RenamePublisher
from write_side.rating import DeleteFeedback


def served(world: World, book_id: uuid.UUID) -> BookView:
    """Then: the detail as the cache path serves it (the book exists)."""
    answer = world.ask(cached_book_detail, world.cache, book_id)
    assert answer is not None
    return BookView.model_validate_json(answer)


def test_the_detail_is_cached_as_the_json_of_the_query(world: World) -> None:
    book_id = world.book(world.shelf())

    answer = world.ask(cached_book_detail, world.cache, book_id)

    assert answer is not None
    assert world.cache.get(detail_key(1, book_id)) == answer
    assert BookView.model_validate_json(answer) == world.ask(book_detail, book_id)
    assert timedelta(minutes=30) == BOOK_DETAIL_TTL


def test_a_cached_answer_is_served_as_it_was_stored(world: World) -> None:
    book_id = world.book(world.shelf())
    world.ask(cached_book_detail, world.cache, book_id)
    world.cache.set(detail_key(1, book_id), b'{"marker": 1}', ttl=timedelta(minutes=1))

    assert world.ask(cached_book_detail, world.cache, book_id) == b'{"marker": 1}'


def test_no_book_no_entry(world: World) -> None:
    assert world.ask(cached_book_detail, world.cache, uuid.uuid4()) is None  # model never built
    world.book(world.shelf())
    missing = uuid.uuid4()

    assert world.ask(cached_book_detail, world.cache, missing) is None
    assert world.cache.get(detail_key(1, missing)) is None


def test_a_change_of_the_book_evicts_its_entry_only(world: World) -> None:
    shelf = world.shelf()
    book_id, other = world.book(shelf), world.book(shelf)
    served(world, book_id)
    served(world, other)

    world.reprice(book_id, "31.00")
    world.project()

    assert world.cache.get(detail_key(1, book_id)) is None
    assert world.cache.get(detail_key(1, other)) is not None
    assert str(served(world, book_id).price) == "31.00"


def test_ratings_evict_the_entry(world: World) -> None:
    book_id = world.book(world.shelf())
    served(world, book_id)

    feedback_id = world.feedback(book_id, 4)
    world.project()
    assert world.cache.get(detail_key(1, book_id)) is None
    assert served(world, book_id).total_reviews == 1

    world.bus.dispatch(DeleteFeedback(feedback_id=feedback_id))
    world.project()
    assert world.cache.get(detail_key(1, book_id)) is None
    assert served(world, book_id).total_reviews == 0


def test_renamed_names_evict_every_book_that_shows_them(world: World) -> None:
    shelf, elsewhere = world.shelf(), world.shelf()
    books = [world.book(shelf), world.book(shelf)]
    apart = world.book(elsewhere)
    renames = [
        RenameCategory(category_id=shelf.category_id, name="Verse"),
        RenamePublisher(publisher_id=shelf.publisher_id, name="Puffin"),
        RenameAuthor(author_id=shelf.author_ids[0], name="A. A. King"),
    ]
    for rename in renames:
        for book_id in [*books, apart]:
            served(world, book_id)

        world.bus.dispatch(rename)
        world.project()

        assert [world.cache.get(detail_key(1, b)) for b in books] == [None, None]
        assert world.cache.get(detail_key(1, apart)) is not None
    detail = served(world, books[0])
    assert (detail.category.name, detail.publisher.name) == ("Verse", "Puffin")
    assert detail.authors[0].name == "A. A. King"


def test_without_a_cache_the_projection_evicts_nothing_and_still_builds(world: World) -> None:
    book_id = world.book(world.shelf())
    served(world, book_id)
    world.reprice(book_id, "40.00")

    ProjectionRunner(world.store, BookCatalogProjection(), world.db.target).catch_up()

    assert world.cache.get(detail_key(1, book_id)) is not None
    detail = world.ask(book_detail, book_id)
    assert detail is not None
    assert str(detail.price) == "40.00"


def test_a_rebuild_evicts_nothing_and_its_switch_serves_the_new_build(world: World) -> None:
    book_id = world.book(world.shelf())
    stale = served(world, book_id)
    world.reprice(book_id, "42.00")  # the live build has not seen this yet

    result = rebuild(world.store, world.projections["book_catalog"], world.db.target)

    assert result.live == 2
    assert world.cache.get(detail_key(1, book_id)) == stale.model_dump_json().encode()
    assert str(served(world, book_id).price) == "42.00"
    assert world.cache.get(detail_key(2, book_id)) is not None
