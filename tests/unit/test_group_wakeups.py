"""What wakes a consumer of a subscription group on the SQLite store, and what it costs.

Events its filter leaves out cost a waiting consumer a read, never a write transaction of the
group; the bookkeeping commits of other groups (heartbeats, acknowledgements) wake nobody;
a hand-over of events signals the consumers of every process; on the live tail a consumer
refills once per the store's live window, while a backlog is taken without pause.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from write_side.eventstore import EventFilter, NewEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.notifier import ChangeNotifier, signal_change
from write_side.groups.model import DeliveredEvent, GroupSettings
from write_side.groups.sqlite import SqliteSubscriptionGroups
from write_side.groups.sqlite.consumer import SqliteGroupConsumer
from write_side.groups.sqlite.dispatch import GroupTx
from write_side.groups.sqlite.rows import GroupRow

WANTED = EventFilter.event_types("Wanted")
#: Heartbeats once a second (the longest interval): the test's appends take far less.
QUIET = GroupSettings(message_timeout=60.0)


def _group_writes(path: Path) -> tuple[int, int]:
    """(last heartbeat, cursor) of the group's consumer and row: both move only with a write
    transaction of the group."""
    conn = sqlite3.connect(path)
    try:
        (seen,) = conn.execute("SELECT MAX(last_seen) FROM subscription_group_consumers").fetchone()
        (cursor,) = conn.execute("SELECT cursor FROM subscription_groups").fetchone()
        return int(seen), int(cursor)
    finally:
        conn.close()


def test_events_outside_the_filter_cost_the_group_no_write(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SqliteEventStore(path) as store, SqliteSubscriptionGroups(store) as groups:
        groups.create_subscription_to_all("pm", filter=WANTED, settings=QUIET)
        consumer = groups.read_subscription_to_all("pm")
        try:
            assert consumer.receive(0.05) is None  # joined, found nothing
            before = _group_writes(path)
            received: list[DeliveredEvent | None] = []
            reader = threading.Thread(target=lambda: received.append(consumer.receive(3.0)))
            reader.start()
            for n in range(30):
                store.append(
                    f"other-{n}", [NewEvent("Other", b"{}")], expected_version=StreamState.ANY
                )
            time.sleep(0.1)  # the consumer woke for each and probed
            assert _group_writes(path) == before  # ... without writing
            wanted = store.append(
                "wanted-1", [NewEvent("Wanted", b"{}")], expected_version=StreamState.ANY
            )
            reader.join(5)
            (event,) = received
            assert event is not None
            assert event.event.position == wanted
            # The write that dispatched it moved the cursor over the events nobody wanted.
            assert _group_writes(path)[1] == wanted
        finally:
            consumer.stop()


def test_another_groups_bookkeeping_wakes_nobody_but_a_signal_does(tmp_path: Path) -> None:
    """Commits of another connection (as another process makes them): a write without events
    or signal leaves `wait_for_work` asleep; `signal_change` in a commit wakes it."""
    path = tmp_path / "events.db"
    with SqliteEventStore(path):
        other = sqlite3.connect(path, isolation_level=None)
        notifier = ChangeNotifier.for_file(str(path))
        try:
            other.execute("CREATE TABLE bookkeeping (n INTEGER)")
            events, signals = notifier.events_version, notifier.signals_version
            woke: list[bool] = []
            waiting = threading.Thread(
                target=lambda: woke.append(notifier.wait_for_work(events, signals, 0.4))
            )
            waiting.start()
            time.sleep(0.05)
            other.execute("INSERT INTO bookkeeping VALUES (1)")
            waiting.join(5)
            assert woke == [False]
            events, signals = notifier.events_version, notifier.signals_version
            waiting = threading.Thread(
                target=lambda: woke.append(notifier.wait_for_work(events, signals, 5.0))
            )
            waiting.start()
            time.sleep(0.05)
            other.execute("BEGIN IMMEDIATE")
            signal_change(other)
            other.execute("COMMIT")
            started = time.monotonic()
            waiting.join(5)
            assert woke == [False, True]
            assert time.monotonic() - started < 1.0
            assert notifier.events_version == events
        finally:
            other.close()
            notifier.release()


def test_a_dispatch_leaving_a_backlog_signals_consumers_with_room(tmp_path: Path) -> None:
    """One dispatch takes a bounded slice; when more is left and another consumer has room,
    the transaction signals (other processes' consumers wait for events or a signal only)."""
    with (
        SqliteEventStore(tmp_path / "events.db") as store,
        SqliteSubscriptionGroups(store) as groups,
    ):
        for n in range(30):
            store.append(f"test-{n}", [NewEvent("A", b"{}")], expected_version=StreamState.ANY)
        slice_of_ten = GroupSettings(
            read_batch_size=10, live_buffer_size=10, history_buffer_size=10
        )
        groups.create_subscription_to_all("backlog", settings=slice_of_ten)
        first = groups.read_subscription_to_all("backlog", event_buffer_size=100)
        second = groups.read_subscription_to_all("backlog", event_buffer_size=100)
        try:
            woke = [_dispatch(groups, "backlog", first) for _ in range(4)]
        finally:
            first.stop()
            second.stop()
    # 30 events in slices of 10: the third takes the last ten without reading past them (one
    # spurious signal at most), the fourth finds the source at its end and gives nothing.
    assert woke == [True, True, True, False]


def _dispatch(groups: SqliteSubscriptionGroups, name: str, dispatcher: object) -> bool:
    """Run one dispatch as `dispatcher` (everything to it: DispatchToSingle); did it signal?"""
    database = groups._db  # the adapter's own transaction, under test
    with database.write() as conn:
        group = GroupRow.load(conn, "name = ?", (name,))
        assert group is not None
        tx = GroupTx(conn, group, database.now_us())
        tx.dispatch(dispatcher._id)  # type: ignore[attr-defined]
        tx.finish()
    return tx.woke_others


LIVE_WINDOW_S = 0.2


def test_on_the_live_tail_a_consumer_refills_once_a_window_and_catches_up_without_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the store's live window at 0.2 s: a backlog of 600 events is taken with no pause
    between refills; then 100 events committed 10 ms apart are taken in about one refill (one
    write transaction of the group) per window, not one per commit, and every one arrives."""
    dispatches: list[float] = []
    dispatch = GroupTx.dispatch

    def counted(tx: GroupTx, dispatcher: int | None) -> None:
        dispatches.append(time.monotonic())
        dispatch(tx, dispatcher)

    pauses: list[float] = []
    live_pause_s = SqliteGroupConsumer._live_pause_s

    def recorded(consumer: SqliteGroupConsumer) -> float:
        pauses.append(live_pause_s(consumer))
        return pauses[-1]

    monkeypatch.setattr(GroupTx, "dispatch", counted)
    monkeypatch.setattr(SqliteGroupConsumer, "_live_pause_s", recorded)
    with (
        SqliteEventStore(tmp_path / "events.db", live_batch_window_s=LIVE_WINDOW_S) as store,
        SqliteSubscriptionGroups(store) as groups,
    ):
        for n in range(4):
            batch = [NewEvent("Wanted", b"{}") for _ in range(150)]
            store.append(f"backlog-{n}", batch, expected_version=StreamState.ANY)
        groups.create_subscription_to_all("pm", filter=WANTED, settings=QUIET)
        consumer = groups.read_subscription_to_all("pm")
        try:
            for _ in range(600):
                event = consumer.receive(5.0)
                assert event is not None
                consumer.ack(event)
            assert len(dispatches) >= 4  # a buffer of 150 at a time
            assert [p for p in pauses if p > 0] == []  # catching up: never held back
            dispatches.clear()

            def write() -> None:
                for n in range(100):
                    event = NewEvent("Wanted", b"{}")
                    store.append(f"live-{n}", [event], expected_version=StreamState.ANY)
                    time.sleep(0.01)

            writer = threading.Thread(target=write)
            started = time.monotonic()
            writer.start()
            live: list[str] = []
            while len(live) < 100:
                event = consumer.receive(5.0)
                assert event is not None
                consumer.ack(event)
                live.append(event.event.stream)
            elapsed_s = time.monotonic() - started
            writer.join(5)
        finally:
            consumer.stop()
    assert sorted(live) == sorted(f"live-{n}" for n in range(100))
    assert any(p > 0 for p in pauses)
    assert len(dispatches) <= elapsed_s / LIVE_WINDOW_S + 3, (len(dispatches), elapsed_s)
