"""The `buyers` query model: the caller's buyer, any buyer for an admin, a page of them."""

from __future__ import annotations

import uuid

import pytest

from pipelines.dead_letters import list_dead_letters, replay
from pipelines.runner import ProjectionRunner
from read_side.projections.buyers import BuyersProjection
from read_side.queries.buyers import AddressView, get_buyer, list_buyers
from read_side.queries.ordering import Caller, NotAllowed
from read_side.queries.paging import PageRequest
from tests.domain.shop import ADDRESS
from tests.read_side.ordering.world import SETTINGS, World
from write_side import ordering
from write_side.ordering import Address

ADMIN = Caller.administrator()


def test_given_a_buyer_the_user_reads_its_own_name_email_and_address(world: World) -> None:
    ada = world.shop.buyer("Ada Lovelace", "ada@example.org")

    world.catch_up()

    buyer = world.ask(get_buyer, Caller.user(ada))
    assert buyer is not None
    assert (buyer.buyer_id, buyer.name, buyer.email) == (ada, "Ada Lovelace", "ada@example.org")
    assert buyer.address == AddressView(**ADDRESS.model_dump())
    assert (buyer.deleted, buyer.erased) == (False, False)
    assert buyer.created_at == world.clock.now()


def test_a_user_may_not_read_another_buyer_and_an_admin_reads_any(world: World) -> None:
    ada, charles = world.shop.buyer("Ada"), world.shop.buyer("Charles", "cb@example.org")
    world.catch_up()

    with pytest.raises(NotAllowed):
        world.ask(get_buyer, Caller.user(ada), charles)
    seen = world.ask(get_buyer, ADMIN, charles)

    assert seen is not None
    assert seen.name == "Charles"
    assert world.ask(get_buyer, ADMIN, uuid.uuid4()) is None
    assert world.ask(get_buyer, Caller.user(uuid.uuid4())) is None


def test_a_new_address_and_a_delete_show(world: World) -> None:
    ada = world.shop.buyer()
    world.later()
    moved = Address(street="1 Dorset Street", city="London", province="Marylebone")
    world.shop.send(ordering.ChangeBuyerAddress(buyer_id=ada, address=moved))
    world.later()
    world.shop.send(ordering.DeleteBuyer(buyer_id=ada))

    world.catch_up()

    buyer = world.ask(get_buyer, ADMIN, ada)
    assert buyer is not None
    assert buyer.address == AddressView(**moved.model_dump())
    assert buyer.deleted
    assert not buyer.erased
    assert buyer.updated_at == world.clock.now()


def test_an_admin_pages_through_every_buyer_oldest_first(world: World) -> None:
    made = []
    for n in range(5):
        made.append(world.shop.buyer(f"Buyer {n}", f"b{n}@example.org"))
        world.later()
    world.catch_up()

    first = world.ask(list_buyers, ADMIN, page=PageRequest(page=1, page_size=2))
    last = world.ask(list_buyers, ADMIN, page=PageRequest(page=3, page_size=2))
    beyond = world.ask(list_buyers, ADMIN, page=PageRequest(page=4, page_size=2))
    whole = world.ask(list_buyers, ADMIN)

    assert [b.buyer_id for b in first.items] == made[:2]
    assert (first.total_items, first.total_pages, first.has_previous, first.has_next) == (
        5,
        3,
        False,
        True,
    )
    assert [b.buyer_id for b in last.items] == made[4:]
    assert (last.has_previous, last.has_next) == (True, False)
    assert beyond.items == []
    assert beyond.total_items == 5
    assert not beyond.has_next
    assert [b.buyer_id for b in whole.items] == made
    assert whole.page_size == 20


def test_only_an_admin_lists_buyers(world: World) -> None:
    ada = world.shop.buyer()
    world.catch_up()

    with pytest.raises(NotAllowed):
        world.ask(list_buyers, Caller.user(ada))


def test_no_buyers_is_an_empty_first_page(world: World) -> None:
    world.catch_up()

    page = world.ask(list_buyers, ADMIN)

    assert (page.items, page.total_items, page.total_pages, page.has_next) == ([], 0, 0, False)


def test_without_the_key_store_personal_events_are_parked_never_guessed(world: World) -> None:
    """A worker wired without the key store cannot open a buyer: the event is parked with the
    reason (to be replayed once the keys are wired), and no row is written."""
    ada = world.shop.buyer()
    runner = ProjectionRunner(world.store, BuyersProjection(), world.target, settings=SETTINGS)

    runner.catch_up()

    (letter,) = list_dead_letters(world.target, "buyers")
    assert "KeyStoreMissing" in letter.error
    assert world.ask(get_buyer, ADMIN, ada) is None

    replay(world.store, BuyersProjection(world.keys), world.target)

    replayed = world.ask(get_buyer, ADMIN, ada)
    assert replayed is not None
    assert replayed.name == "Ada Lovelace"
