"""Helpers of the concurrency contract tests: run workers together, append with retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

from write_side.eventstore import (
    EventFilter,
    EventStore,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)

T = TypeVar("T")

#: Upper bound on any single wait, so a deadlocked store fails the test instead of hanging it.
TIMEOUT_S = 60.0
#: A retry loop that needs more tries than this is livelocked (or the store always refuses).
MAX_ATTEMPTS = 10_000


def run_together(workers: Sequence[Callable[[], T]], timeout: float = TIMEOUT_S) -> list[T]:
    """Run each worker in its own thread, released at once by a barrier; results in order.

    A worker's exception is raised here; a worker still running at the deadline fails the call.
    """
    barrier = threading.Barrier(len(workers), timeout=timeout)

    def released(worker: Callable[[], T]) -> T:
        barrier.wait()
        return worker()

    pool = ThreadPoolExecutor(max_workers=len(workers))
    try:
        futures = [pool.submit(released, worker) for worker in workers]
        deadline = time.monotonic() + timeout
        return [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def current_version(store: EventStore, stream: str) -> ExpectedVersion:
    """The stream's last revision, or NO_STREAM when it has none yet."""
    try:
        return store.read_stream(stream, backwards=True, limit=1)[0].revision
    except StreamNotFound:
        return StreamState.NO_STREAM


@dataclass(frozen=True)
class Landed:
    """An acknowledged append of the retry loop: where, after what, and after how many tries."""

    position: int
    expected_revision: int  # the revision the successful try expected (-1: NO_STREAM)
    attempts: int


def append_with_retry(store: EventStore, stream: str, event: NewEvent) -> Landed:
    """Append at the version just read, re-reading it after each conflict."""
    for attempts in range(1, MAX_ATTEMPTS + 1):
        expected = current_version(store, stream)
        try:
            position = store.append(stream, [event], expected_version=expected)
        except WrongExpectedVersion:
            continue
        return Landed(position, -1 if isinstance(expected, StreamState) else expected, attempts)
    raise AssertionError(f"{stream}: still refused after {MAX_ATTEMPTS} tries")


def read_or_empty(store: EventStore, stream: str) -> list[RecordedEvent]:
    """The stream's events, or none when it was never written."""
    try:
        return store.read_stream(stream)
    except StreamNotFound:
        return []


def only(store: EventStore, *streams: str) -> list[RecordedEvent]:
    """`$all` narrowed to these streams (a fresh test's own events, on any backend)."""
    return list(store.read_all(filter=EventFilter.stream_prefixes(*streams)))


def strictly_increasing(values: Sequence[int]) -> bool:
    """True when each value is greater than the one before."""
    return all(a < b for a, b in pairwise(values))
