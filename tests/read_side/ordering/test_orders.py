"""The `order_history` query model: a page of orders newest first, by status, per buyer; an
order with its items and status history; who may see what."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from read_side.queries.ordering import (
    Caller,
    NotAllowed,
    OrderLineView,
    get_order,
    list_orders,
)
from read_side.queries.paging import PageRequest
from tests.read_side.ordering.world import World
from write_side import ordering
from write_side.ordering import OrderStatus

ADMIN = Caller.administrator()


def place(world: World, buyer: uuid.UUID, *books: tuple[uuid.UUID, int]) -> uuid.UUID:
    """The buyer fills its basket with `books` and orders it, a minute later than before."""
    world.later()
    world.shop.fill_basket(buyer, dict(books))
    return world.shop.order(buyer)


def test_given_an_order_its_detail_has_items_prices_and_the_new_status(world: World) -> None:
    dune = world.shop.books.create("Dune", "9.99")
    emma = world.shop.books.create("Emma", "12.00", discount="8.50")
    ada = world.shop.buyer("Ada Lovelace", "ada@example.org")
    order_id = place(world, ada, (dune, 2), (emma, 1))
    placed_at = world.clock.now()

    world.catch_up()

    order = world.ask(get_order, Caller.user(ada), order_id)
    assert order is not None
    assert (order.buyer_id, order.buyer_name, order.buyer_email) == (
        ada,
        "Ada Lovelace",
        "ada@example.org",
    )
    assert order.items == [
        OrderLineView(book_id=dune, book_name="Dune", quantity=2, unit_price=Decimal("9.99")),
        OrderLineView(book_id=emma, book_name="Emma", quantity=1, unit_price=Decimal("8.50")),
    ]
    assert (order.status, order.total, order.item_count) == (
        OrderStatus.NEW,
        Decimal("28.48"),
        2,
    )
    assert [(h.status, h.occurred_at) for h in order.history] == [("New", placed_at)]


def test_the_status_history_records_each_change_at_its_business_time(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    completed = place(world, ada, (book, 1))
    placed_at = world.clock.now()
    cancelled = place(world, ada, (book, 3))
    world.later(5)
    world.shop.send(ordering.CompleteOrder(order_id=completed))
    completed_at = world.clock.now()
    world.later(5)
    world.shop.send(
        ordering.CancelOrder(order_id=cancelled, roles=frozenset({"admin"}), reason="no stock")
    )

    world.catch_up()

    done = world.ask(get_order, ADMIN, completed)
    gone = world.ask(get_order, ADMIN, cancelled)
    assert done is not None
    assert gone is not None
    assert done.status == OrderStatus.COMPLETED
    assert [(h.status, h.reason) for h in done.history] == [("New", None), ("Completed", None)]
    assert [h.occurred_at for h in done.history] == [placed_at, completed_at]
    assert gone.status == OrderStatus.CANCELLED
    assert [(h.status, h.reason) for h in gone.history] == [
        ("New", None),
        ("Cancelled", "no stock"),
    ]
    assert gone.history[1].occurred_at == world.clock.now() == gone.updated_at


def test_orders_are_listed_newest_first_and_filtered_by_status(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    first, second, third = (place(world, ada, (book, n)) for n in (1, 2, 3))
    world.shop.send(ordering.CompleteOrder(order_id=second))
    world.catch_up()

    every = world.ask(list_orders, Caller.user(ada))
    new = world.ask(list_orders, Caller.user(ada), status=OrderStatus.NEW)
    completed = world.ask(list_orders, Caller.user(ada), status=OrderStatus.COMPLETED)
    cancelled = world.ask(list_orders, Caller.user(ada), status=OrderStatus.CANCELLED)

    assert [o.order_id for o in every.items] == [third, second, first]
    assert [o.order_id for o in new.items] == [third, first]
    assert [o.order_id for o in completed.items] == [second]
    assert (cancelled.items, cancelled.total_items) == ([], 0)
    assert [o.total for o in every.items] == [Decimal("29.97"), Decimal("19.98"), Decimal("9.99")]


def test_orders_placed_at_the_same_business_time_list_last_placed_first(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {book: 1})
    first = world.shop.order(ada)
    world.shop.fill_basket(ada, {book: 2})
    second = world.shop.order(ada)
    world.catch_up()

    listed = world.ask(list_orders, Caller.user(ada))

    assert [o.order_id for o in listed.items] == [second, first]


def test_paging_edges(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    placed = [place(world, ada, (book, 1)) for _ in range(5)]
    newest_first = placed[::-1]
    world.catch_up()

    def page(n: int, size: int) -> list[uuid.UUID]:
        answer = world.ask(list_orders, ADMIN, page=PageRequest(page=n, page_size=size))
        assert answer.total_items == 5
        return [o.order_id for o in answer.items]

    assert page(1, 2) == newest_first[:2]
    assert page(2, 2) == newest_first[2:4]
    assert page(3, 2) == newest_first[4:]
    assert page(4, 2) == []
    assert page(1, 5) == newest_first
    assert page(1, 100) == newest_first
    last = world.ask(list_orders, ADMIN, page=PageRequest(page=3, page_size=2))
    assert (last.total_pages, last.has_previous, last.has_next) == (3, True, False)
    exact = world.ask(list_orders, ADMIN, page=PageRequest(page=1, page_size=5))
    assert (exact.total_pages, exact.has_previous, exact.has_next) == (1, False, False)


def test_a_user_sees_only_its_own_orders_and_an_admin_sees_all(world: World) -> None:
    book = world.shop.books.create()
    ada, charles = world.shop.buyer("Ada"), world.shop.buyer("Charles", "cb@example.org")
    adas = place(world, ada, (book, 1))
    charles_order = place(world, charles, (book, 2))
    world.catch_up()

    mine = world.ask(list_orders, Caller.user(ada))
    everyone = world.ask(list_orders, ADMIN)
    of_charles = world.ask(list_orders, ADMIN, buyer_id=charles)

    assert [o.order_id for o in mine.items] == [adas]
    assert [o.order_id for o in everyone.items] == [charles_order, adas]
    assert [o.order_id for o in of_charles.items] == [charles_order]
    assert world.ask(get_order, Caller.user(ada), charles_order) is None
    assert world.ask(get_order, Caller.user(charles), charles_order) is not None
    with pytest.raises(NotAllowed):
        world.ask(list_orders, Caller.user(ada), buyer_id=charles)
    assert world.ask(get_order, ADMIN, uuid.uuid4()) is None


def test_a_deleted_order_is_hidden_except_from_an_admin_who_asks(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    kept, deleted = place(world, ada, (book, 1)), place(world, ada, (book, 2))
    world.later()
    world.shop.send(ordering.DeleteOrder(order_id=deleted, reason="test order"))
    world.catch_up()

    users = world.ask(list_orders, Caller.user(ada))
    admins = world.ask(list_orders, ADMIN)
    with_deleted = world.ask(list_orders, ADMIN, include_deleted=True)
    detail = world.ask(get_order, ADMIN, deleted)

    assert [o.order_id for o in users.items] == [kept]
    assert [o.order_id for o in admins.items] == [kept]
    assert [(o.order_id, o.deleted) for o in with_deleted.items] == [
        (deleted, True),
        (kept, False),
    ]
    assert world.ask(get_order, Caller.user(ada), deleted) is None
    assert detail is not None
    assert detail.deleted
    assert detail.status == OrderStatus.NEW
    assert [(h.status, h.reason) for h in detail.history] == [
        ("New", None),
        ("Deleted", "test order"),
    ]
    # A user cannot widen its view by asking for deleted orders.
    assert world.ask(list_orders, Caller.user(ada), include_deleted=True).total_items == 1


def test_orders_placed_after_a_catch_up_appear_after_the_next(world: World) -> None:
    book = world.shop.books.create()
    ada = world.shop.buyer()
    first = place(world, ada, (book, 1))
    world.catch_up()
    second = place(world, ada, (book, 1))
    world.shop.send(ordering.CompleteOrder(order_id=first))

    world.catch_up()

    listed = world.ask(list_orders, Caller.user(ada))
    assert [(o.order_id, o.status) for o in listed.items] == [
        (second, OrderStatus.NEW),
        (first, OrderStatus.COMPLETED),
    ]
