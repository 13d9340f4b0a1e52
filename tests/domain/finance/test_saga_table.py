"""The order saga, row by row of DOMAIN.md's table: given an order, when the saga hears of an
event (and the clock moves on), then the saga's events, what it asked of the basket, the order
and Notification, and its state."""

from __future__ import annotations

from datetime import timedelta

from tests.domain.conftest import START
from tests.domain.finance.conftest import Saga
from tests.domain.shop import types_of
from write_side.basket import Basket, BasketCheckedOut, BasketCheckoutFailed
from write_side.finance import (
    BasketCheckoutRejected,
    BasketCheckoutRequested,
    OrderSagaCancelled,
    OrderSagaFailed,
    OrderSagaStarted,
    SagaState,
    SagaTimeoutCancelled,
    SagaTimeoutScheduled,
)
from write_side.notification import EmailKind
from write_side.ordering import (
    CancelOrder,
    CompleteOrder,
    Order,
    OrderCancelled,
    OrderDeleted,
    OrderPlaced,
)
from write_side.scheduler import TimerElapsed

HALF_HOUR = timedelta(minutes=30)
#: The basket's answer never reaches the saga (its group lags, a message is lost).
UNHEARD = {BasketCheckedOut.event_type, BasketCheckoutFailed.event_type}


def test_order_placed_starts_asks_for_the_checkout_and_the_email_and_schedules_a_timeout(
    saga: Saga,
) -> None:
    placed = saga.place_order(quantity=2)

    saga.run(dropping=UNHEARD)

    started, requested, scheduled = saga.saga_events(placed.order_id)
    assert isinstance(started, OrderSagaStarted)
    assert (started.order_id, started.buyer_id) == (placed.order_id, placed.buyer_id)
    assert [(line.book_id, line.quantity) for line in started.items] == [(placed.book_id, 2)]
    assert requested == BasketCheckoutRequested(attempt=1)
    assert isinstance(scheduled, SagaTimeoutScheduled)
    assert scheduled.due_at == START + HALF_HOUR
    assert saga.saga(placed.order_id).state is SagaState.PLACED
    assert BasketCheckedOut(order_id=placed.order_id) in saga.events(
        Basket.stream_for(placed.buyer_id)
    )
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED]
    assert saga.email_recipients(placed.order_id) == [("Ada Lovelace", "ada@example.org")]


def test_a_duplicate_order_placed_does_nothing(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)
    before = saga.saga_events(placed.order_id)
    [original] = [e for e in saga.order_events(placed.order_id) if isinstance(e, OrderPlaced)]

    saga.shop.given(Order.stream_for(placed.order_id), original)  # a second one
    saga.run(dropping=UNHEARD)

    assert saga.saga_events(placed.order_id) == before
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED]


def test_a_timeout_with_attempts_left_asks_again_and_schedules_the_next(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)

    saga.tick(HALF_HOUR, dropping=UNHEARD)

    events = saga.saga_events(placed.order_id)
    first_timer = events[2]
    assert isinstance(first_timer, SagaTimeoutScheduled)
    assert events[3:] == [
        TimerElapsed(timer_id=first_timer.timer_id, due_at=START + HALF_HOUR),
        BasketCheckoutRequested(attempt=2),
        SagaTimeoutScheduled(
            timer_id=saga.saga(placed.order_id).pending_timer, due_at=START + 2 * HALF_HOUR
        ),
    ]
    assert saga.saga(placed.order_id).state is SagaState.PLACED
    # The basket answered the first request; the second one, for the same order, writes nothing.
    basket_events = saga.events(Basket.stream_for(placed.buyer_id))
    assert types_of(basket_events).count("BasketCheckedOut") == 1


