"""How the groups reach the event store's SQLite file: a connection, a lock, the notifier."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.notifier import ChangeNotifier
from write_side.eventstore.sqlite.schema import connect
from write_side.groups.errors import SubscriptionGroupsClosed
from write_side.groups.sqlite.schema import create_group_tables


class GroupDatabase:
    """One connection to the store's file, shared (in turns) by every group user of a process.

    On a file, the groups open a connection of their own beside the store's and use the
    process's change notifier for that file, so idle consumers sleep until a process appends
    events or signals a hand-over (`notifier.signal_change`).
    Group state is committed with `synchronous=NORMAL`: a power cut may lose the last claims
    or acknowledgements, which only means events delivered again (delivery is at least once).
    In memory there is one connection, the store's, so the groups take turns with the store
    under its lock.
    """

    def __init__(self, store: SqliteEventStore, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._closed = False
        shared = store.shared_file()
        self._memory = shared.path is None
        self.live_window_s = shared.live_batch_window_s
        """On the live tail, the least time between two refills of a consumer (the store's)."""
        if shared.path is None:
            assert shared.connection is not None
            assert shared.lock is not None
            self._conn = shared.connection
            self._lock: threading.RLock = shared.lock
            self.notifier = shared.notifier
        else:
            self._conn = connect(shared.path, synchronous="NORMAL")
            self._lock = threading.RLock()
            self.notifier = ChangeNotifier.for_file(shared.path)
        with self._lock:
            create_group_tables(self._conn)

    @property
    def multi_process(self) -> bool:
        """True on a file, which other processes may open."""
        return not self._memory

    def now_us(self) -> int:
        """The clock in microseconds since the epoch (deadlines are compared across processes)."""
        return int(self.clock() * 1_000_000)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (SQLite's write lock held throughout), committed on success."""
        with self._lock:
            conn = self._open_connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot of the file."""
        with self._lock:
            conn = self._open_connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def _open_connection(self) -> sqlite3.Connection:
        if self._closed:
            raise SubscriptionGroupsClosed("the subscription groups were closed")
        try:
            self._conn.total_changes  # noqa: B018 -- raises once the store closed its connection
        except sqlite3.ProgrammingError:
            raise SubscriptionGroupsClosed("the event store under the groups was closed") from None
        return self._conn

    def close(self) -> None:
        """Close the connection (a file's) and give the notifier up; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._memory:
                self._conn.close()
        if not self._memory:
            self.notifier.release()
        self.notifier.wake_all()
