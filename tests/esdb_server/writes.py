"""Appends, metadata writes, soft deletes and tombstones, with EventStoreDB's answers.

Our store already follows EventStoreDB for most rules; the differences handled here are the
ones EventStoreDB documents (or its client tests show) and our port words otherwise:

- `STREAM_EXISTS` on a soft-deleted stream is a *deleted stream* error, not a wrong version;
- a wrong expected version on a soft-deleted stream reports its last revision, not "no stream";
- a soft delete of a stream that never had events is a wrong expected version ("Actual
  version: -1"), whatever the expected version (EventStoreDB 21.10 and later);
- a write to `$$x` is a write of `x`'s metadata, and it re-opens a soft-deleted `x` even when
  the metadata written still carries the deleted marker (`$tb` = max).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass

from tests.esdb_server.state import is_soft_deleted, last_revision, never_written
from tests.esdb_server.wire import BadRequest
from write_side.eventstore import (
    EventStore,
    NewEvent,
    StreamDeleted,
    StreamMetadata,
    StreamState,
    WrongExpectedVersion,
)
from write_side.eventstore.model import ExpectedVersion


@dataclass(frozen=True, slots=True)
class Appended:
    """A successful append: the commit position (None for an empty append) and revision."""

    position: int | None
    revision: int | None


class WrongVersion(Exception):
    """An append found the stream at `current` (None: no stream); nothing was written."""

    def __init__(self, current: int | None) -> None:
        self.current = current
        super().__init__(f"current revision {current}")


class DeleteRefused(Exception):
    """A delete or tombstone found the stream at another version (`actual`, -1: none)."""

    def __init__(self, stream: str, expected: ExpectedVersion, actual: int) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(f"{stream}: expected {expected}, actual {actual}")


def append(
    store: EventStore, stream: str, expected: ExpectedVersion, events: Sequence[NewEvent]
) -> Appended:
    """Append as EventStoreDB does; raises `WrongVersion` or our `StreamDeleted`."""
    if stream.startswith("$$"):
        return _write_metadata(store, stream, expected, events)
    if not events:
        return _check_only(store, stream, expected)
    try:
        position = store.append(stream, events, expected_version=expected)
    except WrongExpectedVersion as error:
        raise _refusal(store, stream, expected, error.actual_version) from None
    if isinstance(expected, int):
        return Appended(position, expected + len(events))
    # The revision is only informative (esdbclient does not read it): the last one now.
    return Appended(position, last_revision(store, stream))


def delete(store: EventStore, stream: str, expected: ExpectedVersion, *, hard: bool) -> int | None:
    """Soft-delete or tombstone; the position of the deletion's metadata event, if any.

    Raises `DeleteRefused` or our `StreamDeleted`.
    """
    # Our store accepts these for a stream never written; EventStoreDB refuses them.
    refusable = not hard and expected in (StreamState.ANY, StreamState.NO_STREAM)
    if refusable and never_written(store, stream):
        raise DeleteRefused(stream, expected, -1)
    try:
        if hard:
            store.tombstone_stream(stream, expected_version=expected)
            return None
        store.delete_stream(stream, expected_version=expected)
    except WrongExpectedVersion as error:
        refusal = _refusal(store, stream, expected, error.actual_version)
        if isinstance(refusal, WrongVersion):
            current = -1 if refusal.current is None else refusal.current
            raise DeleteRefused(stream, expected, current) from None
        raise refusal from None
    marker = store.read_stream(f"$${stream}", backwards=True, limit=1)
    return marker[0].position if marker else None


def _refusal(
    store: EventStore, stream: str, expected: ExpectedVersion, actual: int | None
) -> Exception:
    """EventStoreDB's error for a write our store refused with a wrong expected version."""
    if actual is None and is_soft_deleted(store, stream):
        if expected is StreamState.STREAM_EXISTS:
            return StreamDeleted(stream)
        actual = last_revision(store, stream)
    return WrongVersion(actual)


def _check_only(store: EventStore, stream: str, expected: ExpectedVersion) -> Appended:
    """An append of no events: only the expected version is checked."""
    current = last_revision(store, stream)
    deleted = current is not None and is_soft_deleted(store, stream)
    if expected is StreamState.STREAM_EXISTS and deleted:
        raise StreamDeleted(stream)
    accepted = (
        expected is StreamState.ANY
        or (expected is StreamState.STREAM_EXISTS and current is not None)
        or (expected is StreamState.NO_STREAM and current is None)
        or expected == current
    )
    if not accepted:
        raise WrongVersion(current)
    return Appended(None, current)


def _write_metadata(
    store: EventStore, metastream: str, expected: ExpectedVersion, events: Sequence[NewEvent]
) -> Appended:
    """A write to `$$x`: `x`'s metadata, through the store's metadata API."""
    stream = metastream[2:]
    if len(events) != 1:
        raise BadRequest(
            f"the test server takes exactly one $metadata event per write to {metastream!r}"
        )
    try:
        raw = json.loads(events[0].data)
        if not isinstance(raw, dict):
            raise ValueError("stream metadata must be a JSON object")
        metadata = StreamMetadata.from_json_dict(raw)
    except ValueError as error:
        raise BadRequest(f"invalid stream metadata for {stream!r}: {error}") from None
    if metadata.is_deleted and is_soft_deleted(store, stream):
        # EventStoreDB re-opens a soft-deleted stream on any metadata write; our store then
        # sets `$tb` to the revision after the last one.
        metadata = dataclasses.replace(metadata, truncate_before=None)
    try:
        position = store.set_stream_metadata(stream, metadata, expected_version=expected)
    except WrongExpectedVersion as error:
        raise WrongVersion(error.actual_version) from None
    except StreamDeleted:
        raise StreamDeleted(metastream) from None
    _, version = store.get_stream_metadata(stream)
    return Appended(position, version)
