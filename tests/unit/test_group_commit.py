"""The group committer: every member of a group is answered, with its own result, and when
SQLite itself fails nobody in the group is told a wrong story."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.contracts.helpers import events
from write_side.eventstore import EventStoreError, StreamState
from write_side.eventstore.sqlite.group_commit import GroupCommitter, _Pending
from write_side.eventstore.sqlite.schema import connect, create_schema
from write_side.eventstore.sqlite.transaction import WriteTx, fetch_stream


class SlowCommit:
    """A real connection whose COMMIT takes a while (the GIL released, as in an fsync), so the
    writes of many threads pile up into large groups; every `fail_every`-th COMMIT fails."""

    def __init__(self, conn: sqlite3.Connection, fail_every: int = 0) -> None:
        self._conn = conn
        self._fail_every = fail_every
        self.commits = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            self.commits += 1
            time.sleep(0.002)
            if self._fail_every and self.commits % self._fail_every == 0:
                raise sqlite3.OperationalError("disk I/O error (injected)")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class FailingCommit:
    """A real connection whose COMMIT fails, as on a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = connect(":memory:", synchronous="FULL")
    create_schema(connection)
    yield connection
    connection.close()


def test_a_failed_commit_fails_every_member_rejected_ones_too(conn: sqlite3.Connection) -> None:
    """Given a group where B was rejected because of A's write, when the commit fails,
    then A and B both get the failure (B's conflict was with a write that never happened),
    and nothing was written."""
    commits: list[int] = []

    @contextmanager
    def failing() -> Iterator[sqlite3.Connection]:
        yield FailingCommit(conn)  # type: ignore[misc]

    committer = GroupCommitter(failing, lambda c: WriteTx(c, 0), lambda: commits.append(1))
    first = _Pending(lambda tx: tx.append("s-1", events(2), StreamState.NO_STREAM), ("s-1",), None)
    second = _Pending(lambda tx: tx.append("s-1", events(1), StreamState.NO_STREAM), ("s-1",), None)

    committer._commit([first, second])

    for pending in (first, second):
        assert isinstance(pending.error, EventStoreError)
        assert "disk I/O error" in str(pending.error)
        assert isinstance(pending.error.__cause__, sqlite3.OperationalError)
    assert commits == []
    assert not conn.in_transaction
    assert fetch_stream(conn, "s-1").last_revision == -1


@pytest.mark.parametrize("fail_every", [0, 3], ids=["commits", "every-third-commit-fails"])
def test_every_thread_of_large_groups_is_answered_with_its_own_result(
    conn: sqlite3.Connection, fail_every: int
) -> None:
    """Given 16 threads appending through slow commits, each pausing a random moment between
    its appends (groups of many writes, each group's followers woken one after the other, and
    leaders handing the lead to a waiting thread), then every append is answered, no thread
    hangs, and each thread sees its own stream grow by exactly its accepted appends."""
    threads, per_thread = 16, 30
    slow = SlowCommit(conn, fail_every)
    groups: list[WriteTx] = []

    @contextmanager
    def connection() -> Iterator[sqlite3.Connection]:
        yield slow  # type: ignore[misc]

    def begin(c: sqlite3.Connection) -> WriteTx:
        groups.append(WriteTx(c, 0))
        return groups[-1]

    committer = GroupCommitter(connection, begin, lambda: None)
    accepted: dict[str, list[int]] = {}
    failures: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def append(stream: str) -> None:
        accepted[stream], failures[stream] = [], []
        pauses = random.Random(stream)
        try:
            for _ in range(per_thread):
                time.sleep(pauses.uniform(0, 0.003))
                revision = len(accepted[stream]) - 1
                expected = StreamState.NO_STREAM if revision < 0 else revision
                try:
                    position = committer.run(
                        lambda tx, e=expected: tx.append(stream, events(1), e),  # type: ignore[misc]
                        streams=(stream,),
                    )
                except EventStoreError as error:
                    failures[stream].append(str(error))
                else:
                    accepted[stream].append(position)
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    run_to_the_end(append, [f"s-{i}" for i in range(threads)])
    assert errors == []
    largest = max(tx.buffered for tx in groups)
    assert largest >= 8, f"groups too small to test the wake chain: at most {largest}"
    every_failure = [failure for mine in failures.values() for failure in mine]
    assert all("injected" in failure for failure in every_failure)
    assert bool(every_failure) == bool(fail_every)
    for stream, positions in accepted.items():
        assert len(positions) + len(failures[stream]) == per_thread
        assert positions == sorted(positions)
        assert fetch_stream(conn, stream).last_revision == len(positions) - 1


class InterruptedOnce:
    """A follower's wake lock whose first wait is interrupted, as by Ctrl-C in the main thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._interrupted = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if blocking and self._lock.locked() and not self._interrupted:
            self._interrupted = True
            time.sleep(0.001)  # the signal arrives while it waits
            raise KeyboardInterrupt
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()


def test_a_follower_interrupted_while_it_waits_still_wakes_the_rest(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given groups of many followers where one thread's (s-5's) waits are interrupted, then that
    thread gets KeyboardInterrupt only once its write is answered (the write is in the store),
    and every other thread's appends are all answered: nobody's wake-up was lost with it."""
    threads, per_thread = 12, 20
    slow = SlowCommit(conn)

    @contextmanager
    def connection() -> Iterator[sqlite3.Connection]:
        yield slow  # type: ignore[misc]

    committer = GroupCommitter(connection, lambda c: WriteTx(c, 0), lambda: None)
    real_lock = threading.Lock

    def wake_lock() -> Any:
        if threading.current_thread().name == "s-5":
            return InterruptedOnce()
        return real_lock()

    monkeypatch.setattr(
        "write_side.eventstore.sqlite.group_commit.threading", _Threading(wake_lock)
    )
    done: Counter[str] = Counter()
    interrupts: list[str] = []
    errors: list[BaseException] = []

    def append(stream: str) -> None:
        pauses = random.Random(stream)
        try:
            for revision in range(per_thread):
                time.sleep(pauses.uniform(0, 0.003))
                expected = StreamState.NO_STREAM if revision == 0 else revision - 1
                try:
                    committer.run(
                        lambda tx, e=expected: tx.append(stream, events(1), e),  # type: ignore[misc]
                        streams=(stream,),
                    )
                except KeyboardInterrupt:
                    interrupts.append(stream)
                done[stream] += 1
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    run_to_the_end(append, [f"s-{i}" for i in range(threads)])
    assert errors == []
    assert len(interrupts) >= 1
    assert set(interrupts) == {"s-5"}
    for i in range(threads):
        assert done[f"s-{i}"] == per_thread
        # An interrupted append was still written: each stream holds every append.
        assert fetch_stream(conn, f"s-{i}").last_revision == per_thread - 1


class _Threading:
    """The `threading` module as the committer sees it, with its wake locks made by `lock`."""

    def __init__(self, lock: Any) -> None:
        self.Lock = lock

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


def run_to_the_end(append: Callable[[str], None], streams: list[str]) -> None:
    """Run `append(stream)` in a thread per stream, named after it; fail if any thread is
    still waiting after 30 s (daemon threads, so a hung one does not hang the test run)."""
    workers = [
        threading.Thread(target=append, args=(stream,), name=stream, daemon=True)
        for stream in streams
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not [worker for worker in workers if worker.is_alive()], "a thread was never woken"
