"""Group commit: the writes waiting at one moment share one transaction and one fsync.

The first thread to arrive leads: it takes every write queued so far, runs them one after the
other in one transaction, commits once, and wakes exactly the threads it answered. If more
writes queued meanwhile, it hands the lead to the oldest of them and returns; nobody else wakes,
so sixteen appending threads do not fight over the GIL after every commit.

Each write checks its rules before it writes anything (see `WriteTx`), so a rejected write has
changed nothing and needs no savepoint: it is answered with its own error while the others in
its group commit.
"""

from __future__ import annotations

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


T = TypeVar("T")
Tx = TypeVar("Tx", bound=GroupTx)


class _Pending:
    __slots__ = ("alone", "done", "error", "result", "streams", "wake", "work")

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


class GroupCommitter(Generic[Tx]):
    """Runs write work from many threads, batching whatever is queued into one transaction."""

    def __init__(
        self,
        connection: Callable[[], AbstractContextManager[sqlite3.Connection]],
        begin_tx: Callable[[sqlite3.Connection], Tx],
        on_commit: Callable[[], None],
    ) -> None:
        self._connection = connection
        self._begin_tx = begin_tx
        self._on_commit = on_commit
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
        `alone` is a one-statement form of the work for when it finds itself alone in its
        group: it returns None when it does not apply, and `work` runs as usual.
        """
        pending = _Pending(work, streams, alone)
        with self._lock:
            self._queue.append(pending)
            if self._leading:
                pending.wake = threading.Lock()
                pending.wake.acquire()
            self._leading = True
        if pending.wake is not None:
            pending.wake.acquire()
        if not pending.done:
            self._lead()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            for pending in batch:
                pending.done = True
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            # batch[0] is this thread: a lead is only ever taken with an empty queue, or handed
            # to the head of the queue.
            for pending in batch[1:]:
                assert pending.wake is not None
                pending.wake.release()
            if successor is not None:
                assert successor.wake is not None
                successor.wake.release()

    def _commit(self, batch: list[_Pending]) -> None:
        committed = False
        with self._connection() as conn:
            try:
                alone = batch[0].alone if len(batch) == 1 else None
                if alone is not None:
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
                    except EventStoreError as error:
                        if tx.buffered != taken:
                            raise AssertionError(
                                "a write was rejected after it had written: checks must come first"
                            ) from error
                        pending.error = error
                tx.flush()
                conn.execute("COMMIT")
                committed = True
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # Every member fails, rejected ones too: a rejection may rest on a write of the
                # group that has just been rolled back.
                failure = _translate(error)
                for pending in batch:
                    pending.result, pending.error = None, failure
            finally:
                if committed:
                    self._on_commit()


def _translate(error: BaseException) -> BaseException:
    if isinstance(error, sqlite3.Error):
        failure = EventStoreError(f"SQLite write failed: {error}")
        failure.__cause__ = error
        return failure
    return error
