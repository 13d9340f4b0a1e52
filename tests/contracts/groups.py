"""The `groups` fixture and helpers of the subscription-group contract tests.

The fixture follows the `event_store` fixture's backend: each adapter of the store brings its
subscription groups (`open_subscription_groups`), so a backend supplies nothing more.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from write_side.eventstore import Capability, EventStore, NewEvent, StreamState
from write_side.groups import DeliveredEvent, GroupConsumer, GroupSettings, SubscriptionGroups
from write_side.groups.factory import open_subscription_groups

#: Upper bound of any single wait in these tests: a stuck group fails instead of hanging.
WAIT_S = 20.0

#: Settings that keep the tests short: retries come back within a fraction of a second.
QUICK = GroupSettings(message_timeout=0.4, max_retry_count=3)


@pytest.fixture
def groups(event_store: EventStore) -> Iterator[SubscriptionGroups]:
    """The subscription groups of the store under test, closed afterwards."""
    opened = open_subscription_groups(event_store)
    try:
        yield opened
    finally:
        opened.close()


def requires_groups(groups: SubscriptionGroups, capability: Capability) -> None:
    """Skip the rest of the test, saying why, when the groups adapter lacks a capability."""
    if capability not in groups.capabilities:
        pytest.skip(f"{groups!r} lacks the {capability.value} capability")


@pytest.fixture
def group_name() -> str:
    """A fresh group name (a shared server keeps the groups of earlier tests)."""
    return f"group_{uuid.uuid4().hex[:12]}"


def append(store: EventStore, stream: str, count: int, type: str = "Happened") -> list[int]:
    """Append `count` events to a new stream; their positions."""
    last = store.append(
        stream,
        [NewEvent(type=type, data=f'{{"n": {n}}}'.encode()) for n in range(count)],
        expected_version=StreamState.NO_STREAM,
    )
    return [e.position for e in store.read_stream(stream)] if last else []


def receive(consumer: GroupConsumer, timeout: float = WAIT_S) -> DeliveredEvent:
    """The next event, failing the test when none comes within `timeout`."""
    delivered = consumer.receive(timeout)
    if delivered is None:
        pytest.fail(f"{consumer!r} received nothing within {timeout} s")
    return delivered


def receive_all(consumer: GroupConsumer, count: int, *, ack: bool = True) -> list[DeliveredEvent]:
    """The next `count` events, acknowledged as they come unless told otherwise."""
    found = []
    for _ in range(count):
        delivered = receive(consumer)
        if ack:
            consumer.ack(delivered)
        found.append(delivered)
    return found


def nothing_more(consumer: GroupConsumer, quiet_s: float = 0.5) -> None:
    """Assert no event arrives within `quiet_s` (the group has nothing for this consumer)."""
    extra = consumer.receive(quiet_s)
    assert extra is None, f"unexpected delivery {extra}"


class Collector:
    """Receives from a consumer in a thread, acknowledging (or holding) what arrives."""

    def __init__(self, consumer: GroupConsumer, *, ack: bool = True) -> None:
        self.consumer = consumer
        self.received: list[DeliveredEvent] = []
        self._ack = ack
        self._changed = threading.Condition()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._done.is_set():
                delivered = self.consumer.receive(0.05)
                if delivered is None:
                    continue
                if self._ack:
                    self.consumer.ack(delivered)
                with self._changed:
                    self.received.append(delivered)
                    self._changed.notify_all()
        except StopIteration:
            pass
        except BaseException as error:  # handed to the test by `stop`
            self._error = error

    def positions(self) -> list[int]:
        """Positions received so far, in order."""
        with self._changed:
            return [d.event.position for d in self.received]

    def stop(self) -> list[DeliveredEvent]:
        """End the thread (the consumer stays open) and return what it received."""
        self._done.set()
        self._thread.join(WAIT_S)
        if self._error is not None:
            raise self._error
        return list(self.received)


def wait_until_handled(collectors: list[Collector], expected: set[int]) -> None:
    """Wait until the collectors together received every position of `expected`."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if expected <= {p for c in collectors for p in c.positions()}:
            return
        time.sleep(0.02)
    seen = {p for c in collectors for p in c.positions()}
    pytest.fail(f"never delivered: {sorted(expected - seen)}")
