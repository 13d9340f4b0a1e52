"""What one write does inside the shared transaction: checks, then rows.

Every rule here runs under SQLite's write lock, so the expected-version check and the insert
it guards are one atomic step, across threads and processes.

A group of writes touches SQLite as little as it can: the streams of the group are read in one
query and kept up to date in memory, and the events of the whole group go in with one
`executemany` just before the commit. Each sqlite3 call releases and retakes the GIL, which is
what limits a group of sixteen threads on two cores, so fewer calls is more throughput.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from write_side.eventstore.errors import StreamDeleted, WrongExpectedVersion
from write_side.eventstore.model import (
    DELETED_TRUNCATE_BEFORE,
    ExpectedVersion,
    NewEvent,
    StreamMetadata,
    StreamState,
)

METADATA_EVENT_TYPE = "$metadata"

_INSERT_EVENT = (
    "INSERT INTO events (position, stream_id, revision, id, type, data, metadata, "
    "content_type, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# The common append in one autocommit statement: one event at an exact expected version to a
# live stream. SQLite runs it as its own write transaction, so the check in its WHERE clause and
# the insert are atomic; it inserts nothing when any rule does not hold plainly, and the full
# path then finds out which (or whether it is an idempotent retry).
_APPEND_ONE = (
    "INSERT INTO events (position, stream_id, revision, id, type, data, metadata, "
    "content_type, recorded_at) "
    "SELECT (SELECT COALESCE(MAX(position), 0) + 1 FROM events), s.id, ?, ?, ?, ?, ?, ?, ? "
    "FROM streams s WHERE s.name = ? AND s.tombstoned = 0 AND s.truncate_before IS NOT ? "
    "AND (SELECT MAX(revision) FROM events WHERE stream_id = s.id) = ?"
)


def _own_columns(event: NewEvent, now_us: int) -> tuple[bytes, str, bytes, bytes, str, int]:
    """An event's own columns of `events`, in table order after its place (position, stream,
    revision)."""
    return (event.id.bytes, event.type, event.data, event.metadata, event.content_type, now_us)


def append_one(
    conn: sqlite3.Connection, stream: str, event: NewEvent, expected: int, now_us: int
) -> int | None:
    """Append one event at exact version `expected` in one statement; None when it did not."""
    cursor = conn.execute(
        _APPEND_ONE,
        (
            expected + 1,
            *_own_columns(event, now_us),
            stream,
            DELETED_TRUNCATE_BEFORE,
            expected,
        ),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


# The first event of a new stream: its row in `streams` and its event in one short transaction.
_APPEND_FIRST = (
    "INSERT INTO events (position, stream_id, revision, id, type, data, metadata, "
    "content_type, recorded_at) "
    "VALUES ((SELECT COALESCE(MAX(position), 0) + 1 FROM events), ?, 0, ?, ?, ?, ?, ?, ?)"
)


def append_first(conn: sqlite3.Connection, stream: str, event: NewEvent, now_us: int) -> int | None:
    """Append one event as revision 0 of a stream never written (no row in `streams`), without
    the full path's reads; None when the stream has a row (the full path then decides)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        created = conn.execute(
            "INSERT INTO streams (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (stream,)
        )
        if created.rowcount != 1:
            conn.execute("ROLLBACK")
            return None
        appended = conn.execute(_APPEND_FIRST, (created.lastrowid, *_own_columns(event, now_us)))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return appended.lastrowid


def metastream_of(stream: str) -> str:
    """The system stream holding `stream`'s metadata, named as EventStoreDB names it."""
    return f"$${stream}"


@dataclass(slots=True)
class StreamRow:
    """A stream's row in `streams` (or a stand-in for a stream never written)."""

    id: int | None
    name: str
    last_revision: int
    tombstoned: bool
    truncate_before: int | None
    max_count: int | None
    max_age: int | None

    @property
    def soft_deleted(self) -> bool:
        """True when the stream's metadata marks it deleted (until an append re-opens it)."""
        return self.truncate_before == DELETED_TRUNCATE_BEFORE

    @property
    def exists(self) -> bool:
        """True when the stream has events and is not deleted."""
        return self.last_revision >= 0 and not self.soft_deleted and not self.tombstoned


def _select_streams(count: int) -> str:
    # One row per name asked for (a stand-in row when the stream is new), each with the
    # stream's last revision (the top of its index) and the store's last position.
    wanted = ",".join(["(?)"] * count)
    return (
        f"WITH wanted (name) AS (VALUES {wanted}) "
        "SELECT w.name, s.id, "
        "COALESCE((SELECT MAX(revision) FROM events WHERE stream_id = s.id), -1), "
        "COALESCE(s.tombstoned, 0), s.truncate_before, s.max_count, s.max_age, "
        "(SELECT COALESCE(MAX(position), 0) FROM events) "
        "FROM wanted w LEFT JOIN streams s ON s.name = w.name"
    )


