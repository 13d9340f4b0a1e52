"""Ratings in `book_catalog`: counted per feedback id from the Rating events, so deletions and
rejections subtract exactly once and a replayed event changes nothing."""

from __future__ import annotations

import uuid

from pipelines.runner import RunnerSettings
from read_side.queries.catalog import book_detail
from tests.read_side.catalog.conftest import World
from write_side.rating import DeleteFeedback, RejectFeedback, RejectionReason


def figures(world: World, book_id: uuid.UUID) -> tuple[int, float]:
    """Then: the book's total reviews and average rating."""
    detail = world.ask(book_detail, book_id)
    assert detail is not None
    return detail.total_reviews, detail.average_rating


def test_a_book_without_feedback_has_no_reviews_and_average_zero(world: World) -> None:
    book_id = world.book(world.shelf())

    assert figures(world, book_id) == (0, 0.0)


def test_the_average_is_the_sum_over_the_count(world: World) -> None:
    book_id = world.book(world.shelf())
    for rating in (5, 4, 2):
        world.feedback(book_id, rating)

    assert figures(world, book_id) == (3, 11 / 3)


def test_a_zero_rating_counts(world: World) -> None:
    book_id = world.book(world.shelf())
    world.feedback(book_id, 0)
    world.feedback(book_id, 5)

    assert figures(world, book_id) == (2, 2.5)


def test_deleted_and_rejected_feedback_are_subtracted_once(world: World) -> None:
    book_id = world.book(world.shelf())
    kept = world.feedback(book_id, 4)
    deleted = world.feedback(book_id, 1)
    rejected = world.feedback(book_id, 2)
    assert figures(world, book_id) == (3, 7 / 3)

    world.bus.dispatch(DeleteFeedback(feedback_id=deleted))
    world.bus.dispatch(RejectFeedback(feedback_id=rejected, reason=RejectionReason.BOOK_DELETED))
    world.bus.dispatch(RejectFeedback(feedback_id=deleted, reason=RejectionReason.BOOK_DELETED))

    assert figures(world, book_id) == (1, 4.0)
    world.bus.dispatch(DeleteFeedback(feedback_id=kept))
    assert figures(world, book_id) == (0, 0.0)


def test_feedback_created_and_deleted_in_one_batch_never_counts(world: World) -> None:
    book_id = world.book(world.shelf())
    world.feedback(book_id, 3)
    gone = world.feedback(book_id, 5)
    world.bus.dispatch(DeleteFeedback(feedback_id=gone))
    world.project(RunnerSettings())

    assert figures(world, book_id) == (1, 3.0)


def test_feedback_on_another_book_leaves_this_one_alone(world: World) -> None:
    shelf = world.shelf()
    book_id, other = world.book(shelf), world.book(shelf)
    world.feedback(other, 1)
    world.feedback(book_id, 5)

    assert figures(world, book_id) == (1, 5.0)
    assert figures(world, other) == (1, 1.0)


def test_feedback_on_an_unknown_book_shows_nowhere_and_its_rejection_is_harmless(
    world: World,
) -> None:
    book_id = world.book(world.shelf())
    world.feedback(book_id, 4)
    stray = world.feedback(uuid.uuid4(), 1)
    world.project()
    world.bus.dispatch(RejectFeedback(feedback_id=stray, reason=RejectionReason.BOOK_NOT_FOUND))

    assert figures(world, book_id) == (1, 4.0)


def test_replaying_the_whole_history_changes_nothing(world: World) -> None:
    shelf = world.shelf()
    book_id, other = world.book(shelf), world.book(shelf)
    for rating in (5, 3):
        world.feedback(book_id, rating)
    deleted = world.feedback(book_id, 1)
    world.bus.dispatch(DeleteFeedback(feedback_id=deleted))
    world.feedback(other, 2)
    world.project()
    before = {name: world.rows(name) for name in ("book_catalog", "book_catalog_ratings")}

    # At-least-once delivery: the same events again, on top of the model they built.
    projection = world.projections["book_catalog"]
    events = list(world.store.read_all(filter=projection.handles))
    with world.db.target.transaction() as tx:
        projection.apply(events, tx, 1)
    # And the creation of the deleted feedback alone, once more.
    again = [e for e in events if e.stream == f"feedback-{deleted}"][:1]
    assert [e.type for e in again] == ["FeedbackCreated"]
    with world.db.target.transaction() as tx:
        projection.apply(again, tx, 1)

    assert {name: world.rows(name) for name in before} == before
    assert figures(world, book_id) == (2, 4.0)
