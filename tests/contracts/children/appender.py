"""Child: races other processes on one shared stream while appending to a stream of its own.

Usage: `python -m tests.contracts.children.appender URI SHARED OWN COUNT WORKER`

Opens the store, prints `ready`, waits for a line on stdin (so every child starts at once),
then `COUNT` times: appends one event to `SHARED` with the exact expected version it just read,
retrying on `WrongExpectedVersion`, and appends one event to `OWN`. After each acknowledged
append it prints a JSON line: `{"stream", "id", "position", "expected", "attempts"}`, where
`expected` is the revision the successful try expected (-1 for NO_STREAM).
"""

from __future__ import annotations

import json
import sys

from write_side.eventstore import (
    EventStore,
    ExpectedVersion,
    NewEvent,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)
from write_side.eventstore.factory import open_event_store

#: A retry loop that needs more tries than this is livelocked (or the store always refuses).
MAX_ATTEMPTS = 10_000


def current_version(store: EventStore, stream: str) -> ExpectedVersion:
    """The stream's last revision, or NO_STREAM when it has none yet."""
    try:
        return store.read_stream(stream, backwards=True, limit=1)[0].revision
    except StreamNotFound:
        return StreamState.NO_STREAM


def append_with_retry(store: EventStore, stream: str, event: NewEvent) -> tuple[int, int, int]:
    """Append at the version just read, re-reading it after each conflict.

    Returns the position, the revision the successful try expected (-1: none) and the tries.
    """
    for attempts in range(1, MAX_ATTEMPTS + 1):
        expected = current_version(store, stream)
        try:
            position = store.append(stream, [event], expected_version=expected)
        except WrongExpectedVersion:
            continue
        return position, -1 if isinstance(expected, StreamState) else expected, attempts
    raise RuntimeError(f"{stream}: still refused after {MAX_ATTEMPTS} tries")


def acknowledge(stream: str, event: NewEvent, position: int, expected: int, attempts: int) -> None:
    """Tell the parent about an append the store acknowledged."""
    line = {
        "stream": stream,
        "id": str(event.id),
        "position": position,
        "expected": expected,
        "attempts": attempts,
    }
    print(json.dumps(line), flush=True)


def main(uri: str, shared: str, own: str, count: int, worker: str) -> None:
    with open_event_store(uri) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        for n in range(count):
            data = json.dumps({"worker": worker, "n": n}).encode()
            event = NewEvent(type="SharedAppended", data=data)
            position, expected_revision, attempts = append_with_retry(store, shared, event)
            acknowledge(shared, event, position, expected_revision, attempts)

            event = NewEvent(type="OwnAppended", data=data)
            expected: ExpectedVersion = StreamState.NO_STREAM if n == 0 else n - 1
            position = store.append(own, [event], expected_version=expected)
            acknowledge(own, event, position, n - 1, 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
