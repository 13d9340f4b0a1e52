"""`SqliteEventStore`: the embedded event store, EventStoreDB's semantics in one SQLite file."""

from __future__ import annotations

import bisect
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from write_side.eventstore.checks import check_expected_version, check_stream_name
from write_side.eventstore.errors import (
    EventStoreClosed,
    StreamDeleted,
    StreamNotFound,
)
from write_side.eventstore.model import (
    HIDDEN_STREAM_PREFIXES,
    Capability,
    EventFilter,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    RecordedRow,
    StreamMetadata,
    StreamState,
)
from write_side.eventstore.port import EventStore, Subscription
from write_side.eventstore.sqlite.group_commit import GroupCommitter
from write_side.eventstore.sqlite.notifier import ChangeNotifier
from write_side.eventstore.sqlite.schema import (
    EVENT_COLUMNS,
    Synchronous,
    connect,
    create_schema,
)
from write_side.eventstore.sqlite.subscription import CatchUpSubscription
from write_side.eventstore.sqlite.transaction import (
    WriteTx,
    append_first,
    append_one,
    fetch_stream,
)

PAGE_SIZE = 2000
_PAGE_FORWARDS = (
    f"SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id "
    f"WHERE e.position > ? ORDER BY e.position LIMIT {PAGE_SIZE}"
)
_PAGE_BACKWARDS = (
    f"SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id "
    f"WHERE e.position < ? ORDER BY e.position DESC LIMIT {PAGE_SIZE}"
)
#: How long the last tail page read stays on offer to the process's other live readers.
_TAIL_SHARED_FOR_S = 0.005
#: Least time between two reads of a live subscription (see `SqliteEventStore`).
LIVE_BATCH_WINDOW_S = 0.01

Row = tuple[Any, ...]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SharedFile:
    """How a component that keeps tables of its own in the store's file reaches it.

    On a file, `path` names it: open a connection of your own (and the process's notifier for
    the path). In memory there is only the store's `connection`, used under its `lock`, and
    its `notifier`. A live reader of the component reads at most once per
    `live_batch_window_s`, as the store's own subscriptions do.
    """

    path: str | None
    connection: sqlite3.Connection | None
    lock: threading.RLock | None
    notifier: ChangeNotifier
    live_batch_window_s: float


@dataclass(frozen=True, slots=True)
class _TailPage:
    """The rows of `$all` after `after`, up to the head, read at `read_at` (monotonic) with the
    notifier's events version at `version`."""

    after: int
    version: int
    read_at: float
    rows: list[RecordedRow]


def _position_of(row: RecordedRow) -> int:
    return row[7]


