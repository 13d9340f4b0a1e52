"""Buyers: given a buyer's history, when a buyer command, then its events or the rule broken.

DOMAIN.md, Ordering: a buyer's id is the user id; name (≤ 100), email, address {street, city,
province}, each required, the address parts ≤ 50; all of it personal (sealed per buyer).
"""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from tests.domain.shop import ADDRESS, Shop, rule_of, types_of
from write_side.domain import InvalidValue, NotFound, Sealed
from write_side.ordering import (
    Address,
    Buyer,
    BuyerAddressChanged,
    BuyerCreated,
    BuyerDeleted,
    BuyerForgotten,
    ChangeBuyerAddress,
    Contact,
    CreateBuyer,
    DeleteBuyer,
    ForgetBuyer,
)

MOVED = Address(street="1 Infinite Loop", city="Cupertino", province="California")


def address(**part: str) -> dict[str, str]:
    return {**ADDRESS.model_dump(), **part}


def create(buyer: UUID, **changes: object) -> CreateBuyer:
    fields: dict[str, object] = {
        "buyer_id": buyer,
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "address": ADDRESS,
    }
    return CreateBuyer.model_validate({**fields, **changes})


def created(buyer: UUID) -> BuyerCreated:
    contact = Contact(name="Ada Lovelace", email="ada@example.org")
    return BuyerCreated(
        buyer_id=buyer, contact=Sealed.of(buyer, contact), address=Sealed.of(buyer, ADDRESS)
    )


def test_a_user_becomes_a_buyer(shop: Shop) -> None:
    buyer = uuid4()

    [created] = shop.when(create(buyer, name="  Ada Lovelace "))

    assert isinstance(created, BuyerCreated)
    assert created.buyer_id == buyer
    assert created.contact.subject == created.address.subject == buyer
    assert created.contact.require().model_dump() == {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
    }
    assert created.address.require() == ADDRESS


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"name": "   "}, "name_required", "name"),
        ({"name": "x" * 101}, "name_too_long", "name"),
        ({"email": ""}, "email_required", "email"),
        ({"email": "ada.example.org"}, "email_invalid", "email"),
        ({"email": "ada@example"}, "email_invalid", "email"),
        ({"email": "a" * 244 + "@example.org"}, "email_too_long", "email"),
        ({"address": address(street=" ")}, "street_required", "address.street"),
        ({"address": address(street="s" * 51)}, "street_too_long", "address.street"),
        ({"address": address(city="")}, "city_required", "address.city"),
        ({"address": address(city="c" * 51)}, "city_too_long", "address.city"),
        ({"address": address(province="")}, "province_required", "address.province"),
        ({"address": address(province="p" * 51)}, "province_too_long", "address.province"),
    ],
)
def test_a_buyers_data_follows_the_rules(
    shop: Shop, changes: dict[str, object], rule: str, field: str
) -> None:
    error = shop.rejects(create(uuid4(), **changes))

    assert rule_of(error) == (rule, field)
    assert isinstance(error, InvalidValue)


def test_the_longest_allowed_values_are_accepted(shop: Shop) -> None:
    longest = Address(street="s" * 50, city="c" * 50, province="p" * 50)

    then = shop.when(
        create(uuid4(), name="n" * 100, email="a" * 243 + "@example.org", address=longest)
    )

    assert types_of(then) == ["BuyerCreated"]


def test_a_buyer_is_created_once(shop: Shop) -> None:
    buyer = shop.buyer()

    error = shop.rejects(create(buyer, name="Someone Else"))

    assert rule_of(error) == ("buyer_exists", "buyer_id")


def test_a_buyer_moves(shop: Shop) -> None:
    buyer = shop.buyer()

    [changed] = shop.when(ChangeBuyerAddress(buyer_id=buyer, address=MOVED))

    assert isinstance(changed, BuyerAddressChanged)
    assert changed.address.require() == MOVED
    loaded = shop.repository.load(Buyer, buyer).address
    assert loaded is not None
    assert loaded.require() == MOVED


def test_moving_to_the_same_address_records_nothing(shop: Shop) -> None:
    buyer = shop.buyer()

    assert shop.when(ChangeBuyerAddress(buyer_id=buyer, address=ADDRESS)) == []


def test_a_new_address_follows_the_rules(shop: Shop) -> None:
    buyer = shop.buyer()
    bad = Address(street="s", city="c" * 51, province="p")

    error = shop.rejects(ChangeBuyerAddress(buyer_id=buyer, address=bad))

    assert rule_of(error) == ("city_too_long", "address.city")


@pytest.mark.parametrize(
    ("history", "rule"),
    [("none", "buyer_not_found"), ("deleted", "buyer_deleted"), ("forgotten", "buyer_forgotten")],
)
def test_only_an_active_buyer_moves(shop: Shop, history: str, rule: str) -> None:
    buyer = uuid4()
    if history != "none":
        shop.given(
            Buyer.stream_for(buyer),
            created(buyer),
            BuyerDeleted() if history == "deleted" else BuyerForgotten(),
        )

    error = shop.rejects(ChangeBuyerAddress(buyer_id=buyer, address=MOVED))

    assert rule_of(error) == (rule, "buyer_id")
    assert isinstance(error, NotFound) == (history == "none")


def test_an_admin_deletes_a_buyer_once(shop: Shop) -> None:
    buyer = shop.buyer()

    first = shop.when(DeleteBuyer(buyer_id=buyer, actor="admin"))
    again = shop.when(DeleteBuyer(buyer_id=buyer, actor="admin"))

    assert first == [BuyerDeleted()]
    assert again == []
    assert shop.repository.load(Buyer, buyer).deleted


def test_forgetting_a_buyer_deletes_its_key_and_records_it(shop: Shop) -> None:
    buyer = shop.buyer()
    keys = shop.bus.services.keys
    assert keys.find(buyer) is not None

    first = shop.when(ForgetBuyer(buyer_id=buyer, actor="admin"))
    again = shop.when(ForgetBuyer(buyer_id=buyer, actor="admin"))

    assert first == [BuyerForgotten()]
    assert again == []
    assert keys.find(buyer) is None
    forgotten = shop.repository.load(Buyer, buyer)
    assert forgotten.forgotten
    assert forgotten.contact is not None
    assert forgotten.contact.erased
    assert forgotten.address is not None
    assert forgotten.address.erased


def test_a_forgotten_buyer_may_still_be_deleted(shop: Shop) -> None:
    buyer = shop.buyer()
    shop.send(ForgetBuyer(buyer_id=buyer))

    assert shop.when(DeleteBuyer(buyer_id=buyer)) == [BuyerDeleted()]


@pytest.mark.parametrize("command", [DeleteBuyer, ForgetBuyer])
def test_an_unknown_buyer_cannot_be_deleted_or_forgotten(
    shop: Shop, command: type[DeleteBuyer | ForgetBuyer]
) -> None:
    buyer = uuid4()

    error = shop.rejects(command(buyer_id=buyer))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("buyer_not_found", "buyer_id")
    assert types_of(shop.when(create(buyer))) == ["BuyerCreated"]  # its key was not touched
