"""Process managers on their subscription groups: every event handled once in effect, failures
retried then parked, the worker runs them beside the projections."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from pipelines.process_managers import ProcessManagerRunner
from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter, EventStore, NewEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups import GroupSettings, SubscriptionGroups
from write_side.groups.factory import open_subscription_groups
from write_side.registry import REGISTRY


class Recorder:
    """Notes each event it sees; fails on events whose data says so, `fail_times` times."""

    filter = EventFilter.event_types("Ordered")

    def __init__(self, name: str, fail_times: int = 0) -> None:
        self.name = name
        self.seen: list[uuid.UUID] = []
        self.fail_times = fail_times
        self.failed = 0
        self.lock = threading.Lock()

    def handle(self, stored: StoredEvent) -> None:
        with self.lock:
            if b"poison" in stored.recorded.data and self.failed < self.fail_times:
                self.failed += 1
                raise RuntimeError("cannot handle this one yet")
            self.seen.append(stored.id)


@pytest.fixture
def store() -> Iterator[SqliteEventStore]:
    with SqliteEventStore() as memory:
        yield memory


@pytest.fixture
def groups(store: SqliteEventStore) -> Iterator[SubscriptionGroups]:
    opened = open_subscription_groups(store)
    yield opened
    opened.close()


def order(store: EventStore, data: bytes = b"{}") -> uuid.UUID:
    event = NewEvent(type="Ordered", data=data)
    store.append(f"order-{uuid.uuid4()}", [event], expected_version=StreamState.NO_STREAM)
    return event.id


def test_a_process_manager_sees_each_wanted_event_from_the_start(
    store: SqliteEventStore, groups: SubscriptionGroups
) -> None:
    before = [order(store) for _ in range(5)]
    store.append(
        "other-1", [NewEvent(type="Ignored", data=b"{}")], expected_version=StreamState.ANY
    )
    recorder = Recorder("recorder")
    runner = ProcessManagerRunner(groups, recorder, REGISTRY)

    assert runner.drain(idle_s=0.3) == 5
    after = [order(store) for _ in range(3)]
    assert runner.drain(idle_s=0.3) == 3

    assert recorder.seen == before + after
    assert runner.stats.handled == 8


def test_a_failing_event_is_retried_then_parked(
    store: SqliteEventStore, groups: SubscriptionGroups
) -> None:
    fine = order(store)
    poison = order(store, b'{"poison": true}')
    recorder = Recorder("stubborn", fail_times=100)
    runner = ProcessManagerRunner(
        groups, recorder, REGISTRY, settings=GroupSettings(message_timeout=5, max_retry_count=2)
    )

    runner.drain(idle_s=0.5)

    assert recorder.seen == [fine]
    assert recorder.failed == 3  # the first delivery and two retries
    info = groups.get_subscription_info("stubborn")
    assert info.parked == 1
    recorder.fail_times = 0  # fixed
    groups.replay_parked_events("stubborn")
    runner.drain(idle_s=0.5)
    assert recorder.seen == [fine, poison]


def test_run_follows_new_events_until_stopped(
    store: SqliteEventStore, groups: SubscriptionGroups
) -> None:
    recorder = Recorder("live")
    runner = ProcessManagerRunner(groups, recorder, REGISTRY, receive_timeout_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        ids = [order(store) for _ in range(4)]
        deadline = threading.Event()
        for _ in range(200):
            if len(recorder.seen) == 4:
                break
            deadline.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert recorder.seen == ids
