"""The `order_sagas` and `emails` query models: given orders the saga and the email sender
worked on, the saga's state and attempts, and each email's status."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from read_side.queries.ordering import Caller, get_order
from read_side.queries.ordering_emails import (
    QueryModelFailedEmails,
    get_email,
    list_emails,
)
from read_side.queries.ordering_sagas import get_order_saga, list_order_sagas
from read_side.queries.paging import PageRequest
from tests.read_side.ordering.conftest import START
from tests.read_side.ordering.flows import HALF_HOUR, UNHEARD, Flows
from tests.read_side.ordering.world import World
from write_side import ordering
from write_side.finance import SagaState
from write_side.notification import EmailKind, EmailStatus


@pytest.fixture
def flows(world: World, tmp_path: Path) -> Flows:
    """The saga and the email sender on the world, writing emails into a fresh outbox."""
    return Flows.on(world, tmp_path / "outbox")


@pytest.fixture
def buyer(world: World) -> uuid.UUID:
    """Ada, a buyer."""
    return world.shop.buyer("Ada Lovelace", "ada@example.org")


@pytest.fixture
def book(world: World) -> uuid.UUID:
    """Dune, 9.99."""
    return world.shop.books.create("Dune", "9.99")


def test_a_checked_out_order_shows_its_saga_placed_and_its_email_sent(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    order_id = flows.order(buyer, {book: 2})

    flows.run()
    world.catch_up()

    saga = world.ask(get_order_saga, order_id)
    assert saga is not None
    assert (saga.buyer_id, saga.state, saga.attempts, saga.checked_out) == (
        buyer,
        SagaState.PLACED,
        1,
        True,
    )
    assert (saga.item_count, saga.pending_due, saga.end_reason) == (1, None, None)
    assert saga.started_at == START
    (email,) = world.ask(list_emails, order_id=order_id).items
    assert (email.kind, email.status, email.attempts) == (EmailKind.ORDER_RECEIVED, "sent", 1)
    assert email.subject.startswith("BookWorm: ")
    assert email.transport_id == f"{email.email_id}.eml"
    assert email.sent_at == START
    assert world.ask(get_email, email.email_id) == email


def test_each_timeout_counts_an_attempt_and_the_last_cancels(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    order_id = flows.order(buyer, {book: 1})
    flows.run(dropping=UNHEARD)
    world.catch_up()
    first = world.ask(get_order_saga, order_id)

    flows.tick(dropping=UNHEARD)
    world.catch_up()
    second = world.ask(get_order_saga, order_id)

    flows.tick(dropping=UNHEARD)
    flows.tick(dropping=UNHEARD)
    world.catch_up()
    last = world.ask(get_order_saga, order_id)

    assert first is not None
    assert second is not None
    assert last is not None
    assert (first.state, first.attempts, first.pending_due) == (
        SagaState.PLACED,
        1,
        START + HALF_HOUR,
    )
    assert (second.attempts, second.pending_due) == (2, START + 2 * HALF_HOUR)
    assert (last.state, last.attempts, last.pending_due, last.end_reason) == (
        SagaState.CANCELLED,
        3,
        None,
        "checkout_timed_out",
    )
    order = world.ask(get_order, Caller.administrator(), order_id)
    assert order is not None
    assert order.status == ordering.OrderStatus.CANCELLED
    kinds = [e.kind for e in world.ask(list_emails, order_id=order_id).items]
    assert kinds == [EmailKind.ORDER_CANCELLED, EmailKind.ORDER_RECEIVED]  # newest first


def test_a_failed_checkout_shows_the_saga_failed_and_the_order_deleted(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    order_id = flows.order(buyer, {book: 1})
    world.shop.fill_basket(buyer, {book: 5})  # the basket changed before the checkout

    flows.run()
    world.catch_up()

    saga = world.ask(get_order_saga, order_id)
    assert saga is not None
    assert (saga.state, saga.checked_out, saga.checkout_failure) == (
        SagaState.FAILED,
        False,
        "basket_changed",
    )
    assert saga.end_reason == "basket_changed"
    order = world.ask(get_order, Caller.administrator(), order_id)
    assert order is not None
    assert order.deleted
    assert world.ask(get_order, Caller.user(buyer), order_id) is None


def test_a_completed_order_ends_its_saga_completed(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    order_id = flows.order(buyer, {book: 1})
    flows.run()
    world.later(10)
    world.shop.send(ordering.CompleteOrder(order_id=order_id))
    flows.run()

    world.catch_up()

    saga = world.ask(get_order_saga, order_id)
    assert saga is not None
    assert (saga.state, saga.updated_at) == (SagaState.COMPLETED, world.clock.now())
    emails = world.ask(list_emails, order_id=order_id).items
    assert [(e.kind, e.status) for e in emails] == [
        (EmailKind.ORDER_COMPLETED, EmailStatus.SENT),
        (EmailKind.ORDER_RECEIVED, EmailStatus.SENT),
    ]


def test_sagas_are_paged_newest_first_and_filtered_by_state(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    orders = []
    for _ in range(3):
        world.later()
        orders.append(flows.order(buyer, {book: 1}))
        flows.run()
    world.shop.send(ordering.CompleteOrder(order_id=orders[0]))
    flows.run()
    world.catch_up()

    first = world.ask(list_order_sagas, page=PageRequest(page=1, page_size=2))
    second = world.ask(list_order_sagas, page=PageRequest(page=2, page_size=2))
    placed = world.ask(list_order_sagas, state=SagaState.PLACED)
    failed = world.ask(list_order_sagas, state=SagaState.FAILED)

    assert [s.order_id for s in first.items] == [orders[2], orders[1]]
    assert [s.order_id for s in second.items] == [orders[0]]
    assert (first.total_items, first.total_pages, first.has_next, second.has_next) == (
        3,
        2,
        True,
        False,
    )
    assert [s.order_id for s in placed.items] == [orders[2], orders[1]]
    assert (failed.items, failed.total_items) == ([], 0)
    assert world.ask(get_order_saga, uuid.uuid4()) is None


def test_an_email_the_transport_refuses_shows_failed_and_is_found_for_the_resend_job(
    world: World, flows: Flows, buyer: uuid.UUID, book: uuid.UUID
) -> None:
    flows.break_the_outbox()
    order_id = flows.order(buyer, {book: 1})

    flows.run()
    world.catch_up()

    (email,) = world.ask(list_emails, order_id=order_id).items
    assert (email.status, email.attempts, email.final, email.sent_at) == (
        EmailStatus.FAILED,
        3,
        False,
        None,
    )
    assert email.last_error is not None
    assert "cannot write" in email.last_error
    failed = world.ask(list_emails, status=EmailStatus.FAILED)
    assert [e.email_id for e in failed.items] == [email.email_id]
    assert world.ask(list_emails, status=EmailStatus.SENT).total_items == 0
    job = QueryModelFailedEmails(world.engine)
    assert job.find(limit=100, stale_before=world.clock.now()) == [email.email_id]
    # A failed email is taken up however recently it failed; a sent one never.
    assert job.find(limit=1, stale_before=world.clock.now() - timedelta(days=1)) == [email.email_id]


def test_the_sagas_and_emails_show_no_personal_data_and_rebuild_the_same(
    world: World, flows: Flows, book: uuid.UUID
) -> None:
    ada = world.shop.buyer("Ada Lovelace", "ada@example.org")
    charles = world.shop.buyer("Charles Babbage", "charles@example.org")
    placed = [flows.order(ada, {book: 1}), flows.order(charles, {book: 2})]
    flows.run()
    world.shop.send(ordering.CompleteOrder(order_id=placed[1]))
    flows.run()
    world.shop.send(ordering.ForgetBuyer(buyer_id=ada))
    later = flows.order(charles, {book: 3})
    flows.run(dropping=UNHEARD)
    flows.tick(dropping=UNHEARD)
    world.catch_up()
    live = {view: world.rows(view) for view in ("order_sagas", "emails")}

    world.rebuild()

    assert {view: world.rows(view) for view in live} == live
    assert len(live["order_sagas"]) == 3
    assert (
        len(live["emails"]) == 4
    )  # received x3 (Ada's sent before she was forgotten), completed x1
    saga = world.ask(get_order_saga, later)
    assert saga is not None
    assert saga.attempts == 2
    leaked = [c for c in world.every_cell() if "ada@example.org" in c or "Ada Lovelace" in c]
    assert leaked == []
