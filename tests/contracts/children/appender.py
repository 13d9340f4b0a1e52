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

from tests.contracts.concurrency import append_with_retry
from write_side.eventstore import ExpectedVersion, NewEvent, StreamState
from write_side.eventstore.factory import open_event_store


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
            landed = append_with_retry(store, shared, event)
            acknowledge(shared, event, landed.position, landed.expected_revision, landed.attempts)

            event = NewEvent(type="OwnAppended", data=data)
            expected: ExpectedVersion = StreamState.NO_STREAM if n == 0 else n - 1
            position = store.append(own, [event], expected_version=expected)
            acknowledge(own, event, position, n - 1, 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
