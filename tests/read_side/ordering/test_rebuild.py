"""A rebuild of each query model equals the live one row for row, after a random shop's day."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable

from sqlalchemy import text

from tests.domain.shop import lines
from tests.read_side.ordering.world import World
from write_side import basket, catalog, ordering
from write_side.domain import DomainError
from write_side.ordering import Address

#: Every stable view of this area's models.
VIEWS = (
    "buyers",
    "order_history",
    "order_history_items",
    "order_history_history",
    "order_history_forgotten",
    "baskets",
    "baskets_items",
    "baskets_books",
)


def a_day_of_trading(world: World, rng: random.Random, steps: int) -> None:
    """Random commands of buyers and admins; those that break a rule are refused, as live."""
    shop = world.shop
    books = [shop.books.create(f"Book {n}", f"{rng.randint(3, 40)}.99") for n in range(6)]
    buyers = [shop.buyer(f"Buyer {n}", f"buyer{n}@example.org") for n in range(8)]
    orders: list[uuid.UUID] = []

    def fill() -> None:
        chosen = rng.sample(books, rng.randint(1, 3))
        shop.fill_basket(rng.choice(buyers), {b: rng.randint(1, 4) for b in chosen})

    def add() -> None:
        shop.send(basket.AddBasketItem(buyer_id=rng.choice(buyers), book_id=rng.choice(books)))

    def place() -> None:
        buyer = rng.choice(buyers)
        order_id = shop.order(buyer)
        orders.append(order_id)
        placed = shop.events(f"order-{order_id}")[0]
        assert isinstance(placed, ordering.OrderPlaced)
        items = lines({line.book_id: line.quantity for line in placed.items})
        shop.send(basket.CheckoutBasket(buyer_id=buyer, order_id=order_id, items=items))

    def settle() -> None:
        if orders:
            order_id = rng.choice(orders)
            shop.send(
                rng.choice(
                    [
                        ordering.CompleteOrder(order_id=order_id),
                        ordering.CancelOrder(order_id=order_id, roles=frozenset({"admin"})),
                        ordering.DeleteOrder(order_id=order_id),
                    ]
                )
            )

    def change_book() -> None:
        book = rng.choice(books)
        if rng.random() < 0.5:
            shop.books.change_price(book, f"{rng.randint(3, 40)}.50")
        else:
            name = f"Book {rng.randint(100, 999)}"
            shop.send(catalog.UpdateBookDetails(book_id=book, name=name, description=""))

    def change_buyer() -> None:
        buyer = rng.choice(buyers)
        roll = rng.random()
        if roll < 0.6:
            moved = Address(
                street=f"{rng.randint(1, 99)} Baker Street", city="London", province="W"
            )
            shop.send(ordering.ChangeBuyerAddress(buyer_id=buyer, address=moved))
        elif roll < 0.8:
            shop.send(ordering.DeleteBuyer(buyer_id=buyer))
        else:
            shop.send(ordering.ForgetBuyer(buyer_id=buyer))

    def delete_basket() -> None:
        shop.send(basket.DeleteBasket(buyer_id=rng.choice(buyers)))

    moves: list[tuple[float, Callable[[], None]]] = [
        (5, fill),
        (3, add),
        (4, place),
        (3, settle),
        (2, change_book),
        (1, change_buyer),
        (1, delete_basket),
    ]
    for step in range(steps):
        (move,) = rng.choices([m for _, m in moves], weights=[w for w, _ in moves])
        world.later(rng.randint(0, 3))
        with contextlib.suppress(DomainError):
            move()
        if step == steps // 2:
            shop.send(ordering.ForgetBuyer(buyer_id=buyers[0]))
        if step % 25 == 24:
            world.catch_up()  # the live models are built in several runs, as a worker would


def live_builds(world: World) -> dict[str, int]:
    with world.connection() as conn:
        rows = conn.execute(text("SELECT projection, build FROM projection_live_builds"))
        return {row.projection: row.build for row in rows}


def test_a_rebuild_equals_the_live_models_row_for_row(world: World) -> None:
    a_day_of_trading(world, random.Random(8), steps=160)
    world.catch_up()
    live = {view: world.rows(view) for view in VIEWS}
    assert all(live[view] for view in ("buyers", "order_history", "baskets_books"))

    world.rebuild()

    assert {name: live_builds(world)[name] for name in ("buyers", "order_history", "baskets")} == {
        "buyers": 2,
        "order_history": 2,
        "baskets": 2,
    }
    for view in VIEWS:
        assert world.rows(view) == live[view], view
    assert live["order_history_forgotten"], "the day should have forgotten a buyer"
    assert not [cell for cell in world.every_cell() if "buyer0@" in cell]
