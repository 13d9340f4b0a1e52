"""Crypto-shredding in the query models: after `ForgetBuyer` no model shows the buyer's name,
email or address, in any cell of any table, also after a rebuild, and no event projected later
brings them back."""

from __future__ import annotations

import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

from read_side.queries.buyers import get_buyer
from read_side.queries.ordering import Caller, get_order, list_orders
from tests.domain.shop import ADDRESS
from tests.read_side.ordering.world import World
from write_side import ordering
from write_side.domain import ERASED, Crypto, Sealed
from write_side.keystore import SqliteKeyStore
from write_side.ordering import Contact, OrderLine, OrderPlaced

ADMIN = Caller.administrator()
NAME, EMAIL = "Ada Lovelace", "ada@example.org"
PERSONAL = (NAME, EMAIL, ADDRESS.street, ADDRESS.city, ADDRESS.province)


def given_a_buyer_with_an_order(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    book = world.shop.books.create("Dune", "9.99")
    ada = world.shop.buyer(NAME, EMAIL)
    world.shop.fill_basket(ada, {book: 2})
    return ada, world.shop.order(ada)


def leaks(world: World) -> list[str]:
    """Cells of the query database that show any of the buyer's personal data."""
    return [cell for cell in world.every_cell() if any(part in cell for part in PERSONAL)]


def assert_erased(world: World, ada: uuid.UUID, order_id: uuid.UUID) -> None:
    buyer = world.ask(get_buyer, ADMIN, ada)
    assert buyer is not None
    assert buyer.erased
    assert {buyer.name, buyer.email, *buyer.address.model_dump().values()} == {ERASED}
    order = world.ask(get_order, ADMIN, order_id)
    assert order is not None
    assert (order.buyer_name, order.buyer_email) == (ERASED, ERASED)
    # The rest of the order still reads.
    assert (order.total, [i.book_name for i in order.items]) == (Decimal("19.98"), ["Dune"])
    listed = world.ask(list_orders, Caller.user(ada))
    assert [o.buyer_name for o in listed.items] == [ERASED] * listed.total_items
    assert leaks(world) == []


def test_rows_written_before_the_buyer_was_forgotten_are_erased(world: World) -> None:
    ada, order_id = given_a_buyer_with_an_order(world)
    world.catch_up()
    assert world.ask(get_order, Caller.user(ada), order_id).buyer_name == NAME  # type: ignore[union-attr]
    assert leaks(world) != []

    world.shop.send(ordering.ForgetBuyer(buyer_id=ada))
    world.catch_up()

    assert_erased(world, ada, order_id)


def test_a_buyer_forgotten_before_the_models_ran_is_never_shown(world: World) -> None:
    ada, order_id = given_a_buyer_with_an_order(world)
    world.shop.send(ordering.ForgetBuyer(buyer_id=ada))

    world.catch_up()

    assert_erased(world, ada, order_id)


def test_a_rebuild_after_the_forget_shows_the_buyer_erased(world: World) -> None:
    ada, order_id = given_a_buyer_with_an_order(world)
    world.catch_up()
    world.shop.send(ordering.ForgetBuyer(buyer_id=ada))
    world.catch_up()

    world.rebuild()

    assert_erased(world, ada, order_id)


def test_no_later_event_brings_a_forgotten_buyer_back(world: World, tmp_path: Path) -> None:
    """Even when the projection's keys still open the data (a stale copy of the key store),
    an order of the forgotten buyer projected after `BuyerForgotten` shows it erased, live
    and after a rebuild."""
    ada, order_id = given_a_buyer_with_an_order(world)
    stale = copy_key_store(world, tmp_path)
    world.shop.send(ordering.ForgetBuyer(buyer_id=ada))
    try:
        world.catch_up(keys=stale)
        late_order = uuid.uuid4()
        world.shop.given(f"order-{late_order}", Crypto(stale).seal(order_of(ada, late_order)))

        world.catch_up(keys=stale)
        assert_erased(world, ada, order_id)
        assert_erased(world, ada, late_order)

        world.rebuild(keys=stale)
        assert_erased(world, ada, late_order)
    finally:
        stale.close()


def order_of(buyer_id: uuid.UUID, order_id: uuid.UUID) -> OrderPlaced:
    """An order of two copies of Dune, with the buyer's name and email (to be sealed)."""
    line = OrderLine(book_id=uuid.uuid4(), book_name="Dune", quantity=2, unit_price=Decimal("9.99"))
    return OrderPlaced(
        order_id=order_id,
        buyer_id=buyer_id,
        buyer=Sealed.of(buyer_id, Contact(name=NAME, email=EMAIL)),
        items=(line,),
        total=Decimal("19.98"),
    )


def copy_key_store(world: World, tmp_path: Path) -> SqliteKeyStore:
    """A consistent copy of the world's key store file, as it is now."""
    copy = tmp_path / "stale-keys.db"
    source = sqlite3.connect(tmp_path / "keys.db")
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    return SqliteKeyStore(copy)
