"""Contract: catch-up subscriptions read history, then follow the live tail, and stop cleanly."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.contracts.conftest import Backend, requires
from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    Capability,
    CaughtUp,
    Checkpoint,
    EventFilter,
    EventStore,
    EventStoreClosed,
    RecordedEvent,
    StreamState,
    Subscription,
    SubscriptionItem,
)

WAIT_S = 10.0
REPO = Path(__file__).resolve().parents[2]


def take(subscription: Subscription, count: int) -> list[SubscriptionItem]:
    """The next `count` items, failing (not hanging) when they do not come in time."""
    found: list[SubscriptionItem] = []
    done = threading.Event()

    def collect() -> None:
        for item in subscription:
            found.append(item)
            if len(found) == count:
                break
        done.set()

    threading.Thread(target=collect, daemon=True).start()
    if not done.wait(WAIT_S):
        subscription.stop()
        pytest.fail(f"only {len(found)} of {count} items arrived within {WAIT_S}s: {found}")
    return found


def recorded(items: list[SubscriptionItem]) -> list[RecordedEvent]:
    return [i for i in items if isinstance(i, RecordedEvent)]


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex


def mine(tag: str) -> EventFilter:
    return EventFilter("stream_name", tag)


def test_history_then_live_events(event_store: EventStore, tag: str) -> None:
    """Given two events, a subscription from the start gets them, then one appended later."""
    event_store.append(f"a{tag}-1", events(2), expected_version=StreamState.NO_STREAM)
    with event_store.subscribe_to_all(filter=mine(tag), include_caught_up=True) as subscription:
        history = take(subscription, 3)
        assert isinstance(history[-1], CaughtUp)

        threading.Timer(
            0.05,
            lambda: event_store.append(f"b{tag}-1", events(1), expected_version=StreamState.ANY),
        ).start()
        (live,) = take(subscription, 1)

    assert [(e.stream, e.revision) for e in recorded(history)] == [
        (f"a{tag}-1", 0),
        (f"a{tag}-1", 1),
    ]
    assert isinstance(live, RecordedEvent)
    assert live.stream == f"b{tag}-1"


def test_a_subscription_starts_after_its_position(event_store: EventStore, tag: str) -> None:
    """From position P the first event delivered is the one after P (P itself is done)."""
    positions = [
        event_store.append(f"s{tag}-{n}", events(1), expected_version=StreamState.NO_STREAM)
        for n in range(3)
    ]
    with event_store.subscribe_to_all(from_position=positions[0], filter=mine(tag)) as sub:
        got = recorded(take(sub, 2))
    assert [e.position for e in got] == positions[1:]


def test_from_end_delivers_only_new_events(event_store: EventStore, tag: str) -> None:
    """A subscription from the end skips history."""
    event_store.append(f"old{tag}-1", events(3), expected_version=StreamState.NO_STREAM)
    with event_store.subscribe_to_all(from_end=True, filter=mine(tag)) as subscription:
        event_store.append(f"new{tag}-1", events(1), expected_version=StreamState.NO_STREAM)
        (event,) = recorded(take(subscription, 1))
    assert event.stream == f"new{tag}-1"


def test_checkpoints_carry_a_filtered_consumer_forward(event_store: EventStore, tag: str) -> None:
    """Over a long run of unwanted events, Checkpoint items report how far the scan got."""
    wanted = event_store.append(f"want{tag}-1", events(1), expected_version=StreamState.NO_STREAM)
    for n in range(30):
        event_store.append(f"skip{tag}-{n}", events(100), expected_version=StreamState.NO_STREAM)
    last = event_store.append(f"skip{tag}-x", events(1), expected_version=StreamState.NO_STREAM)

    with event_store.subscribe_to_all(
        from_position=wanted - 1,
        filter=EventFilter.stream_prefixes(f"want{tag}"),
        include_checkpoints=True,
        include_caught_up=True,
    ) as subscription:
        items: list[SubscriptionItem] = []
        for item in subscription:
            items.append(item)
            if isinstance(item, CaughtUp):
                break

    assert [e.position for e in recorded(items)] == [wanted]
    checkpoints = [i.position for i in items if isinstance(i, Checkpoint)]
    assert checkpoints, "a filtered scan over 3,000 events must report progress"
    assert checkpoints == sorted(checkpoints)
    assert all(wanted < c <= last for c in checkpoints)
    assert isinstance(items[-1], CaughtUp)


def test_stop_ends_a_waiting_subscription(event_store: EventStore, tag: str) -> None:
    """`stop()` from another thread ends an iteration blocked on the live tail."""
    subscription = event_store.subscribe_to_all(filter=mine(tag))
    ended = threading.Event()

    def drain() -> None:
        for _ in subscription:
            pass
        ended.set()

    threading.Thread(target=drain, daemon=True).start()
    time.sleep(0.1)
    subscription.stop()
    assert ended.wait(WAIT_S)


def test_closing_the_store_ends_its_subscriptions(backend: Backend, tag: str) -> None:
    """A subscription on a store that gets closed ends with EventStoreClosed, never hangs."""
    store = backend.open()
    subscription = store.subscribe_to_all(filter=mine(tag))
    outcome: list[BaseException | None] = []

    def drain() -> None:
        try:
            for _ in subscription:
                pass
            outcome.append(None)
        except EventStoreClosed as error:
            outcome.append(error)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    time.sleep(0.1)
    store.close()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert isinstance(outcome[0], EventStoreClosed)


def test_a_stream_subscription_follows_one_stream(event_store: EventStore, stream: Names) -> None:
    """History of the stream, then its live events; other streams never show up."""
    name = stream("order")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    with event_store.subscribe_to_stream(name, include_caught_up=True) as subscription:
        history = take(subscription, 3)
        event_store.append(stream("other"), events(1), expected_version=StreamState.NO_STREAM)
        event_store.append(name, events(1), expected_version=1)
        (live,) = take(subscription, 1)

    assert [e.revision for e in recorded(history)] == [0, 1]
    assert isinstance(history[-1], CaughtUp)
    assert isinstance(live, RecordedEvent)
    assert (live.stream, live.revision) == (name, 2)


def test_a_stream_subscription_from_a_revision(event_store: EventStore, stream: Names) -> None:
    """From revision R the first event delivered is R + 1; from the end, only new ones."""
    name = stream("order")
    event_store.append(name, events(4), expected_version=StreamState.NO_STREAM)
    with event_store.subscribe_to_stream(name, from_revision=1) as subscription:
        assert [e.revision for e in recorded(take(subscription, 2))] == [2, 3]
    with event_store.subscribe_to_stream(name, from_end=True) as subscription:
        event_store.append(name, events(1), expected_version=3)
        assert [e.revision for e in recorded(take(subscription, 1))] == [4]


def test_a_stream_subscription_waits_for_a_new_stream(
    event_store: EventStore, stream: Names
) -> None:
    """Subscribing to a stream that does not exist yet delivers its first events."""
    name = stream("buyer")
    with event_store.subscribe_to_stream(name) as subscription:
        threading.Timer(
            0.05, lambda: event_store.append(name, events(2), expected_version=StreamState.ANY)
        ).start()
        assert [e.revision for e in recorded(take(subscription, 2))] == [0, 1]


def test_many_idle_subscriptions_wake_on_one_append(event_store: EventStore, tag: str) -> None:
    """Twenty subscribers waiting on the tail all receive the next event."""
    subscriptions = [
        event_store.subscribe_to_all(from_end=True, filter=mine(tag)) for _ in range(20)
    ]
    try:
        results: list[list[RecordedEvent]] = [[] for _ in subscriptions]
        threads = [
            threading.Thread(target=lambda s=s, r=r: r.extend(recorded(take(s, 1))), daemon=True)
            for s, r in zip(subscriptions, results, strict=True)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.1)
        event_store.append(f"x{tag}-1", events(1), expected_version=StreamState.NO_STREAM)
        for thread in threads:
            thread.join(WAIT_S)
        assert all(len(r) == 1 and r[0].stream == f"x{tag}-1" for r in results)
    finally:
        for subscription in subscriptions:
            subscription.stop()


@pytest.mark.multiprocess
def test_the_live_tail_crosses_processes(
    backend: Backend, event_store: EventStore, tag: str
) -> None:
    """An event appended by another process reaches a subscriber here."""
    requires(event_store, Capability.MULTI_PROCESS)
    assert backend.uri is not None
    with event_store.subscribe_to_all(from_end=True, filter=mine(tag)) as subscription:
        script = (
            "import sys\n"
            "from write_side.eventstore import NewEvent, StreamState\n"
            "from write_side.eventstore.factory import open_event_store\n"
            "with open_event_store(sys.argv[1]) as store:\n"
            "    for n in range(3):\n"
            "        store.append(sys.argv[2], [NewEvent('FromChild', b'{}')],"
            " expected_version=StreamState.ANY)\n"
        )
        child = subprocess.run(
            [sys.executable, "-c", script, backend.uri, f"child{tag}-1"],
            cwd=REPO,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == 0, child.stderr.decode()
        got = recorded(take(subscription, 3))
    assert [(e.type, e.revision) for e in got] == [
        ("FromChild", 0),
        ("FromChild", 1),
        ("FromChild", 2),
    ]
