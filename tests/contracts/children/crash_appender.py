"""Child: appends without end until it is killed, acknowledging each append on stdout.

Usage: `python -m tests.contracts.children.crash_appender URI SEED STREAM [STREAM ...]`

It is the only writer of the given streams. Three threads append at once (so some of their
appends share a commit), thread `t` to every second stream starting at `t`. Each append picks a
stream and a size (mostly single events, sometimes batches of 2 or 3) from a generator seeded
with `SEED` and the thread, appends at the stream's current revision (now and then with `ANY`),
and only then prints a JSON line `{"thread", "stream", "ids", "position", "expected"}`
(`expected` is the exact revision it expected, or `"no_stream"` / `"any"`), flushed at once.
A line on stdout is thus a promise the store made. Any error ends the process with code 1.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import traceback

from write_side.eventstore import (
    EventStore,
    ExpectedVersion,
    NewEvent,
    StreamNotFound,
    StreamState,
)
from write_side.eventstore.factory import open_event_store

THREADS = 3

_stdout = threading.Lock()


def last_revision(store: EventStore, stream: str) -> int | None:
    """The stream's last revision, or None when it has no events yet."""
    try:
        return store.read_stream(stream, backwards=True, limit=1)[0].revision
    except StreamNotFound:
        return None


def acknowledge(line: dict[str, object]) -> None:
    """Print one acknowledgement as a single write, whole lines only, flushed at once."""
    with _stdout:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def append_forever(store: EventStore, seed: int, thread: int, streams: list[str]) -> None:
    """Append to `streams` until the process is killed; exit the process on any error."""
    try:
        rng = random.Random(f"{seed}/{thread}")
        while True:
            stream = rng.choice(streams)
            size = rng.choice((1, 1, 1, 2, 3))
            batch = [
                NewEvent(type="Written", data=json.dumps({"seed": seed, "n": n}).encode())
                for n in range(size)
            ]
            last = last_revision(store, stream)
            expected: ExpectedVersion
            if rng.random() < 0.2:
                expected = StreamState.ANY
            else:
                expected = StreamState.NO_STREAM if last is None else last
            position = store.append(stream, batch, expected_version=expected)
            acknowledge(
                {
                    "thread": thread,
                    "stream": stream,
                    "ids": [str(e.id) for e in batch],
                    "position": position,
                    "expected": expected if isinstance(expected, int) else expected.value,
                }
            )
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


def main(uri: str, seed: int, streams: list[str]) -> None:
    store = open_event_store(uri)
    threads = [
        threading.Thread(target=append_forever, args=(store, seed, t, streams[t::THREADS]))
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
