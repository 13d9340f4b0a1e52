"""`due_timers`: the due-time table of durable timers (SQL target), which the timer service polls.

It follows the event types the contexts declared in `write_side.scheduler.TIMERS`, taken when
the projection is made (the contexts that declare timers are imported here, so none is missed):
an event that schedules a timer adds a pending row (or moves a pending one), one that cancels
it marks it cancelled, and `TimerElapsed` marks it elapsed. A row that is no longer pending
stays as it was: a late `TimerElapsed` does not turn a cancelled timer into an elapsed one.
Rows are kept (they are few, one per timer) so operators can see what fired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, Text, select, update

import write_side.finance  # noqa: F401 (its timer declarations, however this module is reached)
from read_side.projection import Projection
from read_side.targets.sql import SqlTx, UtcDateTime, dialect_insert
from write_side.envelope import DomainEvent, EventRegistry
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.registry import REGISTRY
from write_side.scheduler import TIMERS, DueTimer, TimerEventKind, TimerRegistry, timer_fields

PENDING, CANCELLED, ELAPSED = "pending", "cancelled", "elapsed"


def timers_table(name: str) -> Table:
    """The table (or the stable view) `name` of due timers."""
    return Table(
        name,
        MetaData(),
        Column("timer_id", Text, primary_key=True),
        Column("stream", Text, nullable=False),
        Column("due_at", UtcDateTime, nullable=False),
        Column("state", Text, nullable=False),
        Column("scheduled_by", Text, nullable=False),
        Column("correlation_id", Text, nullable=False),
        Column("scheduled_position", BigInteger, nullable=False),
        Column("settled_position", BigInteger),
        Index(f"{name}_pending", "state", "due_at"),
    )


@dataclass(frozen=True, slots=True)
class TimerRow:
    """One timer as the table holds it."""

    timer_id: UUID
    stream: str
    due_at: datetime
    state: str


class DueTimers(Projection[SqlTx]):
    """Pending, cancelled and elapsed timers, by timer id, with their owner stream and due time."""

    name: ClassVar[str] = "due_timers"
    target_kind: ClassVar[str] = "sql"

    def __init__(self, timers: TimerRegistry = TIMERS, registry: EventRegistry = REGISTRY) -> None:
        self.timers = timers
        self.registry = registry
        # Per instance: the declarations are complete only once the contexts are imported.
        self.handles = EventFilter.event_types(*timers.event_types())  # type: ignore[misc]

    def create(self, tx: SqlTx, build: int) -> None:
        timers_table(tx.table(self.name, build)).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        table = timers_table(tx.table(self.name, build))
        for recorded in events:
            kind = self.timers.kind_of(recorded.type)
            if kind is None:
                continue
            stored = self.registry.decode(recorded)
            event = stored.event
            if not isinstance(event, DomainEvent):
                raise TypeError(f"{recorded.type} at {recorded.position} is not a known event")
            timer_id, due_at = timer_fields(event)
            if kind is TimerEventKind.SCHEDULES:
                if due_at is None:
                    raise TypeError(f"{recorded.type} at {recorded.position} has no due_at")
                metadata = stored.metadata
                correlation = recorded.id if metadata is None else metadata.correlation_id
                self._schedule(tx, table, recorded, timer_id, due_at, correlation)
            else:
                state = CANCELLED if kind is TimerEventKind.CANCELS else ELAPSED
                tx.connection.execute(
                    update(table)
                    .where(table.c.timer_id == str(timer_id), table.c.state == PENDING)
                    .values(state=state, settled_position=recorded.position)
                )

    @staticmethod
    def _schedule(
        tx: SqlTx,
        table: Table,
        recorded: RecordedEvent,
        timer_id: UUID,
        due_at: datetime,
        correlation_id: UUID,
    ) -> None:
        values = {
            "timer_id": str(timer_id),
            "stream": recorded.stream,
            "due_at": due_at,
            "state": PENDING,
            "scheduled_by": str(recorded.id),
            "correlation_id": str(correlation_id),
            "scheduled_position": recorded.position,
        }
        statement = dialect_insert(tx.dialect, table).values(values)
        tx.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.timer_id],
                set_={
                    name: statement.excluded[name]
                    for name in ("stream", "due_at", "scheduled_by", "scheduled_position")
                },
                where=table.c.state == PENDING,
            )
        )


def pending_due(tx: SqlTx, now: datetime, *, limit: int) -> list[DueTimer]:
    """Pending timers due at or before `now`, earliest first, at most `limit` (none before the
    projection's first build exists)."""
    if tx.live_build(DueTimers.name) is None:
        return []
    table = timers_table(DueTimers.name)
    rows = tx.connection.execute(
        select(
            table.c.timer_id,
            table.c.stream,
            table.c.due_at,
            table.c.scheduled_by,
            table.c.correlation_id,
        )
        .where(table.c.state == PENDING, table.c.due_at <= now)
        .order_by(table.c.due_at, table.c.timer_id)
        .limit(limit)
    ).all()
    return [
        DueTimer(
            timer_id=UUID(row.timer_id),
            stream=row.stream,
            due_at=row.due_at,
            scheduled_by=UUID(row.scheduled_by),
            correlation_id=UUID(row.correlation_id),
        )
        for row in rows
    ]


def find_timer(tx: SqlTx, timer_id: UUID) -> TimerRow | None:
    """One timer of the live build, whatever its state; None when the table has no such timer."""
    if tx.live_build(DueTimers.name) is None:
        return None
    table = timers_table(DueTimers.name)
    row = tx.connection.execute(
        select(table.c.stream, table.c.due_at, table.c.state).where(
            table.c.timer_id == str(timer_id)
        )
    ).one_or_none()
    return None if row is None else TimerRow(timer_id, row.stream, row.due_at, row.state)
