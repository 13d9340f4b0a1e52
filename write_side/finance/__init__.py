"""The Finance bounded context: the order saga (stream `ordersaga-{order id}`), which checks the
basket out for a placed order, times the checkout out (durable timers, 3 attempts, 30 minutes each
by default), compensates a failed checkout and asks for the buyer's emails.

Import this package to register its events and timer declarations. `process_managers(bus)`
gives the worker's process managers: the saga and the runner of recurring jobs.
"""

from write_side.domain import CommandBus, ProcessManager
from write_side.finance.commands import (
    CancelOrderSaga,
    CompleteOrderSaga,
    ConfirmBasketCheckout,
    ExpireSagaTimeout,
    RejectBasketCheckout,
    StartOrderSaga,
)
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
from write_side.finance.process import OrderSagaManager
from write_side.finance.saga import (
    CHECKOUT_TIMED_OUT,
    ORDER_CANCELLED,
    OrderSaga,
    SagaNotStarted,
    SagaSettings,
    SagaState,
)
from write_side.scheduler import JOBS, JobRegistry, RecurringJobs


def process_managers(
    bus: CommandBus, *, settings: SagaSettings | None = None, jobs: JobRegistry = JOBS
) -> list[ProcessManager]:
    """The order saga and the recurring-job runner, sending their commands through `bus`."""
    return [OrderSagaManager(bus, settings), RecurringJobs(bus, jobs)]


__all__ = [
    "CHECKOUT_TIMED_OUT",
    "ORDER_CANCELLED",
    "BasketCheckoutConfirmed",
    "BasketCheckoutRejected",
    "BasketCheckoutRequested",
    "CancelOrderSaga",
    "CompleteOrderSaga",
    "ConfirmBasketCheckout",
    "ExpireSagaTimeout",
    "OrderSaga",
    "OrderSagaCancelled",
    "OrderSagaCompleted",
    "OrderSagaFailed",
    "OrderSagaManager",
    "OrderSagaStarted",
    "RejectBasketCheckout",
    "SagaNotStarted",
    "SagaSettings",
    "SagaState",
    "SagaTimeoutCancelled",
    "SagaTimeoutScheduled",
    "StartOrderSaga",
    "process_managers",
]