def test_a_timeout_with_no_attempt_left_cancels_the_order_and_asks_for_the_email(
    saga: Saga,
) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)

    saga.tick(HALF_HOUR, dropping=UNHEARD)
    saga.tick(HALF_HOUR, dropping=UNHEARD)
    saga.tick(HALF_HOUR - timedelta(seconds=1), dropping=UNHEARD)
    still_placed = saga.saga(placed.order_id).state
    saga.tick(timedelta(seconds=1), dropping=UNHEARD)

    assert still_placed is SagaState.PLACED
    events = saga.saga_events(placed.order_id)
    assert [e.attempt for e in events if isinstance(e, BasketCheckoutRequested)] == [1, 2, 3]
    assert events[-1] == OrderSagaCancelled(reason="checkout_timed_out")
    assert saga.saga(placed.order_id).state is SagaState.CANCELLED
    assert saga.order_events(placed.order_id)[-1] == OrderCancelled(
        reason="the basket did not check out after 3 attempts"
    )
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_CANCELLED]


def test_basket_checked_out_cancels_the_pending_timeout(saga: Saga) -> None:
    placed = saga.place_order()

    saga.run()
    saga.tick(timedelta(hours=3))

    _, _, scheduled, *rest = saga.saga_events(placed.order_id)
    assert isinstance(scheduled, SagaTimeoutScheduled)
    assert types_of(rest) == ["BasketCheckoutConfirmed", "SagaTimeoutCancelled"]
    assert rest[1] == SagaTimeoutCancelled(timer_id=scheduled.timer_id)
    timer = saga.timers.find(scheduled.timer_id)
    assert timer is not None
    assert timer.state == "cancelled"
    assert saga.saga(placed.order_id).state is SagaState.PLACED
    assert types_of(saga.order_events(placed.order_id)) == ["OrderPlaced"]


def test_basket_checkout_failed_soft_deletes_the_order(saga: Saga) -> None:
    placed = saga.place_order(quantity=1)
    saga.shop.fill_basket(placed.buyer_id, {placed.book_id: 3})  # changed after placing

    saga.run()

    events = saga.saga_events(placed.order_id)
    assert types_of(events)[3:] == [
        "BasketCheckoutRejected",
        "SagaTimeoutCancelled",
        "OrderSagaFailed",
    ]
    assert events[3] == BasketCheckoutRejected(reason="basket_changed")
    assert events[5] == OrderSagaFailed(reason="basket_changed")
    assert saga.saga(placed.order_id).state is SagaState.FAILED
    assert saga.order_events(placed.order_id)[-1] == OrderDeleted(
        reason="the basket checkout failed: basket_changed"
    )
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED]


def test_order_completed_asks_for_the_completed_email(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run()

    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    saga.run()

    assert types_of(saga.saga_events(placed.order_id))[-1] == "OrderSagaCompleted"
    assert saga.saga(placed.order_id).state is SagaState.COMPLETED
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_COMPLETED]


def test_order_cancelled_asks_for_the_cancelled_email(saga: Saga) -> None:
    placed = saga.place_order()
    saga.run()

    saga.shop.send(
        CancelOrder(order_id=placed.order_id, roles=frozenset({"user"}), actor=str(placed.buyer_id))
    )
    saga.run()

    assert saga.saga_events(placed.order_id)[-1] == OrderSagaCancelled(reason="order_cancelled")
    assert saga.saga(placed.order_id).state is SagaState.CANCELLED
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_CANCELLED]


def test_order_completed_before_the_checkout_was_heard_cancels_the_pending_timeout(
    saga: Saga,
) -> None:
    placed = saga.place_order()
    saga.run(dropping=UNHEARD)

    saga.shop.send(CompleteOrder(order_id=placed.order_id, actor="admin"))
    saga.run()
    saga.tick(timedelta(hours=3))

    assert types_of(saga.saga_events(placed.order_id))[3:] == [
        "SagaTimeoutCancelled",
        "OrderSagaCompleted",
    ]
    assert saga.emails(placed.order_id) == [EmailKind.ORDER_RECEIVED, EmailKind.ORDER_COMPLETED]
