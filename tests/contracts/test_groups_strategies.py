"""Contract: round robin spreads events over consumers; dispatch-to-single fills one first."""

from __future__ import annotations

import itertools

from tests.contracts.groups import Collector, append, wait_until_handled
from tests.contracts.helpers import Names
from write_side.eventstore import EventFilter, EventStore
from write_side.groups import ConsumerStrategy, GroupSettings, SubscriptionGroups

#: Long enough that no event times out while the test looks at who got it.
STEADY = GroupSettings(message_timeout=10.0)


def _create(groups: SubscriptionGroups, name: str, stream: str, strategy: ConsumerStrategy) -> None:
    settings = GroupSettings(message_timeout=STEADY.message_timeout, consumer_strategy=strategy)
    groups.create_subscription_to_all(
        name, filter=EventFilter.stream_prefixes(stream), settings=settings
    )


def test_round_robin_spreads_events_over_the_consumers(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Given two connected consumers with room for ten events each, ten events appended at
    once go five to each, alternately; the next ten go on alternating."""
    mine = stream("book")
    _create(groups, group_name, mine, "RoundRobin")
    consumers = [groups.read_subscription_to_all(group_name, event_buffer_size=10) for _ in "ab"]
    collectors = [Collector(c) for c in consumers]
    try:
        positions = append(event_store, mine, 10)
        wait_until_handled(collectors, set(positions))
        more = append(event_store, f"{mine}-2", 10)
        wait_until_handled(collectors, set(more))
    finally:
        received = [c.stop() for c in collectors]
        for consumer in consumers:
            consumer.stop()

    first, second = ({d.event.position for d in r} for r in received)
    assert first | second == set(positions) | set(more)
    assert len(first) == len(second) == 10
    taker = {p: 0 if p in first else 1 for p in positions}
    assert all(taker[a] != taker[b] for a, b in itertools.pairwise(positions))


def test_dispatch_to_single_keeps_to_one_consumer_while_it_keeps_up(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Given two consumers with room for ten each, the first to join gets every event while it
    acknowledges them; once it holds ten unacknowledged ones, the rest go to the second."""
    mine = stream("book")
    _create(groups, group_name, mine, "DispatchToSingle")
    first = groups.read_subscription_to_all(group_name, event_buffer_size=10)
    second = groups.read_subscription_to_all(group_name, event_buffer_size=10)
    keeping_up, idle = Collector(first), Collector(second)
    try:
        early = append(event_store, mine, 6)
        wait_until_handled([keeping_up], set(early))
        later = append(event_store, f"{mine}-2", 6)
        wait_until_handled([keeping_up], set(later))
    finally:
        kept, spare = keeping_up.stop(), idle.stop()
    assert {d.event.position for d in kept} == set(early) | set(later)
    assert spare == []

    # Now the first consumer stops acknowledging: its buffer fills, and the second takes over.
    holding, taking_over = Collector(first, ack=False), Collector(second)
    try:
        burst = append(event_store, f"{mine}-3", 15)
        wait_until_handled([holding, taking_over], set(burst))
    finally:
        held, taken = holding.stop(), taking_over.stop()
        first.stop()
        second.stop()
    assert [d.event.position for d in held] == burst[:10]
    assert [d.event.position for d in taken] == burst[10:]
