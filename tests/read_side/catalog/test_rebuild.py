"""A blue/green rebuild of each query model equals the live one, row for row: the live build
grew batch by batch beside the commands, the rebuild read the whole history in one go."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import pytest

from pipelines.rebuild import rebuild
from pipelines.runner import RunnerSettings
from tests.read_side.catalog.conftest import World
from write_side.catalog import (
    BookStatus,
    ChangeBookAuthors,
    ChangeBookCategory,
    CreateAuthor,
    DeleteBook,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.rating import DeleteFeedback, RejectFeedback, RejectionReason


def busy_history(world: World, seed: int) -> None:
    """Books, renames, moves, price and stock changes, deletions and feedback, with the live
    builds catching up now and then in between."""
    rng = random.Random(seed)
    shelves = [world.shelf() for _ in range(3)]
    books: list[uuid.UUID] = []
    feedback: list[uuid.UUID] = []
    for step in range(60):
        shelf = rng.choice(shelves)
        roll = rng.random()
        if roll < 0.3 or not books:
            price = Decimal(rng.randint(100, 9000)) / 100
            books.append(world.book(shelf, name=f"Book {step}", price=price, discount_price=None))
        elif roll < 0.5:
            feedback.append(world.feedback(rng.choice(books), rng.randint(0, 5)))
        elif roll < 0.55 and feedback:
            world.bus.dispatch(
                DeleteFeedback(feedback_id=feedback.pop(rng.randrange(len(feedback))))
            )
        elif roll < 0.6 and feedback:
            reason = RejectionReason.BOOK_NOT_FOUND
            world.bus.dispatch(RejectFeedback(feedback_id=feedback.pop(0), reason=reason))
        elif roll < 0.65:
            world.reprice(rng.choice(books), f"{rng.randint(1, 99)}.50")
        elif roll < 0.7:
            world.bus.dispatch(RenameCategory(category_id=shelf.category_id, name=f"Cat {step}"))
        elif roll < 0.73:
            world.bus.dispatch(RenamePublisher(publisher_id=shelf.publisher_id, name=f"Pub {step}"))
        elif roll < 0.76:
            world.bus.dispatch(RenameAuthor(author_id=shelf.author_ids[1], name=f"Author {step}"))
        elif roll < 0.8:
            author = world.bus.dispatch(CreateAuthor(name=f"New {step}")).aggregate_id
            world.bus.dispatch(
                ChangeBookAuthors(book_id=rng.choice(books), author_ids=(author, *shelf.author_ids))
            )
        elif roll < 0.84:
            world.bus.dispatch(
                ChangeBookCategory(book_id=rng.choice(books), category_id=shelf.category_id)
            )
        elif roll < 0.88:
            status = rng.choice(list(BookStatus))
            world.bus.dispatch(SetBookStock(book_id=rng.choice(books), status=status))
        elif roll < 0.93:
            world.bus.dispatch(
                UpdateBookDetails(
                    book_id=rng.choice(books), name=f"Retitled {step}", description=f"Text {step}"
                )
            )
        elif len(books) > 3:
            world.bus.dispatch(DeleteBook(book_id=books.pop(rng.randrange(len(books)))))
        if rng.random() < 0.2:
            world.project(RunnerSettings(batch_size=rng.randint(1, 7)))
    world.project()


@pytest.mark.parametrize("seed", [8, 13, 2026])
def test_each_rebuild_equals_its_live_build_row_for_row(world: World, seed: int) -> None:
    busy_history(world, seed)

    for name, projection in world.projections.items():
        views = [f"{name}{f'_{s}' if s else ''}" for s in projection.tables()]
        live = {view: world.rows(view.replace(name, f"{name}_v1", 1)) for view in views}
        seen = {view: world.rows(view) for view in views}
        assert live[name], f"{name} is empty: the history did not exercise it"

        result = rebuild(world.store, projection, world.db.target)

        assert (result.replaced, result.live) == (1, 2)
        rebuilt = {view: world.rows(view.replace(name, f"{name}_v2", 1)) for view in views}
        assert rebuilt == live, name
        assert {view: world.rows(view) for view in views} == seen, name
