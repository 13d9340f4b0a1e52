"""Contract: ack, nack (retry, park, skip, stop), timeouts, parking, replay, restarts."""

from __future__ import annotations

import pytest

from tests.contracts.concurrency import strictly_increasing
from tests.contracts.conftest import Backend
from tests.contracts.groups import (
    QUICK,
    append,
    nothing_more,
    receive,
    receive_all,
    requires_groups,
)
from tests.contracts.helpers import Names
from write_side.eventstore import Capability, EventFilter, EventStore, RecordedEvent
from write_side.groups import GroupSettings, SubscriptionGroups, parked_stream_name
from write_side.groups.factory import open_subscription_groups


def _group_on(groups: SubscriptionGroups, name: str, stream: str, settings: GroupSettings) -> None:
    groups.create_subscription_to_all(
        name, filter=EventFilter.stream_prefixes(stream), settings=settings
    )


def test_each_event_once_with_retry_count_zero_then_acked(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Given 250 events (more than one buffer), a consumer gets each once, in order, with
    retry count 0; once it acknowledged them all the group holds nothing in flight."""
    mine = stream("book")
    positions = append(event_store, mine, 250)
    _group_on(groups, group_name, mine, QUICK)

    with groups.read_subscription_to_all(group_name, event_buffer_size=100) as consumer:
        delivered = receive_all(consumer, 250)
        nothing_more(consumer, 0.6)

    assert [d.event.position for d in delivered] == positions
    assert {d.retry_count for d in delivered} == {0}
    info = groups.get_subscription_info(group_name)
    assert (info.in_flight, info.waiting, info.parked) == (0, 0, 0)
    assert info.last_read_position == positions[-1]
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.acked_total == 250


def test_a_nack_with_retry_comes_back_with_a_higher_retry_count(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Nacked with `retry` twice, an event comes back with retry counts 1, then 2."""
    mine = stream("book")
    (position,) = append(event_store, mine, 1)
    _group_on(groups, group_name, mine, GroupSettings(max_retry_count=5))

    with groups.read_subscription_to_all(group_name) as consumer:
        seen = []
        for _ in range(3):
            delivered = receive(consumer)
            seen.append((delivered.event.position, delivered.retry_count))
            if len(seen) < 3:
                consumer.nack(delivered, "retry")
        consumer.ack(delivered)
        nothing_more(consumer, 0.2)

    assert seen == [(position, 0), (position, 1), (position, 2)]
    info = groups.get_subscription_info(group_name)
    assert info.parked == 0
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert (info.retried_total, info.acked_total) == (2, 1)


def test_a_never_acked_event_is_parked_after_the_last_retry_and_replayed(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Given max retry count 2 and an event its consumer never acknowledges, the event comes
    back after each message timeout with a higher retry count, then lands in the parked
    stream as a link; after a newer event, a replay delivers the parked one first, with
    retry count 0, and the parked stream no longer shows it."""
    mine = stream("book")
    (poison,) = append(event_store, mine, 1)
    _group_on(groups, group_name, mine, GroupSettings(message_timeout=0.3, max_retry_count=2))

    with groups.read_subscription_to_all(group_name) as consumer:
        counts: list[int] = []
        while len(counts) < 3:
            delivered = receive(consumer)
            assert delivered.event.position == poison
            counts.append(delivered.retry_count)  # never acknowledged
        nothing_more(consumer, 1.0)
        info = groups.get_subscription_info(group_name)
        (link,) = event_store.read_stream(parked_stream_name(group_name))

        newer = append(event_store, f"{mine}-later", 1)
        groups.replay_parked_events(group_name)
        replayed, after = receive(consumer), receive(consumer)
        consumer.ack(replayed)
        consumer.ack(after)

    assert counts[0] == 0
    assert counts[-1] == 2
    assert strictly_increasing(counts), counts
    assert (info.parked, info.in_flight) == (1, 0)
    assert (link.type, link.data) == ("$>", f"0@{mine}".encode())
    by_position = {d.event.position: d.retry_count for d in (replayed, after)}
    assert by_position == {poison: 0, newer[0]: 0}
    assert groups.get_subscription_info(group_name).parked == 0
    assert event_store.read_stream(parked_stream_name(group_name)) == []
    # EventStoreDB pushes the newer event to the idle consumer before the replay is asked for.
    requires_groups(groups, Capability.DISPATCH_ON_RECEIVE)
    assert [replayed.event.position, after.event.position] == [poison, newer[0]]
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.parked_total == 1


def test_park_at_once_and_replay_up_to_n(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Three events nacked with `park` are parked at once, in order; replaying 2 of them
    gives back the two oldest, the third stays parked."""
    mine = stream("book")
    positions = append(event_store, mine, 3)
    _group_on(groups, group_name, mine, QUICK)

    with groups.read_subscription_to_all(group_name) as consumer:
        for delivered in receive_all(consumer, 3, ack=False):
            consumer.nack(delivered, "park")
        nothing_more(consumer, 0.2)
        assert groups.get_subscription_info(group_name).parked == 3

        groups.replay_parked_events(group_name, stop_at=2)
        replayed = receive_all(consumer, 2)
        nothing_more(consumer, 0.2)

    assert [d.event.position for d in replayed] == positions[:2]
    assert [e.data for e in event_store.read_stream(parked_stream_name(group_name))] == [
        f"2@{mine}".encode()
    ]
    assert groups.get_subscription_info(group_name).parked == 1


def test_skip_drops_an_event_without_parking_it(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """A skipped event never comes back and is not parked; the rest goes on."""
    mine = stream("book")
    positions = append(event_store, mine, 3)
    _group_on(groups, group_name, mine, QUICK)

    with groups.read_subscription_to_all(group_name) as consumer:
        first, second, third = receive_all(consumer, 3, ack=False)
        consumer.nack(second, "skip")
        consumer.ack(first)
        consumer.ack(third)
        nothing_more(consumer, 1.0)

    info = groups.get_subscription_info(group_name)
    assert second.event.position == positions[1]
    assert (info.parked, info.in_flight) == (0, 0)
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert (info.skipped_total, info.acked_total) == (1, 2)


def test_stop_ends_the_consumer_and_gives_its_events_back(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Nack with `stop` ends that consumer's iteration; the event it stopped on comes back to
    the next consumer as a retry, and what it never handed out comes back untouched."""
    mine = stream("book")
    positions = append(event_store, mine, 3)
    _group_on(groups, group_name, mine, GroupSettings(message_timeout=30.0))

    first = groups.read_subscription_to_all(group_name)
    stopped_on = receive(first)
    first.nack(stopped_on, "stop")
    with pytest.raises(StopIteration):
        next(first)

    with groups.read_subscription_to_all(group_name) as second:
        again = receive_all(second, 3)

    assert [d.event.position for d in again] == positions
    assert again[0].retry_count == 1
    assert len(groups.get_subscription_info(group_name).consumers) == 0
    # EventStoreDB had pushed the other two to the stopped consumer: they come back as retries.
    requires_groups(groups, Capability.DISPATCH_ON_RECEIVE)
    assert [d.retry_count for d in again[1:]] == [0, 0]


def test_a_restarted_group_resumes_where_it_was(
    backend: Backend, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """Given a consumer that acknowledged 40 of 100 events and stopped, and the groups (and,
    on a file, the store) closed, a consumer after the restart gets exactly the other 60."""
    mine = stream("book")
    positions = append(event_store, mine, 100)
    groups = open_subscription_groups(event_store)
    _group_on(groups, group_name, mine, QUICK)
    with groups.read_subscription_to_all(group_name, event_buffer_size=25) as consumer:
        handled = receive_all(consumer, 40)
    groups.close()

    store = backend.open() if backend.uri is not None else event_store
    try:
        with open_subscription_groups(store) as reopened:
            info = reopened.get_subscription_info(group_name)
            with reopened.read_subscription_to_all(group_name) as consumer:
                resumed = receive_all(consumer, 60)
                nothing_more(consumer, 0.6)
    finally:
        if store is not event_store:
            store.close()

    assert [d.event.position for d in handled] == positions[:40]
    assert [d.event.position for d in resumed] == positions[40:]
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.acked_total == 40


def test_the_checkpoint_follows_the_acknowledgements(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """With a checkpoint after every acknowledgement, it stops before the oldest event still
    in flight, then reaches the last event once all are acknowledged."""
    # EventStoreDB writes the checkpoint on a one-second timer, not with the acknowledgement.
    requires_groups(groups, Capability.DISPATCH_ON_RECEIVE)
    mine = stream("book")
    positions = append(event_store, mine, 5)
    settings = GroupSettings(checkpoint_after=0.0, min_checkpoint_count=1)
    _group_on(groups, group_name, mine, settings)

    with groups.read_subscription_to_all(group_name, max_ack_batch_size=1) as consumer:
        delivered = receive_all(consumer, 5, ack=False)
        for d in delivered[:2] + delivered[3:]:
            consumer.ack(d)
        before_the_third = groups.get_subscription_info(group_name).last_checkpointed_position
        consumer.ack(delivered[2])
        at_the_end = groups.get_subscription_info(group_name).last_checkpointed_position

    assert before_the_third == positions[1]
    assert at_the_end == positions[-1]


def test_delivered_events_are_the_recorded_events(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """What a group delivers is exactly what a read of the stream returns."""
    mine = stream("book")
    append(event_store, mine, 3)
    _group_on(groups, group_name, mine, QUICK)

    with groups.read_subscription_to_all(group_name) as consumer:
        delivered: list[RecordedEvent] = [d.event for d in receive_all(consumer, 3)]

    assert delivered == event_store.read_stream(mine)
