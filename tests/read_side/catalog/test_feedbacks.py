"""A book's feedbacks: paged, by date or rating, reviewer names opened with the key store,
erased reviewers shown as erased, deleted and rejected feedback gone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from read_side.queries.feedbacks import FeedbackQuery, FeedbackSort, FeedbackView, book_feedbacks
from read_side.queries.paging import Page, PageRequest
from tests.read_side.catalog.conftest import START, World
from write_side.domain import ERASED
from write_side.rating import DeleteFeedback, RejectFeedback, RejectionReason


def feedbacks(
    world: World,
    book_id: uuid.UUID,
    query: FeedbackQuery | None = None,
    page: PageRequest | None = None,
) -> Page[FeedbackView]:
    """Then: the page of the book's feedbacks."""
    return world.ask(book_feedbacks, world.keys, book_id, query, page)


def test_a_feedback_shows_its_reviewer_comment_rating_and_date(world: World) -> None:
    book_id = world.book(world.shelf())
    feedback_id = world.feedback(
        book_id, 4, first_name="Grace", last_name="Hopper", comment="Clear and short."
    )

    page = feedbacks(world, book_id)

    assert page.items == [
        FeedbackView(
            id=feedback_id,
            book_id=book_id,
            first_name="Grace",
            last_name="Hopper",
            comment="Clear and short.",
            rating=4,
            created_at=START + timedelta(minutes=2),
        )
    ]
    assert (page.total_items, page.total_pages) == (1, 1)


def test_no_table_row_holds_a_reviewer_name(world: World) -> None:
    book_id = world.book(world.shelf())
    world.feedback(book_id, 4, first_name="Grace", last_name="Hopper")
    world.project()

    assert "Hopper" not in repr(world.rows("feedbacks"))
    assert "Grace" not in repr(world.rows("feedbacks"))


def test_an_erased_reviewer_shows_as_erased_and_the_rest_still_reads(world: World) -> None:
    book_id = world.book(world.shelf())
    forgotten = world.feedback(book_id, 2, first_name="Ada", last_name="Byron", comment="Hm.")
    world.feedback(book_id, 5, first_name="Grace", last_name="Hopper")
    world.project()

    world.keys.forget(forgotten)  # no event: the model shows it at once

    by_id = {f.id: f for f in feedbacks(world, book_id).items}
    assert (by_id[forgotten].first_name, by_id[forgotten].last_name) == (ERASED, ERASED)
    assert (by_id[forgotten].comment, by_id[forgotten].rating) == ("Hm.", 2)
    assert [f.last_name for f in by_id.values() if f.id != forgotten] == ["Hopper"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (FeedbackQuery(), [3, 1, 5, 4]),  # newest first
        (FeedbackQuery(descending=False), [4, 5, 1, 3]),
        (FeedbackQuery(sort=FeedbackSort.RATING), [5, 4, 3, 1]),
        (FeedbackQuery(sort=FeedbackSort.RATING, descending=False), [1, 3, 4, 5]),
    ],
)
def test_sorted_by_date_or_rating(world: World, query: FeedbackQuery, expected: list[int]) -> None:
    book_id = world.book(world.shelf())
    for rating in (4, 5, 1, 3):
        world.feedback(book_id, rating)

    assert [f.rating for f in feedbacks(world, book_id, query).items] == expected


def test_equal_ratings_show_the_newest_first(world: World) -> None:
    book_id = world.book(world.shelf())
    first, second, third = (world.feedback(book_id, 5) for _ in range(3))

    query = FeedbackQuery(sort=FeedbackSort.RATING)
    assert [f.id for f in feedbacks(world, book_id, query).items] == [third, second, first]


def test_paged_to_the_last_page_and_beyond(world: World) -> None:
    book_id = world.book(world.shelf())
    for rating in (1, 2, 3, 4, 5):
        world.feedback(book_id, rating)
    oldest_first = FeedbackQuery(descending=False)

    second = feedbacks(world, book_id, oldest_first, PageRequest(page=2, page_size=2))
    last = feedbacks(world, book_id, oldest_first, PageRequest(page=3, page_size=2))
    beyond = feedbacks(world, book_id, oldest_first, PageRequest(page=4, page_size=2))

    assert [f.rating for f in second.items] == [3, 4]
    assert (second.has_previous, second.has_next) == (True, True)
    assert ([f.rating for f in last.items], last.has_next) == ([5], False)
    assert (beyond.items, beyond.total_items, beyond.total_pages) == ([], 5, 3)


def test_deleted_and_rejected_feedbacks_are_gone_and_others_books_apart(world: World) -> None:
    shelf = world.shelf()
    book_id, other = world.book(shelf), world.book(shelf)
    kept = world.feedback(book_id, 3)
    deleted = world.feedback(book_id, 1)
    rejected = world.feedback(book_id, 2)
    world.feedback(other, 5)
    world.project()
    world.bus.dispatch(DeleteFeedback(feedback_id=deleted))
    world.bus.dispatch(RejectFeedback(feedback_id=rejected, reason=RejectionReason.BOOK_DELETED))

    page = feedbacks(world, book_id)

    assert [f.id for f in page.items] == [kept]
    assert page.total_items == 1
    assert feedbacks(world, uuid.uuid4()).model_dump()["items"] == []


def test_a_replayed_creation_does_not_bring_a_deleted_feedback_back(world: World) -> None:
    book_id = world.book(world.shelf())
    deleted = world.feedback(book_id, 1)
    world.bus.dispatch(DeleteFeedback(feedback_id=deleted))
    world.project()
    projection = world.projections["feedbacks"]
    again = [e for e in world.store.read_all() if e.stream == f"feedback-{deleted}"][:1]

    with world.db.target.transaction() as tx:
        projection.apply(again, tx, 1)

    assert [e.type for e in again] == ["FeedbackCreated"]
    assert feedbacks(world, book_id).total_items == 0
