"""Group commit: the writes waiting at one moment share one transaction and one fsync.

The first thread to arrive leads: it takes every write queued so far, runs them one after the
other in one transaction and commits once. While writes keep queueing it commits a few groups
back to back, then hands the lead to the oldest waiting thread and returns. Only the threads
answered are woken, and a group's threads are woken just before the *next* group's COMMIT: their
Python then runs while the leader waits on the fsync (the GIL released) instead of competing
with it while it prepares the next group. On two cores that GIL competition, and the thread
switches around it, not the disk, is what limits sixteen appending threads. Nobody is woken
before its own commit is durable.

The leader wakes only a group's first thread; each thread woken wakes the next one. Their Python
runs one at a time anyway (the GIL), so nothing is lost by the relay, and the leader makes one
wake-up call per group instead of one per thread, while sixteen threads woken at once would queue
for the GIL, each costing a thread switch more. This took a third of the switches (12,000 to
8,500 voluntary ones per 4,000 appends) and about 5 % onto the throughput of sixteen threads.
A follower interrupted while it waits (Ctrl-C in the main thread) therefore waits on until it is
woken, does its part, and raises the interrupt then.

A write with a short form (one statement, or a short transaction of its own) that finds nobody
writing runs it at once, as a group of one, without queueing: on this path every microsecond of
Python costs about two of wall time (the CPU work between two fsyncs delays the second), so the
common lone append does the least.

Each write checks its rules before it writes anything (see `WriteTx`), so a rejected write has
changed nothing and needs no savepoint: it is answered with its own error while the others in
its group commit.

The key store batches its new keys with it too, naming its own rejections (none) and keeping
SQLite's errors as they are; the defaults are the event store's.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from write_side.eventstore.errors import EventStoreError


class GroupTx(Protocol):
    """What the committer needs of a transaction: batched reads and writes around the works."""

    #: How many events the transaction has taken so far.
    buffered: int

    def prefetch(self, names: Iterable[str]) -> None:
        """Read the rows of these streams at once."""

    def flush(self) -> None:
        """Write what is buffered."""


#: Groups one leader commits back to back (bounded: its own caller waits meanwhile).
_ROUNDS = 8

T = TypeVar("T")
Tx = TypeVar("Tx", bound=GroupTx)


class _Pending:
    __slots__ = ("alone", "done", "error", "next", "result", "streams", "wake", "work")

    def __init__(
        self,
        work: Callable[[Any], object],
        streams: tuple[str, ...],
        alone: Callable[[sqlite3.Connection], object | None] | None,
    ) -> None:
        self.work = work
        self.streams = streams
        self.alone = alone
        self.result: object = None
        self.error: BaseException | None = None
        self.done = False
        # A follower's: held until the leader answers this write, or hands this thread the lead.
        self.wake: threading.Lock | None = None
        # The follower answered after this one in the same group: this one, woken, wakes it.
        self.next: _Pending | None = None


class GroupCommitter(Generic[Tx]):
    """Runs write work from many threads, batching whatever is queued into one transaction."""

    def __init__(
        self,
        connection: Callable[[], AbstractContextManager[sqlite3.Connection]],
        begin_tx: Callable[[sqlite3.Connection], Tx],
        on_commit: Callable[[], None],
        *,
        rejections: tuple[type[BaseException], ...] = (EventStoreError,),
        translate: Callable[[sqlite3.Error], BaseException] | None = None,
    ) -> None:
        """`rejections` are the errors that fail one write of a group and not the others;
        `translate` turns a failed commit's `sqlite3.Error` into what the callers see (by
        default an `EventStoreError`)."""
        self._connection = connection
        self._begin_tx = begin_tx
        self._on_commit = on_commit
        self._rejections = rejections
        self._translate = translate or _store_failure
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False

    def run(
        self,
        work: Callable[[Tx], T],
        *,
        streams: tuple[str, ...] = (),
        alone: Callable[[sqlite3.Connection], T | None] | None = None,
    ) -> T:
        """Run `work` in a write transaction shared with concurrent callers; return its result.

        `streams` names the streams the work will touch, so a group reads them in one query.
        `alone` is a short form of the work (one statement, or a short transaction of its own)
        for when it finds itself alone in its group: it returns None when it does not apply,
        and `work` runs as usual.
        """
        if alone is not None:
            # Nobody writing: try the short form at once, without queueing for a group.
            with self._lock:
                idle = not self._leading
                if idle:
                    self._leading = True
            if idle:
                result = self._run_alone(alone)
                if result is not None:
                    return result
        pending = _Pending(work, streams, alone)
        with self._lock:
            self._queue.append(pending)
            if self._leading:
                pending.wake = threading.Lock()
                pending.wake.acquire()
            self._leading = True
        interrupted = None
        if pending.wake is not None:
            interrupted = _wait(pending.wake)
            if pending.next is not None:
                _wake_one(pending.next)  # passing the relay on
        if not pending.done:
            pending.wake = None  # handed the lead: it waits for nobody now
            self._lead()
        if interrupted is not None:
            raise interrupted
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def _run_alone(self, alone: Callable[[sqlite3.Connection], T | None]) -> T | None:
        """Run a short-form write as the leader of nothing; None when it did not apply."""
        result: T | None = None
        try:
            with self._connection() as conn:
                result = alone(conn)
        except sqlite3.Error as error:
            failure = self._failure(error)
            if failure is error:
                raise
            raise failure from error
        finally:
            self._hand_off()
            if result is not None:
                self._on_commit()
        return result

    def _lead(self) -> None:
        answered: list[_Pending] = []
        try:
            for _ in range(_ROUNDS):
                with self._lock:
                    batch, self._queue = self._queue, []
                if not batch:
                    break
                previous = answered
                try:
                    self._commit(batch, before_commit=functools.partial(_wake, previous))
                finally:
                    _wake(previous)  # a no-op unless the commit failed before waking them
                answered = [p for p in batch if p.wake is not None]
        finally:
            _wake(answered)
            self._hand_off()

    def _hand_off(self) -> None:
        """Give the lead to the oldest waiting write, or leave it free."""
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._leading = successor is not None
        if successor is not None:
            assert successor.wake is not None
            successor.wake.release()

    def _commit(
        self, batch: list[_Pending], before_commit: Callable[[], None] = lambda: None
    ) -> None:
        committed = False
        with self._connection() as conn:
            try:
                alone = batch[0].alone if len(batch) == 1 else None
                if alone is not None:
                    before_commit()
                    batch[0].result = alone(conn)
                    if batch[0].result is not None:
                        committed = True
                        return
                conn.execute("BEGIN IMMEDIATE")
                tx = self._begin_tx(conn)
                tx.prefetch(name for pending in batch for name in pending.streams)
                for pending in batch:
                    taken = tx.buffered
                    try:
                        pending.result = pending.work(tx)
                    except self._rejections as error:
                        if tx.buffered != taken:
                            raise AssertionError(
                                "a write was rejected after it had written: checks must come first"
                            ) from error
                        pending.error = error
                tx.flush()
                before_commit()
                conn.execute("COMMIT")
                committed = True
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # Every member fails, rejected ones too: a rejection may rest on a write of the
                # group that has just been rolled back.
                failure = self._failure(error)
                for pending in batch:
                    pending.result, pending.error = None, failure
            finally:
                for pending in batch:
                    pending.done = True
                if committed:
                    self._on_commit()

    def _failure(self, error: BaseException) -> BaseException:
        """What the callers of a failed write see: a SQLite error translated, with its cause."""
        if not isinstance(error, sqlite3.Error):
            return error
        failure = self._translate(error)
        if failure is not error:
            failure.__cause__ = error
        return failure


def _wake(answered: list[_Pending]) -> None:
    """Wake the answered followers: the first one here, each of them the next."""
    for earlier, later in itertools.pairwise(answered):
        earlier.next = later
    if answered:
        _wake_one(answered[0])
    answered.clear()


def _wait(wake: threading.Lock) -> BaseException | None:
    """Wait to be woken; an interrupt (Ctrl-C) meanwhile is returned once woken, not raised.

    A waiting follower has its part in the others' wake-ups (the relay, or the lead handed to
    it), so it must not leave before it is woken; its write is answered in milliseconds.
    """
    interrupted: BaseException | None = None
    while True:
        try:
            wake.acquire()
        except BaseException as error:  # raised by the caller, once woken
            interrupted = interrupted or error
        else:
            return interrupted


def _wake_one(pending: _Pending) -> None:
    assert pending.wake is not None, "only a follower waits to be woken"
    pending.wake.release()


def _store_failure(error: sqlite3.Error) -> BaseException:
    return EventStoreError(f"SQLite write failed: {error}")
