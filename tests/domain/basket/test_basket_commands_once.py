"""Every basket command is recorded once however often it is sent, and concurrent additions to
one basket all land with gapless revisions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from tests.domain.shop import (
    Shop,
    assert_recorded_once,
    assert_recorded_once_after_a_lost_answer,
    lines,
)
from write_side.basket import (
    AddBasketItem,
    Basket,
    CheckoutBasket,
    DeleteBasket,
    UpdateBasket,
)
from write_side.domain import Command, StaleVersion


def update(shop: Shop) -> Command:
    return UpdateBasket(buyer_id=uuid4(), items=lines({shop.books.create(): 2}))


def add(shop: Shop) -> Command:
    return AddBasketItem(buyer_id=uuid4(), book_id=shop.books.create())


def checkout(shop: Shop) -> Command:
    buyer, book = uuid4(), shop.books.create()
    shop.fill_basket(buyer, {book: 1})
    return CheckoutBasket(buyer_id=buyer, order_id=uuid4(), items=lines({book: 1}))


def delete(shop: Shop) -> Command:
    buyer = uuid4()
    shop.fill_basket(buyer, {shop.books.create(): 1})
    return DeleteBasket(buyer_id=buyer)


COMMANDS: dict[str, Callable[[Shop], Command]] = {
    "UpdateBasket": update,
    "AddBasketItem": add,
    "CheckoutBasket": checkout,
    "DeleteBasket": delete,
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_basket_command_sent_twice_is_recorded_once(shop: Shop, name: str) -> None:
    assert_recorded_once(shop, COMMANDS[name](shop))


@pytest.mark.parametrize("name", COMMANDS)
def test_a_basket_command_sent_again_after_a_lost_answer_is_recorded_once(
    shop: Shop, name: str
) -> None:
    assert_recorded_once_after_a_lost_answer(shop, COMMANDS[name](shop))


def test_a_repeated_update_is_answered_even_after_its_book_was_deleted(shop: Shop) -> None:
    buyer, book = uuid4(), shop.books.create()
    command = UpdateBasket(buyer_id=buyer, items=lines({book: 1}))
    first = shop.send(command)
    shop.books.delete(book)

    again = shop.send(command)

    assert again.replayed
    assert again.revision == first.revision


def in_threads(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run `work(n)` for n in 0..count-1 in as many threads, started together; the failures."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as error:  # reported by the caller
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_20_threads_adding_items_to_one_basket_all_land_with_gapless_revisions(
    shop: Shop,
) -> None:
    buyer = uuid4()
    books = [shop.books.create(f"Book {n}") for n in range(20)]

    failures = in_threads(
        20, lambda n: shop.send(AddBasketItem(buyer_id=buyer, book_id=books[n], quantity=n + 1))
    )

    stream = Basket.stream_for(buyer)
    recorded = shop.repository.store.read_stream(stream)
    events = shop.events(stream)
    assert failures == []
    assert [event.revision for event in recorded] == list(range(21))
    assert [type(event).event_type for event in events].count("BasketCreated") == 1
    assert shop.repository.load(Basket, buyer).items == {
        book: n + 1 for n, book in enumerate(books)
    }  # all landed, each once (the order they landed in is the threads' business)


def test_20_threads_replacing_the_list_with_if_match_all_land_after_rereading(
    shop: Shop,
) -> None:
    buyer, first = uuid4(), shop.books.create("First")
    shop.fill_basket(buyer, {first: 1})  # revisions 0 and 1
    books = [shop.books.create(f"Book {n}") for n in range(20)]

    def add_by_replacing(n: int) -> None:
        # What a client of the HTTP contract does: read, send the whole list with If-Match,
        # and on 412 read again.
        for _ in range(100):
            basket = shop.repository.load(Basket, buyer)
            items: dict[UUID, int] = {**basket.items, books[n]: 1}
            command = UpdateBasket(
                buyer_id=buyer, items=lines(items), expected_version=basket.version
            )
            try:
                shop.send(command)
                return
            except StaleVersion:
                continue
        raise AssertionError(f"thread {n} never got its update in")

    failures = in_threads(20, add_by_replacing)

    recorded = shop.repository.store.read_stream(Basket.stream_for(buyer))
    assert failures == []
    assert [event.revision for event in recorded] == list(range(22))
    assert shop.repository.load(Basket, buyer).items == dict.fromkeys([first, *books], 1)
