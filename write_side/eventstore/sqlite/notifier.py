"""One change notifier per process and database file, waking subscribers on a commit.

Commits of this process signal it directly. Commits of other processes are seen by one thread
polling `PRAGMA data_version`, only while somebody is waiting, every few milliseconds while
commits with new events or signals keep coming and more slowly after a quiet spell
(`PollPace`): idle subscriptions block on a condition and cost no CPU of their own.

Three counters: `version` moves on every commit, `events_version` only on commits that may
have added events, `signals_version` on commits that give waiters work without adding events
(a subscription group handing events to other consumers, an operator changing a group): such a
commit also bumps the `change_signals` row (`signal_change`) so that other processes see it.
Catch-up subscriptions wait for new events and group consumers for new events or a signal, each
kind of wait on a condition of its own, so the bookkeeping commits of the groups (claims,
acknowledgements, heartbeats) wake nobody, not even to find nothing new and sleep again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import ClassVar

#: How often the poller reads `PRAGMA data_version` while commits keep coming.
POLL_INTERVAL_S = 0.002
#: After this long without a commit adding events or a signal the poller slows down, doubling
#: its interval at each quiet poll up to `SLOW_POLL_INTERVAL_S`; the first such commit it sees
#: puts it back to the fast pace.
FAST_FOR_S = 0.25
SLOW_POLL_INTERVAL_S = 0.02

#: Bumped inside a transaction whose commit gives other processes' waiters work without adding
#: events; the table is the event store's (`schema.DDL`).
_SIGNAL = (
    "INSERT INTO change_signals (channel, counter) VALUES ('wake', 1) "
    "ON CONFLICT (channel) DO UPDATE SET counter = counter + 1"
)


def signal_change(conn: sqlite3.Connection) -> None:
    """Mark the open write transaction of `conn` as one that wakes waiters of every process
    (`ChangeNotifier.signals_version`); this process still calls `changed(signal=True)`."""
    conn.execute(_SIGNAL)


class ChangeNotifier:
    """Counts commits to one database; subscribers wait for the count to move."""

    _shared: ClassVar[dict[str, ChangeNotifier]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str | None) -> None:
        self._path = path
        # One lock, and a condition per kind of wait, so that a commit wakes only the threads
        # it gives something to: a group's heartbeat wakes no catch-up subscription.
        self._lock = threading.Lock()
        self._any_commit = threading.Condition(self._lock)
        self._new_events = threading.Condition(self._lock)
        self._new_work = threading.Condition(self._lock)
        self._version = 0
        self._events_version = 0
        self._signals_version = 0
        self._waiters = 0
        self._users = 0
        self._closed = False
        self._someone_waits = threading.Event()
        self._poller: threading.Thread | None = None

    @classmethod
    def for_file(cls, path: str) -> ChangeNotifier:
        """The notifier of this process for `path`, shared by every store opened on it."""
        key = os.path.realpath(path)
        with cls._shared_lock:
            notifier = cls._shared.get(key)
            if notifier is None:
                notifier = cls._shared[key] = cls(key)
            notifier._users += 1
            return notifier

    @classmethod
    def private(cls) -> ChangeNotifier:
        """A notifier for an in-memory database, which no other process can change."""
        notifier = cls(None)
        notifier._users = 1
        return notifier

    def release(self) -> None:
        """Give up one use; the last user stops the polling thread."""
        with self._shared_lock:
            self._users -= 1
            if self._users > 0:
                return
            if self._path is not None:
                self._shared.pop(self._path, None)
        with self._lock:
            self._closed = True
            self._notify(self._any_commit, self._new_events, self._new_work)
        self._someone_waits.set()
        if self._poller is not None:
            self._poller.join(timeout=2)

    @property
    def version(self) -> int:
        """A number that changes after every commit; read it *before* reading the data."""
        return self._version

    @property
    def events_version(self) -> int:
        """A number that changes after every commit that may have added events; read it
        *before* reading the events."""
        return self._events_version

    @property
    def signals_version(self) -> int:
        """A number that changes after every commit made with `signal_change`."""
        return self._signals_version

    def changed(self, *, events: bool = True, signal: bool = False) -> None:
        """Signal a commit made by this process; `events=False` when it added none,
        `signal=True` when it was made with `signal_change`."""
        with self._lock:
            self._version += 1
            if events:
                self._events_version += 1
            if signal:
                self._signals_version += 1
            if self._waiters:
                self._notify(self._any_commit)
                if events:
                    self._notify(self._new_events)
                if events or signal:
                    self._notify(self._new_work)

    def wait_for_change(self, since: int, timeout: float) -> bool:
        """Block until the version differs from `since`; False on timeout or close."""
        return self._wait(self._any_commit, lambda: self._version != since, timeout)

    def wait_for_events(self, since: int, timeout: float) -> bool:
        """Block until the events version differs from `since`; False on timeout or close."""
        return self._wait(self._new_events, lambda: self._events_version != since, timeout)

    def wait_for_work(self, events_since: int, signals_since: int, timeout: float) -> bool:
        """Block until new events or a signal (see the versions); False on timeout or close."""
        return self._wait(
            self._new_work,
            lambda: self._events_version != events_since or self._signals_version != signals_since,
            timeout,
        )

    def _wait(self, cond: threading.Condition, moved: Callable[[], bool], timeout: float) -> bool:
        with self._lock:
            if moved():
                return True
            if self._closed:
                return False
            self._waiters += 1
            self._start_polling()
            try:
                return cond.wait_for(lambda: moved() or self._closed, timeout) and not self._closed
            finally:
                self._waiters -= 1

    def wake_all(self) -> None:
        """Wake every waiter without a change (used when subscriptions are stopped)."""
        with self._lock:
            self._notify(self._any_commit, self._new_events, self._new_work)

    @staticmethod
    def _notify(*conditions: threading.Condition) -> None:
        for cond in conditions:
            cond.notify_all()

    def _start_polling(self) -> None:
        self._someone_waits.set()
        if self._path is None or self._poller is not None:
            return
        self._poller = threading.Thread(
            target=self._poll, name=f"bookworm-notifier:{os.path.basename(self._path)}", daemon=True
        )
        self._poller.start()

    def _poll(self) -> None:
        assert self._path is not None
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            (last,) = conn.execute("PRAGMA data_version").fetchone()
            head, signals = _marks(conn)
            pace = PollPace(time.monotonic())
            while not self._closed:
                if self._waiters == 0:
                    self._someone_waits.clear()
                    # Re-check after clearing, so a waiter arriving in between is not missed.
                    if self._waiters == 0:
                        self._someone_waits.wait()
                    # `last`, `head` and `signals` are kept from before the idle spell: a commit
                    # made while nobody waited costs one spurious wake-up, never a missed one.
                    pace = PollPace(time.monotonic())
                    continue
                time.sleep(pace.interval)
                (current,) = conn.execute("PRAGMA data_version").fetchone()
                work = False
                if current != last:
                    last = current
                    # Read after the change was seen, so it covers that commit: a new head
                    # means new events (positions only grow); the same head means none.
                    new_head, new_signals = _marks(conn)
                    events = new_head is None or new_head != head
                    signal = new_signals is None or new_signals != signals
                    self.changed(events=events, signal=signal)
                    head, signals = new_head, new_signals
                    work = events or signal
                # Only commits that give waiters work keep the pace up, not the bookkeeping
                # of the subscription groups (their leases and heartbeats).
                pace.polled(time.monotonic(), changed=work)
        finally:
            conn.close()


class PollPace:
    """How long the poller sleeps before its next read: `POLL_INTERVAL_S` while commits with
    work for the waiters keep coming, then, once none has come for `FAST_FOR_S`, twice as long
    after each quiet poll, up to `SLOW_POLL_INTERVAL_S`. An idle process then polls fifty times
    a second instead of five hundred, and a commit after a quiet spell is still seen within
    `SLOW_POLL_INTERVAL_S`."""

    def __init__(self, now: float) -> None:
        self.interval = POLL_INTERVAL_S
        self._last_change = now

    def polled(self, now: float, *, changed: bool) -> None:
        """Account for a poll at `now` that did (or did not) see a change."""
        if changed:
            self.interval, self._last_change = POLL_INTERVAL_S, now
        elif now - self._last_change >= FAST_FOR_S:
            self.interval = min(self.interval * 2, SLOW_POLL_INTERVAL_S)


def _marks(conn: sqlite3.Connection) -> tuple[int | None, int | None]:
    """The highest position in `$all` (-1 before the first event) and the `change_signals`
    counter, in one read; None for what is unknown (no table yet, or the read failed), which
    counts as a change."""
    try:
        head, signals = conn.execute(
            "SELECT (SELECT MAX(position) FROM events), "
            "(SELECT COALESCE(MAX(counter), 0) FROM change_signals)"
        ).fetchone()
    except sqlite3.Error:
        return None, None
    return (-1 if head is None else int(head)), int(signals)
