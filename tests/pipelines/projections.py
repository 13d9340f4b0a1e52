"""Projections used by the runtime's tests (they run against the memory target)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import text

from read_side.projection import Projection
from read_side.targets import MemoryTx
from read_side.targets.sql import SqlTx
from write_side.eventstore import EventFilter, RecordedEvent


class CountsByType(Projection[MemoryTx]):
    """Given events of the `test-` streams, counts them per type (and remembers positions)."""

    name: ClassVar[str] = "counts_by_type"
    handles: ClassVar[EventFilter] = EventFilter.stream_prefixes("test-")
    target_kind: ClassVar[str] = "memory"

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.fail_on = fail_on or set()
        """Values of `n` in the data that make `apply` raise (a poison event)."""

    def create(self, tx: MemoryTx, build: int) -> None:
        tx.rows(tx.table(self.name, build))

    def apply(self, events: Sequence[RecordedEvent], tx: MemoryTx, build: int) -> None:
        rows = tx.rows(tx.table(self.name, build))
        for event in events:
            if json.loads(event.data).get("n") in self.fail_on:
                raise ValueError(f"cannot handle n={json.loads(event.data)['n']}")
            rows[event.type] = rows.get(event.type, 0) + 1
            rows.setdefault("_positions", []).append(event.position)


class Mailer(CountsByType):
    """Counts, and asks for one side effect per event."""

    name: ClassVar[str] = "mailer"
    side_effects: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.carried_out: list[tuple[str, Any]] = []

    def apply(self, events: Sequence[RecordedEvent], tx: MemoryTx, build: int) -> None:
        super().apply(events, tx, build)
        for event in events:
            tx.effects.send("mail", str(event.id))

    def carry_out(self, sent: list[tuple[str, Any]]) -> None:
        self.carried_out.extend(sent)


class SqlCountsByType(Projection[SqlTx]):
    """The SQL twin of `CountsByType`: one row per event type, and a poison switch."""

    name: ClassVar[str] = "sql_counts_by_type"
    handles: ClassVar[EventFilter] = EventFilter.stream_prefixes("test-")
    target_kind: ClassVar[str] = "sql"

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.fail_on = fail_on or set()

    def create(self, tx: SqlTx, build: int) -> None:
        table = tx.quote(tx.table(self.name, build))
        tx.connection.execute(
            text(f"CREATE TABLE {table} (event_type VARCHAR(100) PRIMARY KEY, events BIGINT)")
        )

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        table = tx.quote(tx.table(self.name, build))
        for event in events:
            if json.loads(event.data).get("n") in self.fail_on:
                raise ValueError(f"cannot handle n={json.loads(event.data)['n']}")
            tx.connection.execute(
                text(
                    f"INSERT INTO {table} AS t (event_type, events) VALUES (:type, 1) "
                    "ON CONFLICT (event_type) DO UPDATE SET events = t.events + 1"
                ),
                {"type": event.type},
            )
