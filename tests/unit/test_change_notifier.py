"""The SQLite change notifier and the live tail of catch-up subscriptions over it."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from write_side.eventstore import NewEvent, RecordedEvent, StreamState, Subscription
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.notifier import (
    FAST_FOR_S,
    POLL_INTERVAL_S,
    SLOW_POLL_INTERVAL_S,
    ChangeNotifier,
    PollPace,
)
from write_side.eventstore.sqlite.subscription import CatchUpSubscription, next_tick


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.005)


def test_a_commit_without_events_moves_the_version_only() -> None:
    notifier = ChangeNotifier.private()
    version, events = notifier.version, notifier.events_version
    notifier.changed(events=False)
    assert notifier.version != version
    assert notifier.events_version == events
    assert not notifier.wait_for_events(events, 0.01)
    notifier.changed()
    assert notifier.wait_for_events(events, 0.01)


def _switches(native_id: int) -> int:
    """How many times the thread has given up its CPU to wait (Linux's count)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    (line,) = (line for line in status.splitlines() if line.startswith("voluntary_ctxt_switches"))
    return int(line.split()[1])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts switches in /proc")
def test_a_commit_wakes_only_the_waiters_it_gives_something_to() -> None:
    """A bookkeeping commit (a group's heartbeat: no events, no signal) wakes no waiter, only
    to find nothing and sleep again; a commit with events wakes the waiters for events."""
    notifier = ChangeNotifier.private()
    since = notifier.events_version
    started = threading.Event()
    woken: list[bool] = []
    waiter_id: list[int] = []

    def wait() -> None:
        waiter_id.append(threading.get_native_id())
        started.set()
        woken.append(notifier.wait_for_events(since, timeout=10.0))

    thread = threading.Thread(target=wait)
    thread.start()
    started.wait()
    wait_for(lambda: notifier._waiters == 1)
    before = _switches(waiter_id[0])
    for _ in range(200):
        notifier.changed(events=False)
        time.sleep(0.0005)  # give a woken waiter its turn, as separate commits would
    asleep = _switches(waiter_id[0]) - before
    notifier.changed(events=True)
    thread.join(timeout=5)

    assert woken == [True]
    assert asleep < 20  # each of the 200 used to wake it (about 200 switches)


def test_the_poller_tells_new_events_from_other_commits(tmp_path: Path) -> None:
    """Commits of another connection: an append moves both counters, a write to another
    table (as the subscription groups make) moves the version only."""
    path = tmp_path / "events.db"
    with SqliteEventStore(path) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("CREATE TABLE bookkeeping (n INTEGER)")
        notifier = ChangeNotifier.for_file(str(path))
        try:
            version, events = notifier.version, notifier.events_version
            waiting = threading.Thread(target=notifier.wait_for_events, args=(events, 5.0))
            waiting.start()  # someone waits: the poller runs
            time.sleep(0.05)
            other.execute("INSERT INTO bookkeeping VALUES (1)")
            wait_for(lambda: notifier.version != version)
            time.sleep(0.02)
            assert notifier.events_version == events
            SqliteEventStore(path).append(
                "test-1", [NewEvent("A", b"{}")], expected_version=StreamState.ANY
            )
            wait_for(lambda: notifier.events_version != events)
            assert store.head_position() is not None
        finally:
            other.close()
            notifier.release()
            waiting.join(5)


def sleep_past_a_tick(window: float) -> None:
    """Sleep until 10 ms after the next tick of the window's grid."""
    time.sleep(next_tick(window, time.monotonic()) - time.monotonic() + 0.01)


def test_the_poller_slows_down_after_a_quiet_spell_and_speeds_up_on_a_commit() -> None:
    pace = PollPace(now=100.0)
    assert pace.interval == POLL_INTERVAL_S

    pace.polled(100.0 + FAST_FOR_S / 2, changed=False)
    assert pace.interval == POLL_INTERVAL_S  # quiet, but not for long

    intervals = []
    for n in range(10):
        pace.polled(100.0 + FAST_FOR_S + n * 0.01, changed=False)
        intervals.append(pace.interval)
    assert intervals[:3] == [2 * POLL_INTERVAL_S, 4 * POLL_INTERVAL_S, 8 * POLL_INTERVAL_S]
    assert intervals[-1] == SLOW_POLL_INTERVAL_S
    assert all(a <= b for a, b in pairwise(intervals))

    pace.polled(101.0, changed=True)
    assert pace.interval == POLL_INTERVAL_S
    pace.polled(101.0 + FAST_FOR_S / 2, changed=False)
    assert pace.interval == POLL_INTERVAL_S


def test_a_commit_of_another_connection_after_a_quiet_spell_still_wakes_a_waiter(
    tmp_path: Path,
) -> None:
    """After a second without commits the poller has slowed down; another connection's append
    still wakes a waiter, within the slow interval and the wake-up's own delays."""
    path = tmp_path / "events.db"
    with SqliteEventStore(path):
        notifier = ChangeNotifier.for_file(str(path))
        events = notifier.events_version
        woke: list[float] = []

        def wait() -> None:
            if notifier.wait_for_events(events, 5.0):
                woke.append(time.monotonic())

        waiting = threading.Thread(target=wait)
        try:
            waiting.start()
            time.sleep(1.0)  # quiet: the poller is at its slow pace
            with SqliteEventStore(path) as other:
                appended = time.monotonic()
                other.append("test-1", [NewEvent("A", b"{}")], expected_version=StreamState.ANY)
            waiting.join(5)
        finally:
            notifier.release()
    assert woke, "the waiter was not woken"
    assert woke[0] - appended < SLOW_POLL_INTERVAL_S + 0.2


class ScriptedTail:
    """A live subscription over a log the test appends to, with a reader thread: `reads`
    holds how many new positions each read found, `got` the positions delivered."""

    def __init__(self, window: float) -> None:
        self.notifier = ChangeNotifier.private()
        self.log: list[int] = []
        self.reads: list[int] = []
        self.got: list[int] = []
        self.subscription = CatchUpSubscription(
            self._read_page,
            self.notifier,
            after=0,
            after_position=None,
            is_closed=lambda: False,
            live_batch_window_s=window,
        )
        self.reader = threading.Thread(target=self._follow)

    def _read_page(self, cursor: int) -> tuple[list[RecordedEvent], int | None, int | None]:
        new = [p for p in self.log if p > cursor]
        self.reads.append(len(new))
        if not new:
            return [], None, None
        return [_event(p) for p in new], new[-1], new[-1]

    def _follow(self) -> None:
        for item in self.subscription:
            assert isinstance(item, RecordedEvent)
            self.got.append(item.position)

    def commit(self, position: int) -> None:
        self.log.append(position)
        self.notifier.changed()

    def __enter__(self) -> ScriptedTail:
        self.reader.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.subscription.stop()
        self.reader.join(5)


def test_a_live_subscription_reads_commits_of_one_window_together() -> None:
    """After a read, commits arriving before the next tick of the window's grid are read by
    one read; a commit after a quiet spell is read at once."""
    with ScriptedTail(window=0.3) as tail:
        wait_for(lambda: len(tail.reads) >= 1)
        time.sleep(0.35)  # a quiet spell longer than the window
        sleep_past_a_tick(0.3)  # so that the next three commits come well before the next one
        started = time.monotonic()
        tail.commit(1)
        wait_for(lambda: tail.got == [1])
        assert time.monotonic() - started < 0.2  # a lone commit: at once
        for position in (2, 3, 4):
            tail.commit(position)
            time.sleep(0.02)
        wait_for(lambda: tail.got == [1, 2, 3, 4])
    assert [n for n in tail.reads if n] == [1, 3]


def test_the_check_after_a_timed_out_wait_does_not_hold_back_the_next_commit() -> None:
    """A waiting subscription reads again when its wait times out (every 0.5 s), to notice a
    closed store; that check is not a read of new commits, so a commit right after it is read
    at once, as after any quiet spell, not at the next tick of the window's grid."""
    window = 0.4
    # The first read just after a tick, so the check 0.5 s later falls 0.1 s into a later
    # interval of the grid, with 0.3 s of it left.
    sleep_past_a_tick(window)
    with ScriptedTail(window) as tail:
        wait_for(lambda: len(tail.reads) >= 2)  # the first read, then the check
        started = time.monotonic()
        tail.commit(1)
        wait_for(lambda: tail.got == [1])
        assert time.monotonic() - started < 0.15


def _event(position: int) -> RecordedEvent:
    return RecordedEvent.from_row(
        (b"\0" * 16, "A", b"{}", b"", "application/json", "test-1", position, position, 0)
    )


@contextmanager
def following(subscriptions: Sequence[Subscription]) -> Iterator[list[list[int]]]:
    """A reader thread per subscription, each adding the positions it gets to its own list;
    the subscriptions are stopped and their readers joined on the way out."""
    got: list[list[int]] = [[] for _ in subscriptions]

    def follow(index: int) -> None:
        for item in subscriptions[index]:
            assert isinstance(item, RecordedEvent)
            got[index].append(item.position)

    readers = [threading.Thread(target=follow, args=(i,)) for i in range(len(subscriptions))]
    for reader in readers:
        reader.start()
    try:
        yield got
    finally:
        for subscription in subscriptions:
            subscription.stop()
        for reader in readers:
            reader.join(5)


def test_subscriptions_at_one_cursor_share_a_read_of_the_tail_but_never_a_stale_one(
    tmp_path: Path,
) -> None:
    """Live subscriptions woken by one commit all find it; every later commit too, although
    they read the tail from rows kept for the others while no commit came in between."""
    with (
        SqliteEventStore(tmp_path / "events.db") as store,
        following([store.subscribe_to_all() for _ in range(6)]) as got,
    ):
        positions = []
        for n in range(40):
            positions.append(
                store.append(
                    f"test-{n % 3}", [NewEvent("A", b"{}")], expected_version=StreamState.ANY
                )
            )
            if n % 7 == 0:
                time.sleep(0.01)
        wait_for(lambda: all(g == positions for g in got))


def test_live_subscriptions_of_a_process_read_the_tail_together_once_a_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight live subscriptions (two of them started further on) under a steady stream of
    commits: they wake on the same ticks of their window's grid and mostly share one read of
    the tail, and each still gets every event in order."""
    window, subscribers = 0.05, 8
    with SqliteEventStore(tmp_path / "events.db", live_batch_window_s=window) as store:
        first = store.append("test-0", [NewEvent("A", b"{}")], expected_version=StreamState.ANY)
        reads = 0
        read_after = store._read_after

        def counted(cursor: int) -> list[Any]:
            nonlocal reads
            reads += 1
            return read_after(cursor)

        monkeypatch.setattr(store, "_read_after", counted)
        subscriptions = [
            store.subscribe_to_all(from_position=first if n < 2 else None)
            for n in range(subscribers)
        ]
        with following(subscriptions) as got:
            wait_for(lambda: all(g == [first] for g in got[2:]))
            reads, started = 0, time.monotonic()
            positions = []
            while time.monotonic() - started < 1.0:
                positions.append(
                    store.append("test-1", [NewEvent("A", b"{}")], expected_version=StreamState.ANY)
                )
                time.sleep(0.002)
            wait_for(lambda: all(g[-1:] == positions[-1:] for g in got))
            ticks = (time.monotonic() - started) / window
    assert all(g == positions for g in got[:2])
    assert all(g == [first, *positions] for g in got[2:])
    # Each on its own would read once a tick: eight reads a tick.
    assert reads < subscribers / 2 * ticks, f"{reads} reads in {ticks:.0f} ticks"
