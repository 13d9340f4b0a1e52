"""Placing an order: given a buyer, a basket and books, when PlaceOrder, then OrderPlaced or the
rule broken.

DOMAIN.md, Ordering: the buyer exists; the basket exists and is not empty; every book exists,
is not deleted and is in stock; items carry book id, name, quantity and unit price (the discount
price if any, else the price, read at placement); total = sum of quantity x unit price; the
buyer's name and email are captured in OrderPlaced; idempotent by request id.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from tests.domain.shop import Shop, lines, rule_of
from write_side.basket import (
    Basket,
    BasketCreated,
    BasketItemAdded,
    CheckoutBasket,
    DeleteBasket,
)
from write_side.domain import NotFound
from write_side.ids import derive_id
from write_side.ordering import (
    DeleteBuyer,
    ForgetBuyer,
    Order,
    OrderLine,
    OrderPlaced,
    OrderStatus,
    PlaceOrder,
)
from write_side.ordering.order import total_of


def place(buyer: UUID) -> PlaceOrder:
    return PlaceOrder(buyer_id=buyer, actor=str(buyer))


def test_an_order_is_placed_from_the_basket_priced_now(shop: Shop) -> None:
    buyer = shop.buyer(name="Grace Hopper", email="grace@navy.example")
    dune = shop.books.create("Dune", price="19.99")
    emma = shop.books.create("Emma", price="10.00", discount="0.10")
    shop.fill_basket(buyer, {dune: 3, emma: 7})
    command = place(buyer)

    [placed] = shop.when(command)

    assert isinstance(placed, OrderPlaced)
    assert placed.order_id == command.order_id == derive_id(command.command_id, "order")
    assert placed.buyer_id == buyer
    assert placed.items == (
        OrderLine(book_id=dune, book_name="Dune", quantity=3, unit_price=Decimal("19.99")),
        OrderLine(book_id=emma, book_name="Emma", quantity=7, unit_price=Decimal("0.10")),
    )
    assert placed.total == Decimal("60.67")  # 59.97 + 0.70, exact
    assert isinstance(placed.total, Decimal)
    assert placed.buyer.subject == buyer
    assert placed.buyer.require().model_dump() == {
        "name": "Grace Hopper",
        "email": "grace@navy.example",
    }
    order = shop.repository.load(Order, command.order_id)
    assert (order.status, order.total, order.deleted) == (OrderStatus.NEW, Decimal("60.67"), False)


def test_the_total_is_exact_for_many_cents() -> None:
    items = tuple(
        OrderLine(book_id=uuid4(), book_name="Cheap", quantity=3, unit_price=Decimal("0.10"))
        for _ in range(10)
    )

    assert total_of(items) == Decimal("3.00")  # 30 x 0.1 in floats would not be


def test_prices_are_those_read_at_placement(shop: Shop) -> None:
    buyer, book = shop.buyer(), shop.books.create("Dune", price="20.00", discount="15.00")
    shop.fill_basket(buyer, {book: 2})
    order = shop.order(buyer)

    shop.books.change_price(book, "99.00")

    placed = shop.repository.load(Order, order)
    assert [line.unit_price for line in placed.items] == [Decimal("15.00")]
    assert placed.total == Decimal("30.00")


def test_the_buyer_must_exist(shop: Shop) -> None:
    buyer = uuid4()
    shop.fill_basket(buyer, {shop.books.create(): 1})

    error = shop.rejects(place(buyer))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("buyer_not_found", "buyer_id")


@pytest.mark.parametrize(
    ("command", "rule"), [(DeleteBuyer, "buyer_deleted"), (ForgetBuyer, "buyer_forgotten")]
)
def test_a_deleted_or_forgotten_buyer_cannot_order(
    shop: Shop, command: type[DeleteBuyer | ForgetBuyer], rule: str
) -> None:
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 1})
    shop.send(command(buyer_id=buyer, actor="admin"))

    error = shop.rejects(place(buyer))

    assert rule_of(error) == (rule, "buyer_id")


@pytest.mark.parametrize("history", ["never filled", "deleted", "checked out"])
def test_the_basket_must_exist(shop: Shop, history: str) -> None:
    buyer, book = shop.buyer(), shop.books.create()
    if history != "never filled":
        shop.fill_basket(buyer, {book: 1})
    if history == "deleted":
        shop.send(DeleteBasket(buyer_id=buyer))
    if history == "checked out":
        shop.send(CheckoutBasket(buyer_id=buyer, order_id=uuid4(), items=lines({book: 1})))

    error = shop.rejects(place(buyer))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("basket_not_found", None)


def test_the_basket_must_not_be_empty(shop: Shop) -> None:
    buyer = shop.buyer()
    shop.given(Basket.stream_for(buyer), BasketCreated(buyer_id=buyer))

    error = shop.rejects(place(buyer))

    assert rule_of(error) == ("basket_empty", None)


def test_every_book_must_exist(shop: Shop) -> None:
    buyer, book, gone = shop.buyer(), shop.books.create(), uuid4()
    shop.given(
        Basket.stream_for(buyer),
        BasketCreated(buyer_id=buyer),
        BasketItemAdded(book_id=book, quantity=1),
        BasketItemAdded(book_id=gone, quantity=1),
    )

    error = shop.rejects(place(buyer))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("book_not_found", None)
    assert str(gone) in str(error)


def test_no_book_may_be_deleted(shop: Shop) -> None:
    buyer, kept, deleted = shop.buyer(), shop.books.create(), shop.books.create()
    shop.fill_basket(buyer, {kept: 1, deleted: 1})
    shop.books.delete(deleted)

    error = shop.rejects(place(buyer))

    assert rule_of(error) == ("book_deleted", None)
    assert str(deleted) in str(error)


def test_every_book_must_be_in_stock(shop: Shop) -> None:
    buyer, book = shop.buyer(), shop.books.create(in_stock=False)
    shop.fill_basket(buyer, {book: 1})

    error = shop.rejects(place(buyer))
    shop.books.set_stock(book, in_stock=True)
    placed = shop.when(place(buyer))

    assert rule_of(error) == ("book_out_of_stock", None)
    assert [type(event) for event in placed] == [OrderPlaced]


def test_the_same_request_places_one_order_even_once_the_basket_is_gone(shop: Shop) -> None:
    buyer, book = shop.buyer(), shop.books.create()
    shop.fill_basket(buyer, {book: 1})
    command = place(buyer)
    first = shop.send(command)
    shop.send(CheckoutBasket(buyer_id=buyer, order_id=command.order_id, items=lines({book: 1})))

    again = shop.send(command)  # the client retries with the same Idempotency-Key

    assert again.replayed
    assert (again.aggregate_id, again.revision) == (first.aggregate_id, first.revision)
    assert shop.revision(Order.stream_for(command.order_id)) == 0


def test_another_request_places_another_order(shop: Shop) -> None:
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 1})

    first, second = shop.order(buyer), shop.order(buyer)

    assert first != second  # one placement at a time per buyer is the API's lock, not a rule here
