"""Book detail: given these commands, `book_detail` answers this (references with their current
names, every change of the book, deleted books gone)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from pipelines.runner import RunnerSettings
from read_side.queries.catalog import BookView, Reference, book_detail
from tests.read_side.catalog.conftest import START, World
from write_side.catalog import (
    BookStatus,
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPublisher,
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteBook,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
    SetBookStock,
    UpdateBookDetails,
)


def test_a_new_book_shows_every_field_with_its_references(world: World) -> None:
    shelf = world.shelf()
    book_id = world.book(shelf, author_ids=shelf.author_ids, image="covers/engine.webp")

    detail = world.ask(book_detail, book_id)

    assert detail is not None
    created = START + timedelta(minutes=1)
    assert detail == BookView(
        id=book_id,
        version=0,
        name="Notes on the Engine",
        description="On the Analytical Engine.",
        image="covers/engine.webp",
        price=Decimal("25.00"),
        discount_price=Decimal("20.00"),
        status=BookStatus.IN_STOCK,
        category=Reference(id=shelf.category_id, name=detail.category.name),
        publisher=Reference(id=shelf.publisher_id, name=detail.publisher.name),
        authors=[
            Reference(id=shelf.author_ids[0], name="Ada Lovelace"),
            Reference(id=shelf.author_ids[1], name="Charles Babbage"),
        ],
        average_rating=0.0,
        total_reviews=0,
        created_at=created,
        updated_at=created,
    )
    assert detail.category.name.startswith("Poetry ")
    assert detail.publisher.name.startswith("Penguin ")


def test_every_change_of_the_book_shows_with_its_time(world: World) -> None:
    shelf, other = world.shelf(), world.shelf()
    book_id = world.book(shelf)
    world.project()

    world.clock.advance(timedelta(hours=1))
    world.bus.dispatch(
        UpdateBookDetails(book_id=book_id, name="Sketch", description="By Menabrea.", image=None)
    )
    world.reprice(book_id, "30.00")
    world.bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=other.author_ids[::-1]))
    world.bus.dispatch(ChangeBookCategory(book_id=book_id, category_id=other.category_id))
    world.bus.dispatch(ChangeBookPublisher(book_id=book_id, publisher_id=other.publisher_id))
    world.bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))
    detail = world.ask(book_detail, book_id)

    assert detail is not None
    assert (detail.name, detail.description, detail.image) == ("Sketch", "By Menabrea.", None)
    assert (detail.price, detail.discount_price) == (Decimal("30.00"), None)
    assert [a.id for a in detail.authors] == list(other.author_ids[::-1])
    assert [a.name for a in detail.authors] == ["Charles Babbage", "Ada Lovelace"]
    assert (detail.category.id, detail.publisher.id) == (other.category_id, other.publisher_id)
    assert detail.status is BookStatus.OUT_OF_STOCK
    assert detail.created_at == START + timedelta(minutes=1)
    assert detail.updated_at == START + timedelta(minutes=61)


def test_renamed_references_show_their_current_names_on_every_book(world: World) -> None:
    shelf = world.shelf()
    first = world.book(shelf, author_ids=shelf.author_ids)
    world.project()  # the first book is written before the renames: they must reach it
    world.bus.dispatch(RenameCategory(category_id=shelf.category_id, name="Verse"))
    second = world.book(shelf)  # in the same batches as the renames
    world.bus.dispatch(RenamePublisher(publisher_id=shelf.publisher_id, name="Puffin"))
    world.bus.dispatch(RenameAuthor(author_id=shelf.author_ids[0], name="Augusta Ada King"))

    details = [world.ask(book_detail, book_id) for book_id in (first, second)]

    for detail in details:
        assert detail is not None
        assert (detail.category.name, detail.publisher.name) == ("Verse", "Puffin")
        assert detail.authors[0] == Reference(id=shelf.author_ids[0], name="Augusta Ada King")
    assert details[0] is not None
    assert details[0].authors[1].name == "Charles Babbage"


def test_a_book_moved_to_a_renamed_reference_shows_the_new_name(world: World) -> None:
    shelf = world.shelf()
    book_id = world.book(shelf)
    category = world.bus.dispatch(CreateCategory(name=f"Essays {uuid.uuid4().hex[:8]}"))
    publisher = world.bus.dispatch(CreatePublisher(name=f"Faber {uuid.uuid4().hex[:8]}"))
    author = world.bus.dispatch(CreateAuthor(name="Mary Somerville"))
    world.project()
    world.bus.dispatch(RenameCategory(category_id=category.aggregate_id, name="Essays"))
    world.bus.dispatch(RenamePublisher(publisher_id=publisher.aggregate_id, name="Faber"))
    world.bus.dispatch(RenameAuthor(author_id=author.aggregate_id, name="M. Somerville"))
    world.project()

    world.bus.dispatch(ChangeBookCategory(book_id=book_id, category_id=category.aggregate_id))
    world.bus.dispatch(ChangeBookPublisher(book_id=book_id, publisher_id=publisher.aggregate_id))
    world.bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=(author.aggregate_id,)))
    detail = world.ask(book_detail, book_id)

    assert detail is not None
    assert (detail.category.name, detail.publisher.name) == ("Essays", "Faber")
    assert detail.authors == [Reference(id=author.aggregate_id, name="M. Somerville")]


def test_a_deleted_book_has_no_detail(world: World) -> None:
    shelf = world.shelf()
    kept, deleted = world.book(shelf), world.book(shelf)
    world.project()
    world.bus.dispatch(DeleteBook(book_id=deleted))
    deleted_at_once = world.book(shelf)
    world.bus.dispatch(DeleteBook(book_id=deleted_at_once))
    world.project(RunnerSettings())  # created and deleted in one batch

    assert world.ask(book_detail, deleted) is None
    assert world.ask(book_detail, deleted_at_once) is None
    assert world.ask(book_detail, kept) is not None


def test_an_unknown_book_has_no_detail(world: World) -> None:
    world.book(world.shelf())

    assert world.ask(book_detail, uuid.uuid4()) is None


def test_the_version_follows_the_book_stream_revision(world: World) -> None:
    shelf = world.shelf()
    book_id = world.book(shelf)
    first = world.ask(book_detail, book_id)
    world.reprice(book_id, "30.00")  # in one batch with the next two, after the row was written
    world.bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))
    world.bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))  # no event
    world.project()
    world.bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=shelf.author_ids))

    detail = world.ask(book_detail, book_id)

    assert first is not None
    assert first.version == 0
    assert detail is not None
    assert detail.version == 3
    assert detail.version == world.store.read_stream(f"book-{book_id}")[-1].revision


def test_renames_and_ratings_leave_the_version_as_it_is(world: World) -> None:
    shelf = world.shelf()
    book_id = world.book(shelf)
    world.bus.dispatch(UpdateBookDetails(book_id=book_id, name="Sketch"))
    world.project()

    world.bus.dispatch(RenameCategory(category_id=shelf.category_id, name="Verse"))
    world.bus.dispatch(RenameAuthor(author_id=shelf.author_ids[0], name="A. A. Lovelace"))
    world.feedback(book_id, 4)
    detail = world.ask(book_detail, book_id)

    assert detail is not None
    assert (detail.category.name, detail.total_reviews) == ("Verse", 1)  # the row did change
    assert detail.version == 1
