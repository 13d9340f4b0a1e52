"""What one write does inside the shared transaction: checks, then rows.

Every rule here runs under SQLite's write lock, so the expected-version check and the insert
it guards are one atomic step, across threads and processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
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


def fetch_stream(conn: sqlite3.Connection, name: str) -> StreamRow:
    """The stream's row, or an empty stand-in when the stream has never been touched."""
    row = conn.execute(
        "SELECT id, last_revision, tombstoned, truncate_before, max_count, max_age "
        "FROM streams WHERE name = ?",
        (name,),
    ).fetchone()
    if row is None:
        return StreamRow(None, name, -1, False, None, None, None)
    return StreamRow(row[0], name, row[1], bool(row[2]), row[3], row[4], row[5])


class WriteTx:
    """The writes of one group-commit transaction; positions are handed out in commit order."""

    def __init__(self, conn: sqlite3.Connection, now_us: int) -> None:
        self._conn = conn
        self._now_us = now_us
        self._next_position: int | None = None

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> int:
        """Check `expected_version`, append, and return the last event's commit position."""
        row = fetch_stream(self._conn, stream)
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
        return self._insert(row, events)

    def current_metadata(self, stream: str) -> tuple[StreamMetadata, int | None]:
        """The latest metadata of `stream` and its version, from the metastream."""
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
        row = fetch_stream(self._conn, stream)
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
        stream_id = self._ensure_stream(row)
        self._conn.execute("UPDATE streams SET tombstoned = 1 WHERE id = ?", (stream_id,))

    def _checked(self, stream: str, expected_version: ExpectedVersion) -> StreamRow:
        row = fetch_stream(self._conn, stream)
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
        stream_id = self._ensure_stream(row)
        max_age = None if metadata.max_age is None else int(metadata.max_age.total_seconds())
        self._conn.execute(
            "UPDATE streams SET truncate_before = ?, max_count = ?, max_age = ? WHERE id = ?",
            (metadata.truncate_before, metadata.max_count, max_age, stream_id),
        )
        return position

    def _ensure_stream(self, row: StreamRow) -> int:
        if row.id is not None:
            return row.id
        cursor = self._conn.execute("INSERT INTO streams (name) VALUES (?)", (row.name,))
        row.id = cursor.lastrowid
        assert row.id is not None
        return row.id

    def _insert(self, row: StreamRow, events: Sequence[NewEvent]) -> int:
        stream_id, last_revision = self._ensure_stream(row), row.last_revision
        if self._next_position is None:
            (self._next_position,) = self._conn.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM events"
            ).fetchone()
        assert self._next_position is not None
        first_position, now = self._next_position, self._now_us
        self._conn.executemany(
            "INSERT INTO events (position, stream_id, revision, id, type, data, metadata, "
            "content_type, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    first_position + i,
                    stream_id,
                    last_revision + 1 + i,
                    e.id.bytes,
                    e.type,
                    e.data,
                    e.metadata,
                    e.content_type,
                    now,
                )
                for i, e in enumerate(events)
            ],
        )
        self._conn.execute(
            "UPDATE streams SET last_revision = ? WHERE id = ?",
            (last_revision + len(events), stream_id),
        )
        self._next_position = first_position + len(events)
        return first_position + len(events) - 1

    def _replayed_position(
        self, row: StreamRow, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> int | None:
        """The position of an earlier append of exactly these event ids, if this is a retry."""
        if row.id is None or not events:
            return None
        if isinstance(expected_version, int):
            first_revision: int | None = expected_version + 1
        elif expected_version is StreamState.NO_STREAM:
            first_revision = 0
        else:
            found = self._conn.execute(
                "SELECT revision FROM events WHERE id = ? AND stream_id = ?",
                (events[0].id.bytes, row.id),
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
