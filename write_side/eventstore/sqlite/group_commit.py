"""Group commit: the writes waiting at one moment share one transaction and one fsync.

The first thread to arrive becomes the leader, takes every write queued so far, runs each in
its own savepoint (so a rejected append undoes only itself and is answered with its own error),
commits once, and hands the results back. Threads arriving meanwhile queue for the next group.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from write_side.eventstore.errors import EventStoreError

T = TypeVar("T")
Tx = TypeVar("Tx")


class _Pending(Generic[T]):
    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[object], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False


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
        self._cond = threading.Condition()
        self._queue: list[_Pending[object]] = []
        self._leading = False

    def run(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a write transaction shared with concurrent callers; return its result."""
        pending: _Pending[object] = _Pending(work)  # type: ignore[arg-type]
        with self._cond:
            self._queue.append(pending)
            while self._leading and not pending.done:
                self._cond.wait()
            if not pending.done:
                self._leading = True
                batch, self._queue = self._queue, []
        if not pending.done:
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def _commit(self, batch: list[_Pending[object]]) -> None:
        committed = False
        with self._connection() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                tx = self._begin_tx(conn)
                for pending in batch:
                    conn.execute("SAVEPOINT request")
                    try:
                        pending.result = pending.work(tx)
                    except EventStoreError as error:
                        conn.execute("ROLLBACK TO request")
                        pending.error = error
                    conn.execute("RELEASE request")
                conn.execute("COMMIT")
                committed = True
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                failure = _translate(error)
                for pending in batch:
                    if pending.error is None:
                        pending.result, pending.error = None, failure
            finally:
                for pending in batch:
                    pending.done = True
        if committed:
            self._on_commit()


def _translate(error: BaseException) -> BaseException:
    if isinstance(error, sqlite3.Error):
        failure = EventStoreError(f"SQLite write failed: {error}")
        failure.__cause__ = error
        return failure
    return error
