"""The `baskets` query model: the caller's basket with each book's current name and prices."""

from __future__ import annotations

import uuid
from decimal import Decimal

from read_side.queries.baskets import BasketItem, get_basket
from tests.domain.shop import lines
from tests.read_side.ordering.world import World
from write_side import basket, catalog


def item(
    book_id: uuid.UUID,
    name: str,
    quantity: int,
    price: str,
    discount: str | None = None,
    *,
    in_stock: bool = True,
    deleted: bool = False,
) -> BasketItem:
    """A basket item as the query answers it."""
    return BasketItem(
        book_id=book_id,
        name=name,
        quantity=quantity,
        price=Decimal(price),
        discount_price=None if discount is None else Decimal(discount),
        unit_price=Decimal(discount or price),
        in_stock=in_stock,
        deleted=deleted,
    )


def test_given_a_basket_it_shows_names_prices_and_the_total(world: World) -> None:
    dune = world.shop.books.create("Dune", "9.99")
    emma = world.shop.books.create("Emma", "12.00", discount="8.50")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {emma: 1, dune: 2})

    world.catch_up()

    answer = world.ask(get_basket, ada)
    assert answer is not None
    assert answer.buyer_id == ada
    assert answer.items == [item(emma, "Emma", 1, "12.00", "8.50"), item(dune, "Dune", 2, "9.99")]
    assert answer.total == Decimal("28.48")
    assert answer.updated_at == world.clock.now()


def test_a_rename_and_a_reprice_show_in_every_basket_holding_the_book(world: World) -> None:
    dune = world.shop.books.create("Dune", "9.99")
    ada, charles = world.shop.buyer(), world.shop.buyer("Charles", "cb@example.org")
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.fill_basket(charles, {dune: 3})
    world.catch_up()

    world.shop.send(
        catalog.UpdateBookDetails(book_id=dune, name="Dune Messiah", description="", image=None)
    )
    world.shop.books.change_price(dune, "11.00", discount="7.00")
    world.catch_up()

    adas, charles_basket = world.ask(get_basket, ada), world.ask(get_basket, charles)
    assert adas is not None
    assert charles_basket is not None
    assert adas.items == [item(dune, "Dune Messiah", 1, "11.00", "7.00")]
    assert charles_basket.items == [item(dune, "Dune Messiah", 3, "11.00", "7.00")]
    assert (adas.total, charles_basket.total) == (Decimal("7.00"), Decimal("21.00"))


def test_a_book_out_of_stock_or_deleted_is_flagged_and_left_out_of_the_total(
    world: World,
) -> None:
    dune = world.shop.books.create("Dune", "9.99")
    emma = world.shop.books.create("Emma", "12.00")
    odyssey = world.shop.books.create("Odyssey", "5.00")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 1, emma: 1, odyssey: 1})
    world.shop.books.set_stock(emma, in_stock=False)
    world.shop.books.delete(odyssey)

    world.catch_up()

    answer = world.ask(get_basket, ada)
    assert answer is not None
    assert answer.items == [
        item(dune, "Dune", 1, "9.99"),
        item(emma, "Emma", 1, "12.00", in_stock=False),
        item(odyssey, "Odyssey", 1, "5.00", deleted=True),
    ]
    assert answer.total == Decimal("9.99")


def test_quantities_change_and_items_go(world: World) -> None:
    dune, emma = world.shop.books.create("Dune"), world.shop.books.create("Emma", "4.00")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 1, emma: 1})
    world.catch_up()

    world.shop.fill_basket(ada, {emma: 5})
    world.shop.send(basket.AddBasketItem(buyer_id=ada, book_id=dune, quantity=2))
    world.catch_up()

    answer = world.ask(get_basket, ada)
    assert answer is not None
    assert answer.items == [item(emma, "Emma", 5, "4.00"), item(dune, "Dune", 2, "9.99")]


def test_no_basket_a_deleted_one_and_a_checked_out_one_read_as_none(world: World) -> None:
    dune = world.shop.books.create()
    ada, charles, nobody = world.shop.buyer(), world.shop.buyer("Charles"), world.shop.buyer("N")
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.fill_basket(charles, {dune: 2})
    world.shop.send(basket.DeleteBasket(buyer_id=ada))
    order_id = uuid.uuid4()
    world.shop.send(
        basket.CheckoutBasket(buyer_id=charles, order_id=order_id, items=lines({dune: 2}))
    )
    # The saga may ask to check out a basket that never existed: that is no basket either.
    world.shop.send(
        basket.CheckoutBasket(buyer_id=nobody, order_id=uuid.uuid4(), items=lines({dune: 1}))
    )

    world.catch_up()

    assert world.ask(get_basket, ada) is None
    assert world.ask(get_basket, charles) is None
    assert world.ask(get_basket, nobody) is None
    assert world.ask(get_basket, uuid.uuid4()) is None


def test_a_basket_after_a_checkout_holds_only_the_new_items(world: World) -> None:
    dune, emma = world.shop.books.create("Dune"), world.shop.books.create("Emma", "4.00")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.send(
        basket.CheckoutBasket(buyer_id=ada, order_id=uuid.uuid4(), items=lines({dune: 1}))
    )
    world.catch_up()
    assert world.ask(get_basket, ada) is None

    world.shop.fill_basket(ada, {emma: 2})
    world.catch_up()

    answer = world.ask(get_basket, ada)
    assert answer is not None
    assert answer.items == [item(emma, "Emma", 2, "4.00")]


def test_a_failed_checkout_leaves_the_basket_as_it_was(world: World) -> None:
    dune = world.shop.books.create("Dune")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.send(
        basket.CheckoutBasket(buyer_id=ada, order_id=uuid.uuid4(), items=lines({dune: 4}))
    )

    world.catch_up()

    answer = world.ask(get_basket, ada)
    assert answer is not None
    assert answer.items == [item(dune, "Dune", 1, "9.99")]
