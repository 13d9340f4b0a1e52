"""An order's life: given a placed order, when it is completed, cancelled or deleted, then its
events or the rule broken.

DOMAIN.md, Ordering: status New -> Completed or New -> Cancelled only (anything else is a 409
domain error, never a crash); a user cancels its own New order, an admin any; DeleteOrder (admin)
and the saga's compensation soft-delete with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import orjson
import pytest

from tests.domain.shop import Shop, rule_of
from write_side.domain import Cause, Command, DomainError, NotFound, snapshot_stream
from write_side.ordering import (
    CancelOrder,
    CompleteOrder,
    DeleteOrder,
    Order,
    OrderCancelled,
    OrderCompleted,
    OrderDeleted,
    OrderStatus,
)


def placed_order(shop: Shop) -> tuple[UUID, UUID]:
    """Given a New order; its buyer and id."""
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 1})
    return buyer, shop.order(buyer)


def complete(order: UUID) -> CompleteOrder:
    return CompleteOrder(order_id=order, actor="admin")


def cancel_as_admin(order: UUID) -> CancelOrder:
    return CancelOrder(order_id=order, actor="admin", roles=frozenset({"admin"}))


def test_an_admin_completes_a_new_order(shop: Shop) -> None:
    _, order = placed_order(shop)

    assert shop.when(complete(order)) == [OrderCompleted()]
    assert shop.repository.load(Order, order).status is OrderStatus.COMPLETED


def test_a_buyer_cancels_its_own_new_order(shop: Shop) -> None:
    buyer, order = placed_order(shop)

    then = shop.when(CancelOrder(order_id=order, actor=str(buyer), roles=frozenset({"user"})))

    assert then == [OrderCancelled(reason="cancelled by the buyer")]
    assert shop.repository.load(Order, order).status is OrderStatus.CANCELLED


def test_an_admin_cancels_any_new_order_with_a_reason(shop: Shop) -> None:
    _, order = placed_order(shop)
    command = CancelOrder(
        order_id=order, actor=str(uuid4()), roles=frozenset({"admin"}), reason="out of paper"
    )

    assert shop.when(command) == [OrderCancelled(reason="out of paper")]


def test_the_saga_cancels_as_a_process(shop: Shop) -> None:
    _, order = placed_order(shop)
    command = CancelOrder(
        order_id=order,
        actor="system:order_saga",
        roles=frozenset({"process"}),
        reason="the basket was never checked out",
        cause=Cause(event_id=uuid4(), correlation_id=uuid4()),
    )

    assert shop.when(command) == [OrderCancelled(reason="the basket was never checked out")]


@pytest.mark.parametrize(
    ("caller", "roles"),
    [("another", {"user"}), ("buyer", set()), ("buyer", {"reporter"}), (None, {"user"})],
    ids=["another user", "no role", "a reporter", "no actor"],
)
def test_nobody_else_sees_the_order_to_cancel_it(
    shop: Shop, caller: str | None, roles: set[str]
) -> None:
    buyer, order = placed_order(shop)
    actor = {"buyer": str(buyer), "another": str(uuid4()), None: None}[caller]

    error = shop.rejects(
        CancelOrder.model_validate({"order_id": order, "actor": actor, "roles": roles})
    )

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("order_not_found", "order_id")
    assert shop.repository.load(Order, order).status is OrderStatus.NEW


TRANSITIONS: dict[str, Callable[[UUID], Command]] = {
    "complete": complete,
    "cancel": cancel_as_admin,
}


@pytest.mark.parametrize("first", TRANSITIONS)
@pytest.mark.parametrize("then", TRANSITIONS)
def test_only_a_new_order_changes_status(shop: Shop, first: str, then: str) -> None:
    _, order = placed_order(shop)
    shop.send(TRANSITIONS[first](order))

    error = shop.rejects(TRANSITIONS[then](order))

    assert type(error) is DomainError
    assert error.status == 409
    assert rule_of(error) == ("order_not_new", None)


@pytest.mark.parametrize("then", TRANSITIONS)
def test_a_deleted_order_changes_status_no_more(shop: Shop, then: str) -> None:
    _, order = placed_order(shop)
    shop.send(DeleteOrder(order_id=order))

    error = shop.rejects(TRANSITIONS[then](order))

    assert error.status == 409
    assert rule_of(error) == ("order_deleted", None)


@pytest.mark.parametrize(
    "command",
    [complete, cancel_as_admin, lambda order: DeleteOrder(order_id=order)],
    ids=["complete", "cancel", "delete"],
)
def test_an_unknown_order_is_not_found(shop: Shop, command: Callable[[UUID], Command]) -> None:
    error = shop.rejects(command(uuid4()))

    assert isinstance(error, NotFound)
    assert rule_of(error) == ("order_not_found", "order_id")


@pytest.mark.parametrize("status", ["New", "Completed", "Cancelled"])
def test_an_admin_soft_deletes_an_order_in_any_status(shop: Shop, status: str) -> None:
    _, order = placed_order(shop)
    if status != "New":
        shop.send(TRANSITIONS["complete" if status == "Completed" else "cancel"](order))

    then = shop.when(DeleteOrder(order_id=order, actor="admin"))
    again = shop.when(DeleteOrder(order_id=order, actor="admin"))

    assert then == [OrderDeleted(reason="deleted by an admin")]
    assert again == []  # deleted already: nothing more to record
    deleted = shop.repository.load(Order, order)
    assert (deleted.deleted, deleted.status) == (True, OrderStatus(status))


def test_the_saga_compensates_with_a_soft_delete_in_its_correlation(shop: Shop) -> None:
    _, order = placed_order(shop)
    cause = Cause(event_id=uuid4(), correlation_id=uuid4())
    command = DeleteOrder(
        order_id=order, reason="basket checkout failed: basket_changed", cause=cause
    )

    then = shop.when(command)

    assert then == [OrderDeleted(reason="basket checkout failed: basket_changed")]
    [recorded] = shop.repository.store.read_stream(Order.stream_for(order), from_revision=1)
    metadata = shop.repository.registry.decode(recorded).metadata
    assert metadata is not None
    assert (metadata.correlation_id, metadata.causation_id) == (
        cause.correlation_id,
        cause.event_id,
    )


def test_a_finished_order_is_loaded_from_its_snapshot(shop: Shop) -> None:
    _, order = placed_order(shop)
    shop.send(complete(order))
    shop.send(DeleteOrder(order_id=order))

    [snapshot] = shop.repository.store.read_stream(snapshot_stream(Order.stream_for(order)))
    state = orjson.loads(snapshot.data)["state"]
    loaded = shop.repository.load(Order, order)

    assert (state["version"], state["status"], state["deleted"]) == (2, "Completed", True)
    assert (loaded.version, loaded.status, loaded.deleted) == (2, OrderStatus.COMPLETED, True)
    assert loaded.buyer is not None
    assert loaded.buyer.require().name == "Ada Lovelace"
