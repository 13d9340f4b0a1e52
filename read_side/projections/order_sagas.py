"""`order_sagas`: each order saga's state, checkout attempts and pending timeout (SQL target).

One row per saga (stream `ordersaga-{order id}`), folded in Python per batch from the saga's
own events, as `write_side.finance.saga` evolves them: Placed, then Completed, Cancelled or
Failed; the attempt last asked for; whether the basket checked out; the timeout pending, if
any; and why the saga ended. No personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    Table,
    Text,
    Uuid,
)

from read_side.projections.ordering_sql import RowPerStream, occurred_at, table_of
from read_side.targets.sql import UtcDateTime
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.finance import (
    BasketCheckoutConfirmed,
    BasketCheckoutRejected,
    BasketCheckoutRequested,
    OrderSagaCancelled,
    OrderSagaCompleted,
    OrderSagaFailed,
    OrderSagaStarted,
    SagaState,
    SagaTimeoutCancelled,
    SagaTimeoutScheduled,
)
from write_side.registry import REGISTRY

NAME = "order_sagas"
SAGA_EVENTS = (
    OrderSagaStarted,
    BasketCheckoutRequested,
    BasketCheckoutConfirmed,
    BasketCheckoutRejected,
    SagaTimeoutScheduled,
    SagaTimeoutCancelled,
    OrderSagaCompleted,
    OrderSagaCancelled,
    OrderSagaFailed,
)


def saga_columns() -> list[Any]:
    """The columns of the sagas table (and of its view)."""
    return [
        Column("order_id", Uuid, primary_key=True),
        Column("buyer_id", Uuid, nullable=False),
        Column("state", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("checked_out", Boolean, nullable=False),
        Column("item_count", Integer, nullable=False),
        Column("pending_timer", Uuid),
        Column("pending_due", UtcDateTime),
        Column("checkout_failure", Text),
        Column("end_reason", Text),
        Column("started_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        # The `$all` position of OrderSagaStarted: the tie-breaker of "newest first".
        Column("started_position", BigInteger, nullable=False),
        Column("version", Integer, nullable=False),
    ]


#: What queries read: the live build through the stable view.
ORDER_SAGAS = table_of(NAME, saga_columns)


class OrderSagasProjection(RowPerStream):
    """The state of every order saga, for operators."""

    name: ClassVar[str] = NAME
    handles: ClassVar[EventFilter] = EventFilter.event_types(*(e.event_type for e in SAGA_EVENTS))

    def __init__(self) -> None:
        super().__init__(saga_columns)

    def indexes(self, table: Table) -> Mapping[str, Sequence[Column[Any]]]:
        return {"by_state": (table.c.state, table.c.started_position)}

    def fold(
        self, rows: dict[UUID, dict[str, Any]], order_id: UUID, recorded: RecordedEvent
    ) -> None:
        stored = REGISTRY.decode(recorded)
        event, at = stored.event, occurred_at(stored)
        if isinstance(event, OrderSagaStarted):
            rows[order_id] = {
                "order_id": order_id,
                "buyer_id": event.buyer_id,
                "state": SagaState.PLACED.value,
                "attempts": 0,
                "checked_out": False,
                "item_count": len(event.items),
                "pending_timer": None,
                "pending_due": None,
                "checkout_failure": None,
                "end_reason": None,
                "started_at": at,
                "started_position": recorded.position,
            }
        row = rows.get(order_id)
        if row is None:
            raise LookupError(f"{recorded.type} of saga {order_id}, which never started")
        if isinstance(event, BasketCheckoutRequested):
            row["attempts"] = event.attempt
        elif isinstance(event, SagaTimeoutScheduled):
            row.update(pending_timer=event.timer_id, pending_due=event.due_at)
        elif isinstance(event, SagaTimeoutCancelled):
            if row["pending_timer"] == event.timer_id:
                row.update(pending_timer=None, pending_due=None)
        elif isinstance(event, BasketCheckoutConfirmed):
            row["checked_out"] = True
        elif isinstance(event, BasketCheckoutRejected):
            row["checkout_failure"] = event.reason
        elif isinstance(event, OrderSagaCompleted):
            _end(row, SagaState.COMPLETED, None)
        elif isinstance(event, OrderSagaCancelled):
            _end(row, SagaState.CANCELLED, event.reason)
        elif isinstance(event, OrderSagaFailed):
            _end(row, SagaState.FAILED, event.reason)
        row.update(updated_at=at, version=recorded.revision)


def _end(row: dict[str, Any], state: SagaState, reason: str | None) -> None:
    row.update(state=state.value, end_reason=reason, pending_timer=None, pending_due=None)