class SqliteEventStore(EventStore):
    """The embedded event store: a SQLite file in WAL mode, shared by threads and processes.

    `path=":memory:"` gives a private in-memory store for tests (one process, not durable).
    `synchronous="FULL"` (the default) fsyncs every commit, so an acknowledged append survives
    `kill -9` and power loss; concurrent appends of one process share commits (group commit).
    `live_batch_window_s` is the least time between two reads of a live subscription: a commit
    after a quiet spell is read at once, faster ones are read (and handed on) together.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        synchronous: Synchronous = "FULL",
        clock: Callable[[], float] = time.time,
        live_batch_window_s: float = LIVE_BATCH_WINDOW_S,
    ) -> None:
        self._memory = str(path) == ":memory:"
        self._live_batch_window_s = live_batch_window_s
        self._path = str(path)
        self._clock = clock
        self._closed = False
        self._lock = threading.RLock()
        self._idle_readers: list[sqlite3.Connection] = []
        self._tail: _TailPage | None = None
        self._tail_lock = threading.Lock()
        if self._memory:
            self._writer = connect(":memory:", synchronous=synchronous)
            self._notifier = ChangeNotifier.private()
            self.capabilities = frozenset({Capability.GROUP_COMMIT})
        else:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = connect(self._path, synchronous=synchronous)
            self._notifier = ChangeNotifier.for_file(self._path)
            durable = {Capability.CRASH_DURABLE} if synchronous == "FULL" else set()
            self.capabilities = frozenset(
                {Capability.MULTI_PROCESS, Capability.GROUP_COMMIT, *durable}
            )
        create_schema(self._writer)
        # A file store's writer connection is used by the group's leader only; the in-memory
        # store has one connection for everything, so readers and the leader take turns.
        self._writer_lent = _Lent(self._writer, self._lock if self._memory else None)
        self._committer: GroupCommitter[WriteTx] = GroupCommitter(
            self._writing, self._begin_tx, self._notifier.changed
        )

    def __repr__(self) -> str:
        return f"SqliteEventStore({self._path!r})"

    def shared_file(self) -> SharedFile:
        """What a component storing its own tables beside the events needs (see `SharedFile`)."""
        window = self._live_batch_window_s
        if self._memory:
            return SharedFile(None, self._writer, self._lock, self._notifier, window)
        return SharedFile(self._path, None, None, self._notifier, window)

    # -- writes -------------------------------------------------------------------------------

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        check_stream_name(stream)
        check_expected_version(expected_version)
        if not events:
            raise ValueError("append needs at least one event")
        batch = list(events)
        alone = None
        if len(batch) == 1 and isinstance(expected_version, int):
            event = batch[0]

            def alone(conn: sqlite3.Connection) -> int | None:
                return append_one(conn, stream, event, expected_version, self._now_us())

        elif len(batch) == 1 and expected_version in (StreamState.NO_STREAM, StreamState.ANY):
            first = batch[0]

            def alone(conn: sqlite3.Connection) -> int | None:
                return append_first(conn, stream, first, self._now_us())

        self._ensure_open()
        return self._committer.run(
            lambda tx: tx.append(stream, batch, expected_version), streams=(stream,), alone=alone
        )

    def set_stream_metadata(
        self, stream: str, metadata: StreamMetadata, *, expected_version: ExpectedVersion
    ) -> int:
        check_stream_name(stream)
        check_expected_version(expected_version)
        return self._write(lambda tx: tx.set_metadata(stream, metadata, expected_version), stream)

    def delete_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        check_stream_name(stream)
        check_expected_version(expected_version)
        self._write(lambda tx: tx.delete(stream, expected_version), stream)

    def tombstone_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        check_stream_name(stream)
        check_expected_version(expected_version)
        self._write(lambda tx: tx.tombstone(stream, expected_version), stream)

    def _write(self, work: Callable[[WriteTx], T], *streams: str) -> T:
        self._ensure_open()
        return self._committer.run(work, streams=streams)

    def _begin_tx(self, conn: sqlite3.Connection) -> WriteTx:
        return WriteTx(conn, self._now_us())

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _writing(self) -> _Lent:
        return self._writer_lent

    # -- reads --------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        self._ensure_open()
        if self._memory:
            with self._lock:
                yield self._writer
            return
        with self._lock:
            conn = self._idle_readers.pop() if self._idle_readers else None
        if conn is None:
            conn = connect(self._path, synchronous="NORMAL")
        try:
            yield conn
        finally:
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle_readers.append(conn)

    def read_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        check_stream_name(stream, allow_metastream=True)
        with self._reading() as conn:
            conn.execute("BEGIN")
            try:
                row = fetch_stream(conn, stream)
                if row.tombstoned:
                    raise StreamDeleted(stream)
                if row.last_revision < 0 or row.soft_deleted:
                    raise StreamNotFound(stream)
                lowest = max(row.truncate_before or 0, 0)
                if row.max_count is not None:
                    lowest = max(lowest, row.last_revision - row.max_count + 1)
                oldest_us = (
                    -1 if row.max_age is None else int((self._clock() - row.max_age) * 1_000_000)
                )
                if backwards:
                    start = row.last_revision if from_revision is None else from_revision
                    sql = (
                        "revision <= ? AND revision >= ? AND recorded_at >= ? "
                        "ORDER BY revision DESC"
                    )
                    args: tuple[int, ...] = (start, lowest, oldest_us)
                else:
                    start = max(lowest, from_revision or 0)
                    sql = "revision >= ? AND recorded_at >= ? ORDER BY revision"
                    args = (start, oldest_us)
                rows = conn.execute(
                    f"SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id "
                    f"WHERE e.stream_id = ? AND {sql} LIMIT ?",
                    (row.id, *args, -1 if limit is None else limit),
                ).fetchall()
            finally:
                conn.execute("COMMIT")
        return [RecordedEvent.from_row(r) for r in rows]

    def read_all(
        self,
        *,
        from_position: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
        filter: EventFilter | None = None,
        include_system: bool = False,
    ) -> Iterator[RecordedEvent]:
        remaining = -1 if limit is None else limit
        if backwards:
            cursor = 2**63 - 1 if from_position is None else from_position + 1
        else:
            cursor = -1 if from_position is None else from_position - 1
        while remaining != 0:
            events, last = self._page(cursor, backwards, filter, include_system)
            if last is None:
                return
            cursor = last
            for event in events:
                yield event
                remaining -= 1
                if remaining == 0:
                    return

    def _page(
        self,
        cursor: int,
        backwards: bool,
        filter: EventFilter | None,
        include_system: bool,
        *,
        shared: bool = False,
    ) -> tuple[list[RecordedEvent], int | None]:
        """One page of `$all` strictly after (or before) `cursor`, and the last position read;
        `shared` for a subscription's read (see `_rows_after`)."""
        if backwards:
            with self._reading() as conn:
                rows = conn.execute(_PAGE_BACKWARDS, (cursor,)).fetchall()
        else:
            rows = self._rows_after(cursor) if shared else self._read_after(cursor)
        if not rows:
            return [], None
        # One comprehension per case, the tests inlined: this runs for every event of a read.
        wrap, last = RecordedEvent.from_row, rows[-1][7]
        if filter is None:
            if include_system:
                return [wrap(r) for r in rows], last
            return [wrap(r) for r in rows if not r[5].startswith(HIDDEN_STREAM_PREFIXES)], last
        search, wanted = filter.pattern.search, not filter.exclude
        subject = 5 if filter.on == "stream_name" else 1
        return [
            wrap(r)
            for r in rows
            if (include_system or not r[5].startswith(HIDDEN_STREAM_PREFIXES))
            and (search(r[subject]) is not None) == wanted
        ], last

    def _rows_after(self, cursor: int) -> list[RecordedRow]:
        """The rows of `$all` after `cursor`, from the last tail page read when it holds them.

        On the live tail the subscriptions of the process read at the same moments (the ticks
        of their window's grid, see `CatchUpSubscription`): the first to ask reads the page
        while the others wait, then they take its rows after their own cursor while no commit
        came in between (the notifier's events version is unchanged, and it is read before the
        rows are, so the rows hold every commit it counts) and for a few milliseconds at most
        (a commit of another process is counted only once the notifier's poller sees it). A
        subscription waits for the version to move after its read, so rows that miss such a
        commit cost it nothing; plain reads (`read_all`) never share. Only a page that reached
        the head is kept, and a reader behind it (catching up) reads on its own, in parallel.
        """
        kept = self._tail
        if kept is None or cursor < kept.after:
            return self._read_and_keep(cursor)
        with self._tail_lock:
            kept = self._tail
            if (
                kept is not None
                and kept.version == self._notifier.events_version
                and time.monotonic() - kept.read_at < _TAIL_SHARED_FOR_S
                and kept.after <= cursor
            ):
                return kept.rows[bisect.bisect_right(kept.rows, cursor, key=_position_of) :]
            return self._read_and_keep(cursor)

    def _read_and_keep(self, cursor: int) -> list[RecordedRow]:
        """The page after `cursor`, kept for the other live readers when it reached the head."""
        version, now = self._notifier.events_version, time.monotonic()
        rows = self._read_after(cursor)
        if len(rows) < PAGE_SIZE:
            self._tail = _TailPage(cursor, version, now, rows)
        return rows

    def _read_after(self, cursor: int) -> list[RecordedRow]:
        with self._reading() as conn:
            rows: list[RecordedRow] = conn.execute(_PAGE_FORWARDS, (cursor,)).fetchall()
        return rows

    def get_stream_metadata(self, stream: str) -> tuple[StreamMetadata, int | None]:
        check_stream_name(stream)
        with self._reading() as conn:
            conn.execute("BEGIN")
            try:
                if fetch_stream(conn, stream).tombstoned:
                    raise StreamDeleted(stream)
                return WriteTx(conn, 0).current_metadata(stream)
            finally:
                conn.execute("COMMIT")

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe_to_all(
        self,
        *,
        from_position: int | None = None,
        from_end: bool = False,
        filter: EventFilter | None = None,
        include_system: bool = False,
        include_checkpoints: bool = False,
        include_caught_up: bool = False,
    ) -> Subscription:
        self._ensure_open()
        if from_end:
            after = next(self.read_all(backwards=True, limit=1, include_system=True), None)
            start = 0 if after is None else after.position
        else:
            start = 0 if from_position is None else from_position

        def read_page(cursor: int) -> tuple[list[RecordedEvent], int | None, int | None]:
            events, last = self._page(cursor, False, filter, include_system, shared=True)
            return events, last, last

        return CatchUpSubscription(
            read_page,
            self._notifier,
            after=start,
            after_position=start or None,
            is_closed=lambda: self._closed,
            include_checkpoints=include_checkpoints,
            include_caught_up=include_caught_up,
            live_batch_window_s=self._live_batch_window_s,
        )

    def subscribe_to_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        from_end: bool = False,
        include_caught_up: bool = False,
    ) -> Subscription:
        check_stream_name(stream, allow_metastream=True)
        self._ensure_open()
        if from_end:
            with self._reading() as conn:
                start = fetch_stream(conn, stream).last_revision
        else:
            start = -1 if from_revision is None else from_revision

        def read_page(cursor: int) -> tuple[list[RecordedEvent], int | None, int | None]:
            with self._reading() as conn:
                conn.execute("BEGIN")
                try:
                    row = fetch_stream(conn, stream)
                    if row.tombstoned:
                        raise StreamDeleted(stream)
                    rows = conn.execute(
                        f"SELECT {EVENT_COLUMNS} FROM events e "
                        "JOIN streams s ON s.id = e.stream_id "
                        f"WHERE e.stream_id = ? AND e.revision > ? AND e.revision >= ? "
                        f"ORDER BY e.revision LIMIT {PAGE_SIZE}",
                        (row.id, cursor, row.truncate_before or 0),
                    ).fetchall()
                    if not rows and row.last_revision > cursor:
                        # Everything new is hidden (truncated or deleted): move past it.
                        return [], row.last_revision, None
                finally:
                    conn.execute("COMMIT")
            if not rows:
                return [], None, None
            return [RecordedEvent.from_row(r) for r in rows], rows[-1][6], rows[-1][7]

        return CatchUpSubscription(
            read_page,
            self._notifier,
            after=start,
            after_position=None,
            is_closed=lambda: self._closed,
            include_caught_up=include_caught_up,
            # A tombstone or a truncation hides events without adding one: wake on any commit.
            wake_on_every_commit=True,
            live_batch_window_s=self._live_batch_window_s,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            readers, self._idle_readers = self._idle_readers, []
        self._notifier.wake_all()
        self._notifier.release()
        for conn in readers:
            conn.close()
        with self._lock:
            self._writer.close()

    def _ensure_open(self) -> None:
        if self._closed:
            raise EventStoreClosed(f"{self!r} is closed")


class _Lent:
    """Lends one connection for a `with` block, under a lock when there is one.

    A plain object rather than a generator context manager: it sits on every append's path.
    """

    __slots__ = ("_conn", "_lock")

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None) -> None:
        self._conn = conn
        self._lock = lock

    def __enter__(self) -> sqlite3.Connection:
        if self._lock is not None:
            self._lock.acquire()
        return self._conn

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