def fetch_streams(
    conn: sqlite3.Connection, names: Sequence[str]
) -> tuple[dict[str, StreamRow], int]:
    """The rows of these streams (stand-ins for new ones) and the store's last position."""
    rows = conn.execute(_select_streams(len(names)), names).fetchall()
    streams = {r[0]: StreamRow(r[1], r[0], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows}
    return streams, rows[0][7]


def fetch_stream(conn: sqlite3.Connection, name: str) -> StreamRow:
    """The stream's row, or an empty stand-in when the stream has never been touched."""
    return fetch_streams(conn, (name,))[0][name]


class WriteTx:
    """The writes of one group-commit transaction.

    Every write checks all its rules before it writes or buffers anything, so a rejected one
    has changed nothing. Streams touched here live in `_streams`, kept current as events are
    buffered, so later writes of the group see earlier ones.
    """

    def __init__(self, conn: sqlite3.Connection, now_us: int) -> None:
        self._conn = conn
        self._now_us = now_us
        self._streams: dict[str, StreamRow] = {}
        self._rows: list[tuple[object, ...]] = []
        # Positions are handed out here, from the last one in the store: the write lock is
        # held, so they follow commit order and a catch-up reader never skips an event.
        self._next_position: int | None = None
        self.buffered = 0
        """How many events this transaction has taken so far (flushed or not)."""

    def prefetch(self, names: Iterable[str]) -> None:
        """Read the rows of all these streams (and the last position) in one query."""
        missing = [n for n in dict.fromkeys(names) if n not in self._streams]
        if missing:
            streams, last_position = fetch_streams(self._conn, missing)
            self._streams.update(streams)
            if self._next_position is None:
                self._next_position = last_position + 1

    def flush(self) -> None:
        """Insert the buffered events."""
        if len(self._rows) == 1:
            self._conn.execute(_INSERT_EVENT, self._rows[0])
        elif self._rows:
            self._conn.executemany(_INSERT_EVENT, self._rows)
        self._rows.clear()

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> int:
        """Check `expected_version`, then buffer the events; the last one's position."""
        row = self._stream(stream)
        if row.tombstoned:
            raise StreamDeleted(stream)
        if not _accepts(row, expected_version):
            replayed = self._replayed_position(row, events, expected_version)
            if replayed is None:
                raise WrongExpectedVersion(
                    stream, expected=expected_version, actual_version=_actual(row)
                )
            return replayed
        if expected_version in (StreamState.ANY, StreamState.STREAM_EXISTS):
            replayed = self._replayed_position(row, events, expected_version)
            if replayed is not None:
                return replayed
        if row.soft_deleted:
            # Re-opening: revisions go on after the last one, which stay hidden (EventStoreDB).
            metadata, _ = self.current_metadata(stream)
            self._write_metadata(
                row, _with_truncate_before(metadata, row.last_revision + 1), StreamState.ANY
            )
        return self._buffer(row, events)

    def current_metadata(self, stream: str) -> tuple[StreamMetadata, int | None]:
        """The latest metadata of `stream` and its version, from the metastream."""
        self.flush()
        found = self._conn.execute(
            "SELECT e.data, e.revision FROM events e JOIN streams s ON s.id = e.stream_id "
            "WHERE s.name = ? ORDER BY e.revision DESC LIMIT 1",
            (metastream_of(stream),),
        ).fetchone()
        if found is None:
            return StreamMetadata(), None
        return StreamMetadata.from_json_dict(orjson.loads(found[0])), found[1]

    def set_metadata(
        self, stream: str, metadata: StreamMetadata, expected_version: ExpectedVersion
    ) -> int:
        """Replace the metadata (checked against the metastream's version)."""
        row = self._stream(stream)
        if row.tombstoned:
            raise StreamDeleted(stream)
        if row.soft_deleted and not metadata.is_deleted:
            # New metadata on a deleted stream re-opens it, hiding what was there (EventStoreDB).
            metadata = _with_truncate_before(metadata, row.last_revision + 1)
        return self._write_metadata(row, metadata, expected_version)

    def delete(self, stream: str, expected_version: ExpectedVersion) -> None:
        """Soft-delete: mark the stream deleted through its metadata."""
        row = self._checked(stream, expected_version)
        metadata, _ = self.current_metadata(stream)
        self._write_metadata(
            row, _with_truncate_before(metadata, DELETED_TRUNCATE_BEFORE), StreamState.ANY
        )

    def tombstone(self, stream: str, expected_version: ExpectedVersion) -> None:
        """Hard-delete: the stream can never be used again."""
        row = self._checked(stream, expected_version)
        self._conn.execute("UPDATE streams SET tombstoned = 1 WHERE id = ?", (self._id(row),))
        row.tombstoned = True

    def _stream(self, name: str) -> StreamRow:
        if name not in self._streams:
            # Not touched by this transaction yet, so nothing of it waits in the buffer.
            self.prefetch((name,))
        return self._streams[name]

    def _checked(self, stream: str, expected_version: ExpectedVersion) -> StreamRow:
        row = self._stream(stream)
        if row.tombstoned:
            raise StreamDeleted(stream)
        if not _accepts(row, expected_version):
            raise WrongExpectedVersion(
                stream, expected=expected_version, actual_version=_actual(row)
            )
        return row

    def _write_metadata(
        self, row: StreamRow, metadata: StreamMetadata, expected_version: ExpectedVersion
    ) -> int:
        position = self.append(
            metastream_of(row.name),
            [NewEvent(type=METADATA_EVENT_TYPE, data=orjson.dumps(metadata.to_json_dict()))],
            expected_version,
        )
        max_age = None if metadata.max_age is None else int(metadata.max_age.total_seconds())
        self._conn.execute(
            "UPDATE streams SET truncate_before = ?, max_count = ?, max_age = ? WHERE id = ?",
            (metadata.truncate_before, metadata.max_count, max_age, self._id(row)),
        )
        row.truncate_before, row.max_count, row.max_age = (
            metadata.truncate_before,
            metadata.max_count,
            max_age,
        )
        return position

    def _id(self, row: StreamRow) -> int:
        if row.id is None:
            row.id = self._conn.execute(
                "INSERT INTO streams (name) VALUES (?)", (row.name,)
            ).lastrowid
            assert row.id is not None
        return row.id

    def _buffer(self, row: StreamRow, events: Sequence[NewEvent]) -> int:
        assert self._next_position is not None, "every stream is read (prefetch) before a write"
        stream_id, first_revision, now = self._id(row), row.last_revision + 1, self._now_us
        first_position = self._next_position
        self._rows.extend(
            (first_position + i, stream_id, first_revision + i, *_own_columns(e, now))
            for i, e in enumerate(events)
        )
        row.last_revision += len(events)
        self._next_position += len(events)
        self.buffered += len(events)
        return self._next_position - 1

    def _replayed_position(
        self, row: StreamRow, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> int | None:
        """The position of an earlier append of exactly these event ids, if this is a retry."""
        if row.id is None or not events:
            return None
        self.flush()
        if isinstance(expected_version, int):
            first_revision: int | None = expected_version + 1
        elif expected_version is StreamState.NO_STREAM:
            first_revision = 0
        else:
            # ANY and STREAM_EXISTS name no revision: look for the first id in the stream. This
            # walks the stream's own index entries (no global id index to slow every append),
            # newest first, as a retry usually follows its original closely. EventStoreDB only
            # promises best effort here; this is exact, at a cost linear in the stream's length.
            found = self._conn.execute(
                "SELECT revision FROM events WHERE stream_id = ? AND id = ? "
                "ORDER BY revision DESC LIMIT 1",
                (row.id, events[0].id.bytes),
            ).fetchone()
            first_revision = None if found is None else found[0]
        if first_revision is None:
            return None
        stored = self._conn.execute(
            "SELECT id, position FROM events WHERE stream_id = ? AND revision >= ? "
            "ORDER BY revision LIMIT ?",
            (row.id, first_revision, len(events)),
        ).fetchall()
        if [r[0] for r in stored] != [e.id.bytes for e in events]:
            return None
        return int(stored[-1][1])


def _accepts(row: StreamRow, expected: ExpectedVersion) -> bool:
    if expected is StreamState.ANY:
        return True
    if expected is StreamState.NO_STREAM:
        return not row.exists
    if expected is StreamState.STREAM_EXISTS:
        return row.exists
    # A soft-deleted stream also accepts its last revision (EventStoreDB re-opens it then).
    return expected == row.last_revision and (row.exists or row.soft_deleted)


def _actual(row: StreamRow) -> int | None:
    return row.last_revision if row.exists else None


def _with_truncate_before(metadata: StreamMetadata, value: int) -> StreamMetadata:
    return StreamMetadata(
        max_count=metadata.max_count,
        max_age=metadata.max_age,
        truncate_before=value,
        custom=metadata.custom,
    )
