"""`DuckDBTarget`: read models in a DuckDB file (the analytics warehouse), bookkeeping beside them.

DuckDB lets one process open a file for writing; a second one gets `TargetLocked`, naming the
holder. Inside the owning process one connection serves every thread, one transaction at a time.
Projections write whole batches through Arrow (`DuckTx.insert_frame`), never row by row.
Timestamps are `TIMESTAMPTZ` and the session time zone is UTC, so results do not depend on the
machine's zone and every timestamp reads back as an aware UTC datetime.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import duckdb
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

from read_side.targets.base import (
    Checkpoint,
    DeadLetter,
    Effects,
    Lease,
    Target,
    TargetTx,
    iter_suffixes,
)
from read_side.targets.errors import CheckpointMovedBack, TargetError, TargetLocked

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS projection_checkpoints (
        projection VARCHAR NOT NULL, build INTEGER NOT NULL, position BIGINT NOT NULL,
        recorded_at TIMESTAMPTZ, PRIMARY KEY (projection, build))""",
    """CREATE TABLE IF NOT EXISTS projection_dead_letters (
        projection VARCHAR NOT NULL, build INTEGER NOT NULL, event_id UUID NOT NULL,
        position BIGINT NOT NULL, stream VARCHAR NOT NULL, event_type VARCHAR NOT NULL,
        error VARCHAR NOT NULL, traceback VARCHAR NOT NULL, attempts INTEGER NOT NULL,
        parked_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (projection, event_id))""",
    """CREATE TABLE IF NOT EXISTS projection_live_builds (
        projection VARCHAR PRIMARY KEY, build INTEGER NOT NULL,
        switched_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS projection_leases (
        projection VARCHAR PRIMARY KEY, holder VARCHAR NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL)""",
)
_DEAD_LETTER_COLUMNS = (
    "projection, build, event_id, position, stream, event_type, error, traceback, attempts, "
    "parked_at"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# The name a frame is registered under for the one statement that reads it.
_FRAME = "__bookworm_frame"


def quote(name: str) -> str:
    """`name` as a quoted SQL identifier, once it is known to be snake_case."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a snake_case name (^[a-z][a-z0-9_]*$)")
    return f'"{name}"'


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class DuckTx(TargetTx):
    """One DuckDB transaction; projections run their SQL on `connection` inside it."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        effects: Effects,
        clock: Callable[[], datetime],
    ) -> None:
        self.connection = connection
        self.effects = effects
        self._clock = clock

    def table(self, projection: str, build: int, suffix: str = "") -> str:
        if not isinstance(build, int) or build < 0:
            raise ValueError(f"build must be a non-negative integer, not {build!r}")
        name = f"{projection}_v{build}{f'_{suffix}' if suffix else ''}"
        quote(name)  # refuses a name that is not snake_case
        return name

    def insert_frame(self, table: str, frame: pl.DataFrame | pa.Table) -> int:
        """Append a whole batch in one statement, columns matched by name; returns the row count."""
        self.connection.register(_FRAME, frame)
        try:
            sql = f"INSERT INTO {quote(table)} BY NAME SELECT * FROM {_FRAME}"
            (count,) = self.connection.execute(sql).fetchone() or (0,)
        finally:
            self.connection.unregister(_FRAME)
        return int(count)

    def create_table_from_frame(self, table: str, frame: pl.DataFrame | pa.Table) -> None:
        """Create `table` with the frame's columns and types (its rows are not copied)."""
        self.connection.register(_FRAME, frame)
        try:
            self.connection.execute(f"CREATE TABLE {quote(table)} AS FROM {_FRAME} LIMIT 0")
        finally:
            self.connection.unregister(_FRAME)

    def checkpoint(self, projection: str, build: int) -> Checkpoint | None:
        row = self.connection.execute(
            "SELECT position, recorded_at FROM projection_checkpoints "
            "WHERE projection = ? AND build = ?",
            [projection, build],
        ).fetchone()
        return None if row is None else Checkpoint(row[0], _utc(row[1]))

    def save_checkpoint(self, projection: str, build: int, checkpoint: Checkpoint) -> None:
        stored = self.checkpoint(projection, build)
        if stored is not None and checkpoint.position < stored.position:
            raise CheckpointMovedBack(projection, build, stored.position, checkpoint.position)
        self.connection.execute(
            "INSERT OR REPLACE INTO projection_checkpoints VALUES (?, ?, ?, ?)",
            [projection, build, checkpoint.position, checkpoint.recorded_at],
        )

    def park(self, letter: DeadLetter) -> None:
        self.connection.execute(
            f"INSERT OR REPLACE INTO projection_dead_letters ({_DEAD_LETTER_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                letter.projection,
                letter.build,
                letter.event_id,
                letter.position,
                letter.stream,
                letter.event_type,
                letter.error,
                letter.traceback,
                letter.attempts,
                letter.parked_at,
            ],
        )

    def dead_letters(self, projection: str | None = None) -> list[DeadLetter]:
        rows = self.connection.execute(
            f"SELECT {_DEAD_LETTER_COLUMNS} FROM projection_dead_letters "
            "WHERE ? IS NULL OR projection = ? ORDER BY position, parked_at, projection, event_id",
            [projection, projection],
        ).fetchall()
        return [
            DeadLetter(
                p, build, event, position, stream, kind, error, tb, attempts, at.astimezone(UTC)
            )
            for p, build, event, position, stream, kind, error, tb, attempts, at in rows
        ]

    def discard(self, projection: str, event_id: UUID) -> bool:
        row = self.connection.execute(
            "DELETE FROM projection_dead_letters WHERE projection = ? AND event_id = ?",
            [projection, event_id],
        ).fetchone()
        return row is not None and row[0] > 0

    def live_build(self, projection: str) -> int | None:
        row = self.connection.execute(
            "SELECT build FROM projection_live_builds WHERE projection = ?", [projection]
        ).fetchone()
        return None if row is None else int(row[0])

    def switch(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        """Make `build` live; each stable view `<projection>[_<suffix>]` selects from its table.

        A suffix whose table this build lacks gets no view (an older build's view is dropped),
        so queries never read one build through another's pointer.
        """
        for suffix, tail in iter_suffixes(suffixes):
            view, table = quote(f"{projection}{tail}"), self.table(projection, build, suffix)
            if self._exists(table):
                sql = f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {quote(table)}"
            else:
                sql = f"DROP VIEW IF EXISTS {view}"
            self.connection.execute(sql)
        self.connection.execute(
            "INSERT OR REPLACE INTO projection_live_builds VALUES (?, ?, ?)",
            [projection, build, self._clock()],
        )

    def drop_build(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        if self.live_build(projection) == build:
            raise ValueError(f"build {build} of {projection} is live; switch away from it first")
        for suffix, _ in iter_suffixes(suffixes):
            table = quote(self.table(projection, build, suffix))
            self.connection.execute(f"DROP TABLE IF EXISTS {table}")
        self.connection.execute(
            "DELETE FROM projection_checkpoints WHERE projection = ? AND build = ?",
            [projection, build],
        )

    def builds(self, projection: str) -> list[int]:
        rows = self.connection.execute(
            "SELECT build FROM projection_checkpoints WHERE projection = ? ORDER BY build",
            [projection],
        ).fetchall()
        return [int(build) for (build,) in rows]

    def fence(self, projection: str, holder: str, *, ttl_s: float) -> bool:
        now = self._clock()
        renewed = self.connection.execute(
            "UPDATE projection_leases SET expires_at = ? "
            "WHERE projection = ? AND holder = ? AND expires_at > ? RETURNING projection",
            [now + timedelta(seconds=ttl_s), projection, holder, now],
        ).fetchone()
        return renewed is not None

    def _exists(self, table: str) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = ?",
            [table],
        ).fetchone()
        return row is not None and row[0] > 0


class DuckDBTarget(Target):
    """Read models in one DuckDB file, written by this process alone."""

    kind: ClassVar[str] = "duckdb"

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = str(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        # One connection for every thread; the lock makes its transactions take turns.
        self._lock = threading.RLock()
        self._connection = _connect(self.path)
        self._connection.execute("SET TimeZone = 'UTC'")
        with self.transaction() as tx:
            for statement in _SCHEMA:
                tx.connection.execute(statement)

    @contextmanager
    def transaction(self, *, effects: Effects | None = None) -> Iterator[DuckTx]:
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN TRANSACTION")
            try:
                yield DuckTx(connection, effects or Effects(), self._clock)
                _ensure_not_aborted(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def acquire_lease(self, projection: str, holder: str, *, ttl_s: float) -> Lease | None:
        with self.transaction() as tx:
            now = self._clock()
            lease = self._lease(tx, projection)
            if lease is not None and lease.holder != holder and lease.expires_at > now:
                return None
            status = lease.status if lease is not None and lease.holder == holder else {}
            lease = Lease(projection, holder, now + timedelta(seconds=ttl_s), status)
            self._store_lease(tx, lease)
            return lease

    def report(self, projection: str, holder: str, status: dict[str, Any]) -> None:
        with self.transaction() as tx:
            lease = self._lease(tx, projection)
            if lease is not None and lease.holder == holder:
                self._store_lease(tx, Lease(projection, holder, lease.expires_at, status))

    def release_lease(self, projection: str, holder: str) -> None:
        with self.transaction() as tx:
            tx.connection.execute(
                "DELETE FROM projection_leases WHERE projection = ? AND holder = ?",
                [projection, holder],
            )

    def leases(self) -> list[Lease]:
        with self.transaction() as tx:
            rows = tx.connection.execute(
                "SELECT projection, holder, expires_at, status FROM projection_leases "
                "ORDER BY projection"
            ).fetchall()
        return [Lease(p, h, expires.astimezone(UTC), json.loads(s)) for p, h, expires, s in rows]

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _lease(self, tx: DuckTx, projection: str) -> Lease | None:
        row = tx.connection.execute(
            "SELECT holder, expires_at, status FROM projection_leases WHERE projection = ?",
            [projection],
        ).fetchone()
        if row is None:
            return None
        return Lease(projection, row[0], row[1].astimezone(UTC), json.loads(row[2]))

    def _store_lease(self, tx: DuckTx, lease: Lease) -> None:
        tx.connection.execute(
            "INSERT OR REPLACE INTO projection_leases VALUES (?, ?, ?, ?)",
            [lease.projection, lease.holder, lease.expires_at, json.dumps(lease.status)],
        )


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    """Open the file, translating DuckDB's lock conflict into `TargetLocked`."""
    try:
        return duckdb.connect(path)
    except duckdb.IOException as error:
        message = str(error)
        if "Could not set lock" not in message:
            raise
        found = _LOCK_HOLDER.search(message)
        holder = f"PID {found['pid']}, {found['program']}" if found else message
        raise TargetLocked(path, holder) from error


def _ensure_not_aborted(connection: duckdb.DuckDBPyConnection) -> None:
    """Refuse to commit a transaction an earlier (caught) error aborted.

    DuckDB turns the COMMIT of an aborted transaction into a silent rollback; a batch that
    seemed to commit would be lost without a word.
    """
    try:
        connection.execute("SELECT 1")
    except duckdb.TransactionException as error:
        raise TargetError(
            "the transaction was aborted by an earlier error; nothing was committed"
        ) from error
