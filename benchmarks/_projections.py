"""Projections the benchmarks run through the runtime, beside the real ones.

- `EventLog`: every user event as one row of a DuckDB table, written a batch at a time as one
  Polars frame (`DuckTx.insert_frame`), the way DuckDB projections are meant to be written.
  Its row shape (`event_frame`) is shared with the no-framework floor, so the two differ only
  by the runtime.
- `NaiveEventLog`: the same rows, one INSERT per event: what the vectorised form saves.
- `CommitReportingCounts`: the real `EventCounts`, which also reports, after each batch has
  committed, the positions it applied and when (for the live-lag case).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import orjson
import polars as pl

from read_side.projection import Projection
from read_side.projections.event_counts import EventCounts, category
from read_side.targets.duckdb import DuckTx, quote
from read_side.targets.sql import SqlTx
from write_side.eventstore import EventFilter, RecordedEvent

#: Columns of the event log, in table order (the frame's columns are matched by name).
EVENT_LOG_COLUMNS = (
    ("position", "BIGINT NOT NULL"),
    ("stream", "VARCHAR NOT NULL"),
    ("category", "VARCHAR NOT NULL"),
    ("revision", "BIGINT NOT NULL"),
    ("type", "VARCHAR NOT NULL"),
    ("recorded_at", "TIMESTAMPTZ NOT NULL"),
    ("occurred_at", "TIMESTAMPTZ"),
    ("correlation_id", "UUID"),
    ("data", "VARCHAR NOT NULL"),
)
_OCCURRED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def event_log_ddl(table: str) -> str:
    """CREATE TABLE for an event log named `table`."""
    columns = ", ".join(f"{name} {kind}" for name, kind in EVENT_LOG_COLUMNS)
    return f"CREATE TABLE {quote(table)} ({columns})"


def event_frame(events: Sequence[RecordedEvent]) -> pl.DataFrame:
    """The event log's rows for a batch, built column by column.

    Python only gathers each attribute into a list; splitting the category off the stream
    name and reading `occurred_at` and `correlation_id` out of the metadata JSON run in
    Polars over the whole column. (Regexes, not a JSON parse: the envelope writes compact
    JSON, and a per-row JSON parse costs twice as much.)
    """
    raw = pl.DataFrame(
        {
            "position": [e.position for e in events],
            "stream": [e.stream for e in events],
            "revision": [e.revision for e in events],
            "type": [e.type for e in events],
            "recorded_at": pl.Series([e.recorded_at_us for e in events], dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
            "data": pl.Series([e.data for e in events], dtype=pl.Binary).cast(pl.String),
            "metadata": pl.Series([e.metadata for e in events], dtype=pl.Binary).cast(pl.String),
        }
    )
    metadata = pl.col("metadata")
    return raw.select(
        "position",
        "stream",
        pl.col("stream").str.extract(r"^([^-]*)").alias("category"),
        "revision",
        "type",
        "recorded_at",
        metadata.str.extract(r'"occurred_at":"([^"]*)"')
        .str.to_datetime(_OCCURRED_AT_FORMAT, time_unit="us", time_zone="UTC", strict=False)
        .alias("occurred_at"),
        metadata.str.extract(r'"correlation_id":"([^"]*)"').alias("correlation_id"),
        "data",
    )


class EventLog(Projection[DuckTx]):
    """Every event of a user stream as one row of `event_log`, a whole batch per statement."""

    name: ClassVar[str] = "event_log"
    handles: ClassVar[EventFilter] = EventFilter("stream_name", "^")  # every user stream
    target_kind: ClassVar[str] = "duckdb"

    def create(self, tx: DuckTx, build: int) -> None:
        tx.connection.execute(event_log_ddl(tx.table(self.name, build)))

    def apply(self, events: Sequence[RecordedEvent], tx: DuckTx, build: int) -> None:
        tx.insert_frame(tx.table(self.name, build), event_frame(events))


class NaiveEventLog(EventLog):
    """The same rows as `EventLog`, one INSERT per event (the naive reference)."""

    def apply(self, events: Sequence[RecordedEvent], tx: DuckTx, build: int) -> None:
        names = ", ".join(name for name, _ in EVENT_LOG_COLUMNS)
        marks = ", ".join("?" for _ in EVENT_LOG_COLUMNS)
        sql = f"INSERT INTO {quote(tx.table(self.name, build))} ({names}) VALUES ({marks})"
        for event in events:
            metadata = orjson.loads(event.metadata)
            tx.connection.execute(
                sql,
                [
                    event.position,
                    event.stream,
                    category(event.stream),
                    event.revision,
                    event.type,
                    event.recorded_at,
                    metadata.get("occurred_at"),
                    metadata.get("correlation_id"),
                    event.data.decode(),
                ],
            )


#: Called after a batch committed: the positions it applied, and CLOCK_MONOTONIC in ns.
CommitListener = Callable[[list[int], int], None]


class CommitReportingCounts(EventCounts):
    """`EventCounts`, reporting each batch's positions once the batch has committed.

    `apply` runs inside the target's transaction, so it cannot know when the batch is
    visible. It sends the positions as a side effect instead: the runner hands a batch's
    side effects to `carry_out` only after that batch and its checkpoint have committed
    (and never in a rebuild), which is the moment a reader of the table sees the events.
    """

    side_effects: ClassVar[bool] = True

    def __init__(self, on_commit: CommitListener) -> None:
        self._on_commit = on_commit

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        super().apply(events, tx, build)
        tx.effects.send("committed", [event.position for event in events])

    def carry_out(self, sent: list[tuple[str, Any]]) -> None:
        committed_ns = time.monotonic_ns()
        for _, positions in sent:
            self._on_commit(positions, committed_ns)
