"""The OrderSaga aggregate (stream `ordersaga-{order id}`): the order saga's state and decisions,
state by state as DOMAIN.md's table says.

| from   | on                     | decides                                            | to        |
|--------|------------------------|----------------------------------------------------|-----------|
| (none) | OrderPlaced            | started; checkout requested (1); timeout scheduled | Placed    |
| Placed | OrderPlaced again      | nothing                                            | Placed    |
| Placed | timeout, attempts left | checkout requested (n + 1); next timeout scheduled | Placed    |
| Placed | timeout, none left     | cancelled (`checkout_timed_out`)                   | Cancelled |
| Placed | BasketCheckedOut       | checkout confirmed; pending timeout cancelled      | Placed    |
| Placed | BasketCheckoutFailed   | checkout rejected; failed                          | Failed    |
| Placed | OrderCompleted         | completed                                          | Completed |
| Placed | OrderCancelled         | cancelled (`order_cancelled`)                      | Cancelled |
| final  | anything               | nothing                                            | unchanged |

Leaving Placed cancels a pending timeout. What the saga asks of others (the checkout, the
emails, the order's cancellation or deletion) follows from these events: see `process.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from write_side.basket import BasketLine
from write_side.domain import Aggregate, Command, applies
from write_side.envelope import DomainEvent
from write_side.finance.commands import ExpireSagaTimeout, StartOrderSaga
from write_side.finance.events import (
    BasketCheckoutConfirmed,
    BasketCheckoutRejected,
    BasketCheckoutRequested,
    OrderSagaCancelled,
    OrderSagaCompleted,
    OrderSagaFailed,
    OrderSagaStarted,
    SagaTimeoutCancelled,
    SagaTimeoutScheduled,
)
from write_side.ids import derive_id
from write_side.scheduler import TimerElapsed

#: `OrderSagaCancelled.reason` when the saga cancelled the order itself.
CHECKOUT_TIMED_OUT = "checkout_timed_out"
#: `OrderSagaCancelled.reason` when someone else cancelled the order.
ORDER_CANCELLED = "order_cancelled"


@dataclass(frozen=True, slots=True)
class SagaSettings:
    """How often the saga asks the basket to check out, and how long it waits each time."""

    max_attempts: int = 3
    timeout: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, not {self.max_attempts}")
        if self.timeout <= timedelta(0):
            raise ValueError(f"the timeout must be positive, not {self.timeout}")


class SagaState(StrEnum):
    """Where an order saga is: Placed, then one of the final states."""

    PLACED = "Placed"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"
    FAILED = "Failed"


class SagaNotStarted(RuntimeError):
    """An event of an order arrived before the saga took the order in hand (delivery across
    streams is in no set order): raised so the event comes again later."""


class OrderSaga(Aggregate):
    """The saga of one order: its state, what the basket must hold, the checkout attempts made
    and the pending timeout."""

    category = "ordersaga"

    state: SagaState | None = None
    buyer_id: UUID | None = None
    items: tuple[BasketLine, ...] = ()
    attempts: int = 0
    checked_out: bool = False
    pending_timer: UUID | None = None
    pending_due: datetime | None = None

    @property
    def placed(self) -> bool:
        """True while the saga waits for the order's outcome."""
        return self.state is SagaState.PLACED

    # -- deciding -----------------------------------------------------------------------------

    def start(
        self, command: StartOrderSaga, now: datetime, settings: SagaSettings
    ) -> list[DomainEvent]:
        """OrderPlaced: record it, ask for the checkout, schedule the timeout; nothing when the
        saga has begun already (a duplicate)."""
        if self.exists:
            return []
        started = OrderSagaStarted(
            order_id=command.order_id, buyer_id=command.buyer_id, items=command.items
        )
        return [started, *self._request(command, 1, now, settings)]

    def confirm_checkout(self) -> list[DomainEvent]:
        """BasketCheckedOut: confirmed, and the pending timeout cancelled."""
        self._require_started()
        if not self.placed or self.checked_out:
            return []
        return [BasketCheckoutConfirmed(), *self._cancel_timeout()]

    def reject_checkout(self, reason: str) -> list[DomainEvent]:
        """BasketCheckoutFailed: rejected, and the saga fails (the order is then deleted)."""
        self._require_started()
        if not self.placed or self.checked_out:
            return []
        return [
            BasketCheckoutRejected(reason=reason),
            *self._cancel_timeout(),
            OrderSagaFailed(reason=reason),
        ]

    def gives_up_on(self, timer_id: UUID, settings: SagaSettings) -> bool:
        """Whether timer `timer_id` elapsing now ends the saga (no attempt left): the order is
        to be cancelled first."""
        return self._is_pending(timer_id) and self.attempts >= settings.max_attempts

    def time_out(
        self, command: ExpireSagaTimeout, now: datetime, settings: SagaSettings
    ) -> list[DomainEvent]:
        """The pending timeout elapsed: ask again and schedule the next, or, with no attempt
        left, end as cancelled; nothing for a timer that is not the pending one (cancelled,
        or seen before)."""
        if not self._is_pending(command.timer_id):
            return []
        if self.attempts >= settings.max_attempts:
            return [OrderSagaCancelled(reason=CHECKOUT_TIMED_OUT)]
        return self._request(command, self.attempts + 1, now, settings)

    def complete(self) -> list[DomainEvent]:
        """OrderCompleted: the saga ends as Completed."""
        self._require_started()
        if not self.placed:
            return []
        return [*self._cancel_timeout(), OrderSagaCompleted()]

    def cancel(self) -> list[DomainEvent]:
        """OrderCancelled: the saga ends as Cancelled."""
        self._require_started()
        if not self.placed:
            return []
        return [*self._cancel_timeout(), OrderSagaCancelled(reason=ORDER_CANCELLED)]

    def _request(
        self, command: Command, attempt: int, now: datetime, settings: SagaSettings
    ) -> list[DomainEvent]:
        timer_id = derive_id(command.command_id, "saga-timeout")
        return [
            BasketCheckoutRequested(attempt=attempt),
            SagaTimeoutScheduled(timer_id=timer_id, due_at=now + settings.timeout),
        ]

    def _cancel_timeout(self) -> list[DomainEvent]:
        if self.pending_timer is None:
            return []
        return [SagaTimeoutCancelled(timer_id=self.pending_timer)]

    def _is_pending(self, timer_id: UUID) -> bool:
        return self.placed and not self.checked_out and self.pending_timer == timer_id

    def _require_started(self) -> None:
        if not self.exists:
            raise SagaNotStarted(f"the saga of order {self.id} has not started yet")

    # -- evolving -----------------------------------------------------------------------------

    @applies(OrderSagaStarted)
    def _started(self, event: OrderSagaStarted) -> None:
        self.state = SagaState.PLACED
        self.buyer_id, self.items = event.buyer_id, event.items

    @applies(BasketCheckoutRequested)
    def _requested(self, event: BasketCheckoutRequested) -> None:
        self.attempts = event.attempt

    @applies(SagaTimeoutScheduled)
    def _timeout_scheduled(self, event: SagaTimeoutScheduled) -> None:
        self.pending_timer, self.pending_due = event.timer_id, event.due_at

    @applies(SagaTimeoutCancelled)
    def _timeout_cancelled(self, event: SagaTimeoutCancelled) -> None:
        if self.pending_timer == event.timer_id:
            self.pending_timer = self.pending_due = None

    @applies(TimerElapsed)
    def _timer_elapsed(self, event: TimerElapsed) -> None:
        """Nothing yet: the process manager decides on it (`ExpireSagaTimeout`), and a repeat of
        the same timer then finds it is no longer the pending one."""

    @applies(BasketCheckoutConfirmed)
    def _confirmed(self, event: BasketCheckoutConfirmed) -> None:
        self.checked_out = True

    @applies(BasketCheckoutRejected)
    def _rejected(self, event: BasketCheckoutRejected) -> None:
        """The state changes with the `OrderSagaFailed` that follows."""

    @applies(OrderSagaCompleted)
    def _completed(self, event: OrderSagaCompleted) -> None:
        self._end(SagaState.COMPLETED)

    @applies(OrderSagaCancelled)
    def _cancelled(self, event: OrderSagaCancelled) -> None:
        self._end(SagaState.CANCELLED)

    @applies(OrderSagaFailed)
    def _failed(self, event: OrderSagaFailed) -> None:
        self._end(SagaState.FAILED)

    def _end(self, state: SagaState) -> None:
        self.state = state
        self.pending_timer = self.pending_due = None


__all__ = [
    "CHECKOUT_TIMED_OUT",
    "ORDER_CANCELLED",
    "OrderSaga",
    "SagaNotStarted",
    "SagaSettings",
    "SagaState",
]
