"""Buyers: people who sign up, browse, fill and change a basket, then order it or walk away.

An order is placed, then shipped (completed) by the staff a few days later, or cancelled by the
buyer the same day or by the staff; shipped books are often reviewed. A buyer places one order
at most: the basket is checked out by the order saga, which runs after the simulation (in the
worker), and a buyer who changed the basket after ordering would make that checkout fail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.simulator.acting import Stage, office_minute, waking_minute
from api.simulator.genres_nonfiction import GENRES
from api.simulator.people import Person, address, email_of
from api.simulator.readers import Reviewer
from api.simulator.shelf import Shelf
from write_side import basket, ordering

#: Shares of buyers: those who order (the others walk away, some deleting the basket first),
#: move house, and ask to be forgotten after their last visit.
ORDERS = 0.62
DELETES_BASKET = 0.10
MOVES = 0.04
FORGOTTEN = 0.01
#: Shares of orders: cancelled by the buyer the same day, by the staff, and completed orders
#: whose buyer tries to cancel them later (the store refuses: `order_not_new`).
CANCELLED_BY_BUYER = 0.07
CANCELLED_BY_STAFF = 0.04
CANCEL_TOO_LATE = 0.02
#: Share of the books of a completed order that its buyer reviews.
REVIEWED = 0.4
#: Share of basket changes that name a book deleted since the buyer's page was loaded.
STALE_PAGE = 0.015
#: How many visits a buyer makes, books picked on the first, basket changes on each later one
#: (each drawn from these).
VISITS = (1, 2, 2, 3, 3, 4, 5)
FIRST_PICKS = (1, 2, 2, 3, 3, 4, 5)
CHANGES_A_VISIT = (1, 1, 2, 3)
_GENRE_WEIGHTS = [genre.weight for genre in GENRES]
_CANCEL_REASONS = ("changed my mind", "ordered by mistake", "found it cheaper", "too slow")


@dataclass
class PlacedOrder:
    """An order as its buyer knows it: its id, its books and its status."""

    id: UUID
    books: tuple[UUID, ...]
    status: str = "New"


class Buyer(Reviewer):
    """A signed-up customer (buyer id = user id = basket id)."""

    def __init__(self, index: int, person: Person, shelf: Shelf, day: int, minute: int) -> None:
        super().__init__("buyer", index, person, shelf)
        self.id: UUID | None = None
        self.genres: tuple[int, ...] = ()
        self.basket: dict[UUID, int] = {}
        self.visits_left = 0
        self.order: PlacedOrder | None = None
        self.forget_me = False
        self.forgotten = False
        self.plan(day, minute, self.join)

    @property
    def user(self) -> str | None:
        """The buyer's user id, sent as the actor of its own commands."""
        return None if self.id is None else str(self.id)

    @property
    def buyer_id(self) -> UUID:
        """The buyer's id (set when it signs up)."""
        if self.id is None:
            raise RuntimeError("the buyer has not signed up yet")
        return self.id

    # -- visits ------------------------------------------------------------------------------

    def join(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """Sign up, settle tastes and plans, and shop a first time."""
        rng = stage.rng
        self.id = stage.new_id()
        stage.require(
            ordering.CreateBuyer(
                buyer_id=self.id,
                name=self.person.name,
                email=email_of(self.person, rng),
                address=address(rng),
                **self._ids(stage),
            )
        )
        genres = rng.choices(range(len(GENRES)), weights=_GENRE_WEIGHTS, k=rng.choice((1, 2, 3)))
        self.genres = tuple(sorted(set(genres)))
        self.visits_left = rng.choice(VISITS)
        self.forget_me = rng.random() < FORGOTTEN
        if rng.random() < MOVES:
            self.plan(day + rng.randint(1, 30), waking_minute(rng), self.move)
        stage.pause()
        self.shop(stage, day, minute, None)

    def shop(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """Browse and change the basket; on the last visit, order it or walk away."""
        rng = stage.rng
        if not self.basket:
            self._fill(stage, rng)
        else:
            for _ in range(rng.choice(CHANGES_A_VISIT)):
                self._change(stage, rng)
        self.visits_left -= 1
        if self.visits_left > 0:
            if rng.random() < 0.3:
                self.plan(day, minute + rng.randint(20, 180), self.shop)
            else:
                self.plan(day + rng.randint(1, 5), waking_minute(rng), self.shop)
        elif self.basket:
            self._decide(stage, day, minute, rng)

    def move(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """Move house."""
        moved = ordering.ChangeBuyerAddress(
            buyer_id=self.buyer_id, address=address(stage.rng), **self._ids(stage)
        )
        stage.require(moved)

    def forget(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """The staff erase the buyer's personal data, as the buyer asked."""
        stage.require(
            ordering.ForgetBuyer(buyer_id=self.buyer_id, command_id=stage.new_id(), actor="admin")
        )
        self.forgotten = True

    def day_done(self, stage: Stage, day: int) -> None:
        """After the last task of all, a buyer who asked to be forgotten is."""
        if self.forget_me and not self.forgotten and not self.agenda:
            self.plan(day + stage.rng.randint(1, 10), office_minute(stage.rng), self.forget)

    # -- the basket ----------------------------------------------------------------------------

    def _fill(self, stage: Stage, rng: random.Random) -> None:
        wanted: dict[UUID, int] = {}
        for _ in range(rng.choice(FIRST_PICKS)):
            book = self.shelf.pick(rng, rng.choice(self.genres))
            if book is not None:
                wanted[book.id] = 2 if rng.random() < 0.1 else 1
        self._replace(stage, wanted)

    def _change(self, stage: Stage, rng: random.Random) -> None:
        chance = rng.random()
        if chance < STALE_PAGE:
            stale = self.shelf.pick_deleted(rng)
            if stale is not None:
                self._add(stage, stale.id)
        elif chance < 0.5:
            book = self.shelf.pick(rng, rng.choice(self.genres))
            if book is not None:
                self._add(stage, book.id)
        elif chance < 0.65:
            self._add(stage, rng.choice(list(self.basket)))
        else:
            wanted = dict(self.basket)
            book_id = rng.choice(list(wanted))
            if len(wanted) > 1 and rng.random() < 0.6:
                del wanted[book_id]
            else:
                wanted[book_id] = rng.choice((1, 2, 3))
            self._replace(stage, wanted)

    def _add(self, stage: Stage, book_id: UUID) -> None:
        added = basket.AddBasketItem(buyer_id=self.buyer_id, book_id=book_id, **self._ids(stage))
        if stage.send(added) is not None:
            self.basket[book_id] = self.basket.get(book_id, 0) + 1
        stage.pause()

    def _replace(self, stage: Stage, wanted: dict[UUID, int]) -> None:
        if not wanted or wanted == self.basket:
            return
        items = tuple(basket.BasketLine(book_id=b, quantity=q) for b, q in wanted.items())
        replaced = basket.UpdateBasket(buyer_id=self.buyer_id, items=items, **self._ids(stage))
        if stage.send(replaced) is not None:
            self.basket = wanted
        stage.pause()

    # -- the order -----------------------------------------------------------------------------

    def _decide(self, stage: Stage, day: int, minute: int, rng: random.Random) -> None:
        chance = rng.random()
        if chance < ORDERS:
            self._checkout(stage, day, minute, rng)
        elif chance < ORDERS + DELETES_BASKET:
            self._delete_basket(stage, rng.choice(_CANCEL_REASONS))

    def _checkout(self, stage: Stage, day: int, minute: int, rng: random.Random) -> None:
        """Order the basket; when a book cannot be sold, drop it and order the rest."""
        order_id = self._place(stage)
        if order_id is None:
            sellable = {b: q for b, q in self.basket.items() if self.shelf.find(b).sellable}
            if not sellable:
                self._delete_basket(stage, "nothing left to buy")
                return
            self._replace(stage, sellable)
            order_id = self._place(stage)
            if order_id is None:
                return
        self.order = PlacedOrder(order_id, tuple(self.basket))
        # The order saga checks the basket out; the buyer leaves it alone from now on.
        self.basket = {}
        if rng.random() < CANCELLED_BY_BUYER:
            self.plan(day, minute + rng.randint(10, 240), self.cancel)
        else:
            self.plan(day + rng.randint(1, 3), office_minute(rng), self.ship)

    def _place(self, stage: Stage) -> UUID | None:
        placing = ordering.PlaceOrder(buyer_id=self.buyer_id, **self._ids(stage))
        placed = stage.send(placing)
        stage.pause()
        return None if placed is None else placing.order_id

    def _delete_basket(self, stage: Stage, reason: str) -> None:
        deleting = basket.DeleteBasket(buyer_id=self.buyer_id, reason=reason, **self._ids(stage))
        stage.require(deleting)
        self.basket = {}

    def ship(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """The staff complete the order (ship it), or cancel it now and then."""
        rng, order = stage.rng, self._placed()
        if rng.random() < CANCELLED_BY_STAFF:
            cancelled = ordering.CancelOrder(
                order_id=order.id,
                roles=frozenset({"admin"}),
                reason="out of stock at the warehouse",
                command_id=stage.new_id(),
                actor="admin",
            )
            stage.require(cancelled)
            order.status = "Cancelled"
            return
        completed = ordering.CompleteOrder(
            order_id=order.id, command_id=stage.new_id(), actor="admin"
        )
        stage.require(completed)
        order.status = "Completed"
        for book_id in dict.fromkeys(order.books):
            if rng.random() < REVIEWED:
                self.plan(day + rng.randint(2, 14), waking_minute(rng), self.review, book_id)
        if rng.random() < CANCEL_TOO_LATE:
            self.plan(day + rng.randint(1, 3), waking_minute(rng), self.cancel)

    def cancel(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """The buyer cancels the order (refused once it is no longer New)."""
        order = self._placed()
        cancelling = ordering.CancelOrder(
            order_id=order.id,
            roles=frozenset({"user"}),
            reason=stage.rng.choice(_CANCEL_REASONS),
            **self._ids(stage),
        )
        if stage.send(cancelling) is not None:
            order.status = "Cancelled"

    def _placed(self) -> PlacedOrder:
        if self.order is None:
            raise RuntimeError("the buyer has placed no order")
        return self.order

    def _ids(self, stage: Stage) -> dict[str, Any]:
        return {"command_id": stage.new_id(), "actor": self.user}
