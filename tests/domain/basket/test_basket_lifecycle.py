"""Checkout (asked by the order saga), deletion, and the snapshots of a basket's lifelong stream.

DOMAIN.md, Basket: checkout fails when the basket no longer holds what the order was placed
from (deleted, emptied, changed or already checked out); that failure is an event the saga
reacts to, and a checkout is idempotent per order id.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import orjson
import pytest

from tests.domain.shop import Shop, lines, rule_of
from write_side.basket import (
    Basket,
    BasketCheckedOut,
    BasketCheckoutFailed,
    BasketCreated,
    BasketDeleted,
    BasketItemAdded,
    CheckoutBasket,
    CheckoutFailure,
    DeleteBasket,
    UpdateBasket,
)
from write_side.domain import NotFound, snapshot_stream


def checkout(buyer: UUID, order: UUID, items: dict[UUID, int]) -> CheckoutBasket:
    return CheckoutBasket(buyer_id=buyer, order_id=order, items=lines(items), actor="system:saga")


def open_basket(shop: Shop, buyer: UUID, items: dict[UUID, int]) -> None:
    shop.given(
        Basket.stream_for(buyer),
        BasketCreated(buyer_id=buyer),
        *(BasketItemAdded(book_id=book, quantity=qty) for book, qty in items.items()),
    )


def test_a_basket_holding_what_the_order_was_placed_from_is_checked_out(shop: Shop) -> None:
    buyer, order, dune, emma = uuid4(), uuid4(), uuid4(), uuid4()
    open_basket(shop, buyer, {dune: 1, emma: 2})

    then = shop.when(checkout(buyer, order, {emma: 2, dune: 1}))

    assert then == [BasketCheckedOut(order_id=order)]
    closed = shop.repository.load(Basket, buyer)
    assert (closed.is_open, closed.items, closed.checkouts) == (False, {}, {order: True})


@pytest.mark.parametrize(
    "placed_from",
    [{"dune": 2}, {"dune": 1, "emma": 1}, {"emma": 1}],
    ids=["another quantity", "another book more", "another book instead"],
)
def test_a_changed_basket_fails_the_checkout(shop: Shop, placed_from: dict[str, int]) -> None:
    buyer, order = uuid4(), uuid4()
    books = {"dune": uuid4(), "emma": uuid4()}
    open_basket(shop, buyer, {books["dune"]: 1})

    then = shop.when(checkout(buyer, order, {books[n]: q for n, q in placed_from.items()}))

    assert then == [BasketCheckoutFailed(order_id=order, reason=CheckoutFailure.CHANGED.value)]
    assert shop.repository.load(Basket, buyer).items == {books["dune"]: 1}  # still open


def test_a_deleted_basket_fails_the_checkout(shop: Shop) -> None:
    buyer, order, book = uuid4(), uuid4(), uuid4()
    open_basket(shop, buyer, {book: 1})
    shop.given(Basket.stream_for(buyer), BasketDeleted(reason="deleted by the buyer"))

    then = shop.when(checkout(buyer, order, {book: 1}))

    assert then == [BasketCheckoutFailed(order_id=order, reason="basket_deleted")]


def test_a_basket_checked_out_by_another_order_fails_the_checkout(shop: Shop) -> None:
    buyer, first, second, book = uuid4(), uuid4(), uuid4(), uuid4()
    open_basket(shop, buyer, {book: 1})
    shop.given(Basket.stream_for(buyer), BasketCheckedOut(order_id=first))

    then = shop.when(checkout(buyer, second, {book: 1}))

    assert then == [BasketCheckoutFailed(order_id=second, reason="basket_checked_out")]


def test_a_buyer_without_a_basket_fails_the_checkout(shop: Shop) -> None:
    buyer, order = uuid4(), uuid4()

    then = shop.when(checkout(buyer, order, {uuid4(): 1}))

    assert then == [BasketCheckoutFailed(order_id=order, reason="basket_not_found")]


@pytest.mark.parametrize("succeeds", [True, False], ids=["checked out", "failed"])
def test_a_checkout_is_answered_once_per_order(shop: Shop, succeeds: bool) -> None:
    buyer, order, book = uuid4(), uuid4(), uuid4()
    open_basket(shop, buyer, {book: 1})
    first = shop.when(checkout(buyer, order, {book: 1 if succeeds else 2}))

    # The saga asks again (a timeout raced the answer): another command, the same order.
    again = shop.when(checkout(buyer, order, {book: 1}))

    assert [type(event) for event in first] == [
        BasketCheckedOut if succeeds else BasketCheckoutFailed
    ]
    assert again == []


def test_deleting_the_basket_closes_it(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    shop.fill_basket(buyer, {book: 1})

    then = shop.when(DeleteBasket(buyer_id=buyer, reason="changed my mind"))

    assert then == [BasketDeleted(reason="changed my mind")]
    assert not shop.repository.load(Basket, buyer).is_open


@pytest.mark.parametrize("history", ["never opened", "deleted", "checked out"])
def test_only_an_open_basket_can_be_deleted(shop: Shop, history: str) -> None:
    buyer, book = uuid4(), shop.books.create()
    if history != "never opened":
        shop.fill_basket(buyer, {book: 1})
    if history == "deleted":
        shop.send(DeleteBasket(buyer_id=buyer))
    if history == "checked out":
        shop.send(checkout(buyer, uuid4(), {book: 1}))

    error = shop.rejects(DeleteBasket(buyer_id=buyer))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("basket_not_found", "buyer_id")


def test_the_lifelong_basket_is_loaded_from_its_snapshot(shop: Shop) -> None:
    buyer, order = uuid4(), uuid4()
    books = [shop.books.create(f"Book {n}") for n in range(4)]
    shop.fill_basket(buyer, {books[0]: 1})
    shop.send(checkout(buyer, order, {books[0]: 1}))  # 3 events, remembered in the snapshot
    for round_ in range(10):  # 3 events each: 33 in all, a snapshot at 20
        items = {books[round_ % 4]: round_ + 1, books[(round_ + 1) % 4]: 1}
        shop.send(UpdateBasket(buyer_id=buyer, items=lines(items)))
    stream = Basket.stream_for(buyer)

    [snapshot] = shop.repository.store.read_stream(snapshot_stream(stream))
    state = orjson.loads(snapshot.data)["state"]
    loaded = shop.repository.load(Basket, buyer)
    replayed = Basket(id=buyer)
    for revision, event in enumerate(shop.events(stream)):
        replayed.apply(event)
        replayed.version = revision

    assert Basket.snapshot_every == 20
    assert 19 <= state["version"] < shop.revision(stream)
    assert state["checkouts"] == {str(order): True}
    assert loaded.model_dump(exclude={"handled"}) == replayed.model_dump(exclude={"handled"})
    assert (loaded.status, loaded.items) == ("open", {books[1]: 10, books[2]: 1})
    assert loaded.checkouts == {order: True}
    assert len(loaded.handled) == 12  # every command remembered, snapshot included
