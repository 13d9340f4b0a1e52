"""Contract: consumers in several processes share a group; a killed one loses nothing."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from tests.contracts.children import Child
from tests.contracts.conftest import Backend, requires
from tests.contracts.groups import WAIT_S, append, receive, requires_groups
from tests.contracts.helpers import Names
from write_side.eventstore import Capability, EventFilter, EventStore
from write_side.groups import GroupInfo, GroupSettings, SubscriptionGroups


@dataclass(frozen=True)
class Delivery:
    """One delivery a child reported."""

    position: int
    retry_count: int

    @classmethod
    def parse(cls, line: str) -> Delivery:
        raw = json.loads(line)
        return cls(raw["position"], raw["retry_count"])


def read_until(child: Child, found: list[Delivery], wanted: int) -> None:
    """Collect the child's delivery lines until it reported `wanted` of them."""
    deadline = time.monotonic() + WAIT_S
    while len(found) < wanted:
        found.append(Delivery.parse(child.next_line(max(0.1, deadline - time.monotonic()))))


@pytest.mark.multiprocess
def test_two_processes_share_a_group_and_every_event_is_handled(
    groups: SubscriptionGroups,
    event_store: EventStore,
    backend: Backend,
    group_name: str,
    stream: Names,
) -> None:
    """Given a round-robin group and a consumer in each of two child processes, when 300
    events are appended in batches, every event is handled, both processes handle some, and
    no event is ever with both at once (no two deliveries of one event with one retry count).
    """
    requires(event_store, Capability.MULTI_PROCESS)
    assert backend.uri is not None
    mine = stream("book")
    settings = GroupSettings(message_timeout=10.0, consumer_strategy="RoundRobin")
    groups.create_subscription_to_all(
        group_name, filter=EventFilter.stream_prefixes(mine), settings=settings
    )
    with ExitStack() as cleanup:
        children = [
            cleanup.enter_context(Child("group_consumer", backend.uri, group_name, "ack", "20"))
            for _ in range(2)
        ]
        for child in children:
            assert child.next_line(WAIT_S) == "ready"
        positions = [p for batch in range(10) for p in append(event_store, f"{mine}-{batch}", 30)]
        deadline = time.monotonic() + WAIT_S
        while not _all_read_and_none_out(groups.get_subscription_info(group_name), positions):
            assert time.monotonic() < deadline, "the children did not handle every event"
            time.sleep(0.05)
        reports = [[Delivery.parse(line) for line in child.finish(WAIT_S)] for child in children]

    handled = [d for report in reports for d in report]
    assert {d.position for d in handled} == set(positions)
    assert all(report for report in reports), "one process handled nothing"
    assert len({(d.position, d.retry_count) for d in handled}) == len(handled)
    info = groups.get_subscription_info(group_name)
    assert (info.in_flight, info.waiting, info.parked, info.consumers) == (0, 0, 0, ())
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.acked_total == len(positions)


def _all_read_and_none_out(info: GroupInfo, positions: list[int]) -> bool:
    """The group read past the last position and holds nothing in flight or waiting."""
    last_read = info.last_read_position
    return (
        last_read is not None and last_read >= positions[-1] and not info.in_flight + info.waiting
    )


@pytest.mark.multiprocess
@pytest.mark.slow
def test_a_consumer_killed_with_sigkill_loses_nothing(
    groups: SubscriptionGroups,
    event_store: EventStore,
    backend: Backend,
    group_name: str,
    stream: Names,
) -> None:
    """Given a child process holding 20 events it never acknowledges, killed with SIGKILL,
    a consumer of this process gets every event: the killed one's come back after the
    message timeout (as retries), the others as first deliveries; none is lost or parked."""
    requires(event_store, Capability.MULTI_PROCESS)
    assert backend.uri is not None
    mine = stream("book")
    settings = GroupSettings(message_timeout=0.5, max_retry_count=10)
    groups.create_subscription_to_all(
        group_name, filter=EventFilter.stream_prefixes(mine), settings=settings
    )
    with Child("group_consumer", backend.uri, group_name, "hold", "20") as doomed:
        assert doomed.next_line(WAIT_S) == "ready"
        positions = append(event_store, mine, 50)
        held: list[Delivery] = []
        read_until(doomed, held, 20)
        doomed.kill(WAIT_S)

    with groups.read_subscription_to_all(group_name, event_buffer_size=50) as survivor:
        recovered: dict[int, int] = {}
        while len(recovered) < len(positions):
            delivered = receive(survivor)
            survivor.ack(delivered)
            recovered[delivered.event.position] = delivered.retry_count

    assert [d.position for d in held] == positions[:20]
    assert set(recovered) == set(positions)
    assert all(recovered[d.position] >= 1 for d in held)
    info = groups.get_subscription_info(group_name)
    assert (info.parked, info.in_flight, info.waiting) == (0, 0, 0)
    assert info.consumers == (), "the killed consumer was dropped, the survivor left"
