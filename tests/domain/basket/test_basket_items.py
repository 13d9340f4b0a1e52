"""Basket items: given a basket's events (or prior commands), when an update, then what changed.

DOMAIN.md, Basket: items are a book id and a quantity > 0; a basket holds at least one item
and at most 50 distinct books; the books exist and are not deleted; the HTTP contract replaces
the whole list and the aggregate records what changed; BasketCreated may follow a checkout or
a deletion.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.domain.shop import Shop, lines, rule_of, types_of
from write_side.basket import (
    MAX_BOOKS,
    AddBasketItem,
    Basket,
    BasketCheckedOut,
    BasketCreated,
    BasketDeleted,
    BasketItemAdded,
    BasketItemQuantityChanged,
    BasketItemRemoved,
    BasketLine,
    UpdateBasket,
)
from write_side.domain import InvalidValue, NotFound, StaleVersion


def test_a_first_update_opens_the_basket_and_adds_each_item(shop: Shop) -> None:
    buyer, dune, emma = uuid4(), shop.books.create("Dune"), shop.books.create("Emma")

    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({dune: 1, emma: 2})))

    assert then == [
        BasketCreated(buyer_id=buyer),
        BasketItemAdded(book_id=dune, quantity=1),
        BasketItemAdded(book_id=emma, quantity=2),
    ]
    assert shop.repository.load(Basket, buyer).items == {dune: 1, emma: 2}


def test_an_update_records_what_changed_item_by_item(shop: Shop) -> None:
    buyer = uuid4()
    kept, changed, removed, added = (shop.books.create(f"Book {n}") for n in range(4))
    shop.given(
        Basket.stream_for(buyer),
        BasketCreated(buyer_id=buyer),
        BasketItemAdded(book_id=kept, quantity=1),
        BasketItemAdded(book_id=changed, quantity=1),
        BasketItemAdded(book_id=removed, quantity=5),
    )

    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({kept: 1, changed: 3, added: 2})))

    assert then == [
        BasketItemQuantityChanged(book_id=changed, old=1, new=3),
        BasketItemAdded(book_id=added, quantity=2),
        BasketItemRemoved(book_id=removed),
    ]
    assert shop.repository.load(Basket, buyer).items == {kept: 1, changed: 3, added: 2}


def test_an_update_to_the_same_list_records_nothing(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    shop.fill_basket(buyer, {book: 2})

    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({book: 2})))

    assert then == []
    assert shop.revision(Basket.stream_for(buyer)) == 1


@pytest.mark.parametrize("quantity", [0, -1])
def test_each_quantity_must_be_positive(shop: Shop, quantity: int) -> None:
    buyer, dune, emma = uuid4(), shop.books.create(), shop.books.create()
    items = (BasketLine(book_id=dune, quantity=1), BasketLine(book_id=emma, quantity=quantity))

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=items))
    added = shop.rejects(AddBasketItem(buyer_id=buyer, book_id=dune, quantity=quantity))

    assert rule_of(error) == ("quantity_positive", "items[1].quantity")
    assert rule_of(added) == ("quantity_positive", "quantity")
    assert isinstance(error, InvalidValue)  # 422: the request itself is wrong


def test_a_basket_holds_at_least_one_item(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    shop.fill_basket(buyer, {book: 1})

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=()))

    assert rule_of(error) == ("basket_empty", "items")
    assert isinstance(error, InvalidValue)
    assert shop.repository.load(Basket, buyer).items == {book: 1}


def test_a_basket_holds_at_most_50_distinct_books(shop: Shop) -> None:
    buyer = uuid4()
    books = [shop.books.create(f"Book {n}") for n in range(MAX_BOOKS + 1)]

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=lines(dict.fromkeys(books, 1))))
    full = shop.when(UpdateBasket(buyer_id=buyer, items=lines(dict.fromkeys(books[:50], 1))))
    one_more = shop.rejects(AddBasketItem(buyer_id=buyer, book_id=books[50]))
    more_copies = shop.when(AddBasketItem(buyer_id=buyer, book_id=books[0], quantity=2))

    assert MAX_BOOKS == 50
    assert rule_of(error) == ("basket_too_many_books", "items")
    assert isinstance(error, InvalidValue)
    assert types_of(full) == ["BasketCreated"] + ["BasketItemAdded"] * 50
    assert rule_of(one_more) == ("basket_too_many_books", "book_id")
    assert one_more.status == 409  # the request is fine; this basket is full
    assert more_copies == [BasketItemQuantityChanged(book_id=books[0], old=1, new=3)]


def test_a_book_is_listed_once(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    items = (BasketLine(book_id=book, quantity=1), BasketLine(book_id=book, quantity=2))

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=items))

    assert rule_of(error) == ("duplicate_book", "items[1].book_id")
    assert isinstance(error, InvalidValue)


def test_every_book_must_exist(shop: Shop) -> None:
    buyer, book, missing = uuid4(), shop.books.create(), uuid4()

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=lines({book: 1, missing: 1})))
    added = shop.rejects(AddBasketItem(buyer_id=buyer, book_id=missing))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("book_not_found", "items[1].book_id")
    assert rule_of(added) == ("book_not_found", "book_id")


def test_a_deleted_book_cannot_be_put_in_a_basket(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    shop.books.delete(book)

    error = shop.rejects(UpdateBasket(buyer_id=buyer, items=lines({book: 1})))
    added = shop.rejects(AddBasketItem(buyer_id=buyer, book_id=book))

    assert rule_of(error) == ("book_deleted", "items[0].book_id")
    assert error.status == 409
    assert rule_of(added) == ("book_deleted", "book_id")


def test_a_book_out_of_stock_may_wait_in_a_basket(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create(in_stock=False)

    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({book: 1})))

    assert types_of(then) == ["BasketCreated", "BasketItemAdded"]


def test_adding_copies_of_a_book_changes_its_quantity(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()

    first = shop.when(AddBasketItem(buyer_id=buyer, book_id=book, quantity=2))
    second = shop.when(AddBasketItem(buyer_id=buyer, book_id=book))

    assert first == [BasketCreated(buyer_id=buyer), BasketItemAdded(book_id=book, quantity=2)]
    assert second == [BasketItemQuantityChanged(book_id=book, old=2, new=3)]


@pytest.mark.parametrize(
    "closing",
    [BasketCheckedOut(order_id=uuid4()), BasketDeleted(reason="deleted by the buyer")],
    ids=["after a checkout", "after a deletion"],
)
def test_a_new_basket_follows_a_closed_one(shop: Shop, closing: BasketCheckedOut) -> None:
    buyer, old, new = uuid4(), shop.books.create(), shop.books.create()
    shop.given(
        Basket.stream_for(buyer),
        BasketCreated(buyer_id=buyer),
        BasketItemAdded(book_id=old, quantity=1),
        closing,
    )

    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({old: 1, new: 2})))

    assert then == [
        BasketCreated(buyer_id=buyer),
        BasketItemAdded(book_id=old, quantity=1),
        BasketItemAdded(book_id=new, quantity=2),
    ]


def test_an_update_naming_a_version_it_did_not_read_is_stale(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    shop.fill_basket(buyer, {book: 1})  # revisions 0 and 1

    with pytest.raises(StaleVersion):
        shop.send(UpdateBasket(buyer_id=buyer, items=lines({book: 2}), expected_version=0))
    then = shop.when(UpdateBasket(buyer_id=buyer, items=lines({book: 2}), expected_version=1))

    assert then == [BasketItemQuantityChanged(book_id=book, old=1, new=2)]
