"""Every Ordering command is recorded once however often it is sent, also when the answer to
its first sending was lost after the append (a crash in between)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from tests.domain.shop import (
    ADDRESS,
    Shop,
    assert_recorded_once,
    assert_recorded_once_after_a_lost_answer,
)
from write_side.domain import Command
from write_side.ordering import (
    Address,
    CancelOrder,
    ChangeBuyerAddress,
    CompleteOrder,
    CreateBuyer,
    DeleteBuyer,
    DeleteOrder,
    ForgetBuyer,
    PlaceOrder,
)


def create_buyer(shop: Shop) -> Command:
    return CreateBuyer(buyer_id=uuid4(), name="Ada", email="ada@example.org", address=ADDRESS)


def change_address(shop: Shop) -> Command:
    moved = Address(street="Elsewhere 1", city="Paris", province="Ile-de-France")
    return ChangeBuyerAddress(buyer_id=shop.buyer(), address=moved)


def delete_buyer(shop: Shop) -> Command:
    return DeleteBuyer(buyer_id=shop.buyer(), actor="admin")


def forget_buyer(shop: Shop) -> Command:
    return ForgetBuyer(buyer_id=shop.buyer(), actor="admin")


def place_order(shop: Shop) -> Command:
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 2})
    return PlaceOrder(buyer_id=buyer, actor=str(buyer))


def placed(shop: Shop) -> tuple[str, UUID]:
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 2})
    return str(buyer), shop.order(buyer)


def complete_order(shop: Shop) -> Command:
    return CompleteOrder(order_id=placed(shop)[1], actor="admin")


def cancel_order(shop: Shop) -> Command:
    buyer, order = placed(shop)
    return CancelOrder(order_id=order, actor=buyer, roles=frozenset({"user"}))


def delete_order(shop: Shop) -> Command:
    return DeleteOrder(order_id=placed(shop)[1], actor="admin")


COMMANDS: dict[str, Callable[[Shop], Command]] = {
    "CreateBuyer": create_buyer,
    "ChangeBuyerAddress": change_address,
    "DeleteBuyer": delete_buyer,
    "ForgetBuyer": forget_buyer,
    "PlaceOrder": place_order,
    "CompleteOrder": complete_order,
    "CancelOrder": cancel_order,
    "DeleteOrder": delete_order,
}


@pytest.mark.parametrize("name", COMMANDS)
def test_an_ordering_command_sent_twice_is_recorded_once(shop: Shop, name: str) -> None:
    assert_recorded_once(shop, COMMANDS[name](shop))


@pytest.mark.parametrize("name", COMMANDS)
def test_an_ordering_command_sent_again_after_a_lost_answer_is_recorded_once(
    shop: Shop, name: str
) -> None:
    assert_recorded_once_after_a_lost_answer(shop, COMMANDS[name](shop))


def test_a_forget_whose_answer_was_lost_has_deleted_the_key(shop: Shop) -> None:
    command = forget_buyer(shop)
    assert isinstance(command, ForgetBuyer)

    assert_recorded_once_after_a_lost_answer(shop, command)

    assert shop.bus.services.keys.find(command.buyer_id) is None
