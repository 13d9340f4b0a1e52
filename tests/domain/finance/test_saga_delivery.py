"""The order saga under at-least-once delivery in no set order across streams: a redelivered
event changes nothing, a final state ignores everything, events that overtake each other are
handled as they should, and every command the saga sends names its cause."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest

from read_side.targets.sql import SqlTarget
from tests.domain.conftest import START
from tests.domain.finance.conftest import Placed, Saga, make_saga
from tests.domain.shop import Shop, types_of
from write_side.basket import Basket, BasketCheckedOut, BasketCheckoutFailed
from write_side.domain import ManualClock
from write_side.envelope import DomainEvent, StoredEvent
from write_side.eventstore import EventStore
from write_side.finance import (
    OrderSaga,
    OrderSagaManager,
    SagaNotStarted,
    SagaSettings,
    SagaState,
    SagaTimeoutScheduled,
)
from write_side.ids import derive_id
from write_side.notification import EmailKind
from write_side.ordering import (
    CancelOrder,
    CompleteOrder,
    ForgetBuyer,
    Order,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderStatus,
)
from write_side.scheduler import TimerElapsed

HALF_HOUR = timedelta(minutes=30)
UNHEARD = {BasketCheckedOut.event_type, BasketCheckoutFailed.event_type}


class Snapshot(NamedTuple):
    """Everything the saga may write or cause, for one order."""

    saga: list[DomainEvent]
    order: list[DomainEvent]
    basket: list[DomainEvent]
    emails: list[EmailKind]


def snapshot(saga: Saga, placed: Placed) -> Snapshot:
    """What the saga wrote and caused for the order, now."""
    return Snapshot(
        saga.saga_events(placed.order_id),
        saga.order_events(placed.order_id),
        saga.events(Basket.stream_for(placed.buyer_id)),
        saga.emails(placed.order_id),
    )


def stored_in(saga: Saga, stream: str, event_type: str) -> StoredEvent:
    """The last event of a type in a stream, as a process manager receives it."""
    store = saga.shop.repository.store
    [*_, last] = [r for r in store.read_stream(stream) if r.type == event_type]
    return saga.shop.repository.registry.decode(last)


def test_redelivering_every_event_of_a_completed_order_changes_nothing(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run()
    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    saga.run()
    before = snapshot(saga, placed)

    saga.deliveries.redeliver_everything()
    saga.deliveries.redeliver_everything()

    assert snapshot(saga, placed) == before
    assert before.emails == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_COMPLETED]


def test_redelivering_every_event_of_a_timed_out_order_changes_nothing(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)
    for _ in range(3):
        saga.tick(HALF_HOUR, dropping=UNHEARD)
    before = snapshot(saga, placed)

    saga.deliveries.redeliver_everything()
    saga.tick(timedelta(hours=2))

    assert snapshot(saga, placed) == before
    assert types_of(before.order) == ["OrderPlaced", "OrderCancelled"]


def test_a_crash_after_recording_is_mended_by_the_redelivery(
    saga: Saga, event_store: EventStore
) -> None:
    placed = saga.place_order()
    placed_event = stored_in(saga, Order.stream_for(placed.order_id), OrderPlaced.event_type)
    # The first delivery recorded the step but died before asking anything of anyone.
    manager = saga.manager
    step = manager._step(placed_event)  # half of `handle`, as a crash leaves it
    assert step is not None
    order_id, command, decide = step
    saga.shop.repository.execute(OrderSaga, order_id, command, decide)
    asked_before = saga.emails(placed.order_id)

    manager.handle(placed_event)  # the redelivery

    assert asked_before == []
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED]
    assert BasketCheckedOut(order_id=placed.order_id) in saga.events(
        Basket.stream_for(placed.buyer_id)
    )
    assert types_of(saga.saga_events(placed.order_id)) == [
        "OrderSagaStarted",
        "BasketCheckoutRequested",
        "SagaTimeoutScheduled",
    ]


@pytest.mark.parametrize("ending", ["completed", "cancelled", "failed", "timed_out"])
def test_a_final_state_ignores_everything(saga: Saga, ending: str) -> None:
    placed = saga.place_order(quantity=1)
    if ending == "failed":
        saga.shop.fill_basket(placed.buyer_id, {placed.book_id: 4})
    saga.run(dropping=UNHEARD if ending == "timed_out" else ())
    if ending == "completed":
        saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    if ending == "cancelled":
        saga.shop.send(CancelOrder(order_id=placed.order_id, roles=frozenset({"admin"})))
    for _ in range(3 if ending == "timed_out" else 0):
        saga.tick(HALF_HOUR, dropping=UNHEARD)
    saga.run()
    final = saga.saga(placed.order_id)
    assert final.state is not SagaState.PLACED
    before = saga.saga_events(placed.order_id)
    emails = saga.emails(placed.order_id)
    [original] = [e for e in saga.order_events(placed.order_id) if isinstance(e, OrderPlaced)]
    scheduled = next(e for e in before if isinstance(e, SagaTimeoutScheduled))

    saga.shop.given(Order.stream_for(placed.order_id), original)
    saga.shop.given(Order.stream_for(placed.order_id), OrderCompleted())
    saga.shop.given(Order.stream_for(placed.order_id), OrderCancelled(reason="late"))
    saga.shop.given(
        Basket.stream_for(placed.buyer_id),
        BasketCheckedOut(order_id=placed.order_id),
        BasketCheckoutFailed(order_id=placed.order_id, reason="basket_deleted"),
    )
    # The first timer elapsing (again, under an id of its own: a store that does not de-duplicate)
    saga.shop.given(
        OrderSaga.stream_for(placed.order_id),
        TimerElapsed(timer_id=scheduled.timer_id, due_at=START + HALF_HOUR),
    )
    saga.run()

    after = saga.saga_events(placed.order_id)
    assert after[: len(before)] == before
    assert types_of(after[len(before) :]) == ["TimerElapsed"]  # only what the test appended
    assert saga.saga(placed.order_id).state is final.state
    assert saga.emails(placed.order_id) == emails


def test_an_order_event_before_its_placement_was_handled_comes_again_later(
    saga: Saga,
) -> None:
    placed = saga.place_order()
    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    completed = stored_in(saga, Order.stream_for(placed.order_id), OrderCompleted.event_type)

    with pytest.raises(SagaNotStarted):
        saga.manager.handle(completed)  # overtook OrderPlaced: asked for again
    saga.run()

    assert saga.saga(placed.order_id).state is SagaState.COMPLETED
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_COMPLETED]


def test_a_timeout_that_elapsed_as_the_basket_checked_out_is_ignored(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)
    saga.clock.advance(HALF_HOUR)
    saga.timers.fire()  # the timer elapses; the saga has not heard of it yet
    checked_out = stored_in(saga, Basket.stream_for(placed.buyer_id), BasketCheckedOut.event_type)

    saga.manager.handle(checked_out)  # the basket's answer comes first
    saga.run()  # then TimerElapsed

    assert types_of(saga.saga_events(placed.order_id))[3:] == [
        "TimerElapsed",  # appended first, handled last: by then no longer the pending timer
        "BasketCheckoutConfirmed",
        "SagaTimeoutCancelled",
    ]
    assert saga.saga(placed.order_id).attempts == 1


def test_the_last_timeout_leaves_an_order_completed_meanwhile_as_it_is(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)
    saga.tick(HALF_HOUR, dropping=UNHEARD)
    saga.tick(HALF_HOUR, dropping=UNHEARD)
    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    saga.clock.advance(HALF_HOUR)
    saga.timers.fire()
    last_timeout = stored_in(saga, OrderSaga.stream_for(placed.order_id), TimerElapsed.event_type)

    refused = saga.manager.handle(last_timeout)  # before the saga heard of the completion
    saga.run()

    assert refused is None
    assert saga.shop.repository.load(Order, placed.order_id).status is OrderStatus.COMPLETED
    assert saga.saga(placed.order_id).state is SagaState.COMPLETED
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_COMPLETED]


def test_no_email_for_a_forgotten_buyer(saga: Saga) -> None:
    placed = saga.place_order()
    saga.shop.send(ForgetBuyer(buyer_id=placed.buyer_id, actor="admin"))

    saga.run()
    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    saga.run()

    assert saga.saga(placed.order_id).state is SagaState.COMPLETED
    assert types_of(saga.saga_events(placed.order_id))[3] == "BasketCheckoutConfirmed"
    assert saga.emails(placed.order_id) == []


def test_every_command_of_the_saga_is_derived_from_its_cause_and_joins_the_flow(
    saga: Saga,
) -> None:
    placed = saga.place_order()
    saga.run()
    registry = saga.shop.repository.registry
    store = saga.shop.repository.store
    order_placed = stored_in(saga, Order.stream_for(placed.order_id), OrderPlaced.event_type)
    saga_events = [
        registry.decode(r) for r in store.read_stream(OrderSaga.stream_for(placed.order_id))
    ]
    requested = saga_events[1]
    checked_out = stored_in(saga, Basket.stream_for(placed.buyer_id), BasketCheckedOut.event_type)

    assert order_placed.metadata is not None
    flow = order_placed.metadata.correlation_id
    for recorded in saga_events[:3]:
        assert recorded.metadata is not None
        assert recorded.metadata.causation_id == order_placed.id
        assert recorded.metadata.command_id == derive_id(order_placed.id, "order_saga")
        assert recorded.metadata.correlation_id == flow
        assert recorded.metadata.actor == "system:order_saga"
    assert checked_out.metadata is not None
    assert checked_out.metadata.causation_id == requested.id
    assert checked_out.metadata.command_id == derive_id(
        requested.id, "order_saga", "checkout-basket"
    )
    assert checked_out.metadata.correlation_id == flow


def test_attempts_and_timeout_are_configurable(
    shop: Shop, query_store: SqlTarget, clock: ManualClock
) -> None:
    quick = make_saga(shop, query_store, SagaSettings(max_attempts=1, timeout=timedelta(minutes=5)))
    placed = quick.place_order()
    quick.run(dropping=UNHEARD)

    quick.tick(timedelta(minutes=5), dropping=UNHEARD)

    assert quick.saga(placed.order_id).state is SagaState.CANCELLED
    assert quick.shop.repository.load(Order, placed.order_id).status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    "settings", [{"max_attempts": 0}, {"timeout": timedelta(0)}, {"timeout": -HALF_HOUR}]
)
def test_settings_need_an_attempt_and_a_positive_timeout(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SagaSettings(**settings)  # type: ignore[arg-type]


def test_the_saga_is_a_process_manager_of_the_events_it_needs() -> None:
    assert OrderSagaManager.name == "order_saga"
    for event_type in (
        "OrderPlaced",
        "BasketCheckedOut",
        "BasketCheckoutFailed",
        "OrderCompleted",
        "OrderCancelled",
        "TimerElapsed",
    ):
        assert OrderSagaManager.filter.matches("any-1", event_type)
    assert not OrderSagaManager.filter.matches("any-1", "OrderDeleted")
