"""Our EventStoreDB groups adapter over the wire, where it does more than pass calls through:
it joins again when the server drops its readers, counts replays from the oldest parked event,
names each consumer, and keeps our settings' meaning where EventStoreDB's differs.

(What every groups adapter must do is in `tests/contracts/test_groups_*.py`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from esdbclient import EventStoreDBClient

from tests.esdb_server.fixtures import fresh_stream
from tests.esdb_server.server import EsdbTestServer
from tests.esdb_server.test_persistent_admin import fresh_group
from write_side.eventstore import EventFilter, NewEvent, StreamState
from write_side.eventstore.esdb import EsdbEventStore
from write_side.groups import DeliveredEvent, GroupConsumer, GroupSettings, SubscriptionGroupsClosed
from write_side.groups.esdb import EsdbSubscriptionGroups
from write_side.groups.esdb.info import UNKNOWN_TIME

WAIT_S = 10.0


@pytest.fixture
def store(esdb_uri: str) -> Iterator[EsdbEventStore]:
    """Our EventStoreDB adapter on the session's test server."""
    with EsdbEventStore(esdb_uri) as opened:
        yield opened


@pytest.fixture
def groups(store: EsdbEventStore) -> Iterator[EsdbSubscriptionGroups]:
    """Its subscription groups."""
    with EsdbSubscriptionGroups(store) as opened:
        yield opened


def appended(store: EsdbEventStore, stream: str, count: int) -> list[int]:
    store.append(
        stream,
        [NewEvent(type="Happened", data=b"{}") for _ in range(count)],
        expected_version=StreamState.NO_STREAM,
    )
    return [e.position for e in store.read_stream(stream)]


def receive(consumer: GroupConsumer) -> DeliveredEvent:
    delivered = consumer.receive(WAIT_S)
    if delivered is None:
        pytest.fail(f"{consumer!r} received nothing within {WAIT_S} s")
    return delivered


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_S} s")
        time.sleep(0.02)


def test_a_consumer_goes_on_after_its_group_is_updated(
    groups: EsdbSubscriptionGroups, store: EsdbEventStore
) -> None:
    stream, group = fresh_stream(), fresh_group()
    groups.create_subscription_to_all(group, filter=EventFilter.stream_prefixes(stream))
    (first,) = appended(store, stream, 1)
    with groups.read_subscription_to_all(group) as consumer:
        consumer.ack(receive(consumer))
        assert consumer.receive(0.05) is None  # idle: the ack goes out now
        eventually(lambda: groups.get_subscription_info(group).in_flight == 0, "the ack")

        groups.update_subscription_to_all(group, settings=GroupSettings(max_retry_count=2))
        (second,) = appended(store, f"{stream}-2", 1)
        after = receive(consumer)
        consumer.ack(after)

        assert (after.event.position, after.retry_count) == (second, 0)
        assert [c.name for c in groups.get_subscription_info(group).consumers] == [
            consumer.consumer_name
        ]
    assert groups.get_subscription_info(group).settings.max_retry_count == 2
    assert first < second


def test_replays_count_from_the_oldest_event_still_parked(
    groups: EsdbSubscriptionGroups, store: EsdbEventStore
) -> None:
    stream, group = fresh_stream(), fresh_group()
    positions = appended(store, stream, 4)
    groups.create_subscription_to_all(group, filter=EventFilter.stream_prefixes(stream))
    with groups.read_subscription_to_all(group, max_ack_batch_size=1) as consumer:
        for _ in positions:
            consumer.nack(receive(consumer), "park")
        eventually(lambda: groups.get_subscription_info(group).parked == 4, "four parked")

        groups.replay_parked_events(group, stop_at=1)
        first = receive(consumer)
        consumer.ack(first)
        eventually(lambda: groups.get_subscription_info(group).parked == 3, "one replayed")
        groups.replay_parked_events(group, stop_at=2)
        next_two = [receive(consumer), receive(consumer)]
        for delivered in next_two:
            consumer.ack(delivered)
        eventually(lambda: groups.get_subscription_info(group).parked == 1, "two more replayed")

    assert [d.event.position for d in [first, *next_two]] == positions[:3]
    assert {d.retry_count for d in [first, *next_two]} == {0}


def test_consumers_of_one_client_are_told_apart(groups: EsdbSubscriptionGroups) -> None:
    group = fresh_group()
    groups.create_subscription_to_all(group, from_end=True)
    with (
        groups.read_subscription_to_all(group) as first,
        groups.read_subscription_to_all(group) as second,
    ):
        consumers = groups.get_subscription_info(group).consumers

    assert {c.name for c in consumers} == {first.consumer_name, second.consumer_name}
    assert first.consumer_name != second.consumer_name
    assert all(c.connected_at > UNKNOWN_TIME for c in consumers)


def test_settings_keep_our_meaning_on_the_wire(
    groups: EsdbSubscriptionGroups, esdb_client: EventStoreDBClient
) -> None:
    group = fresh_group()
    asap = GroupSettings(checkpoint_after=0.0, min_checkpoint_count=1)

    groups.create_subscription_to_all(group, settings=asap)

    # EventStoreDB reads 0 as "never by time": the smallest positive value travels instead.
    assert esdb_client.get_subscription_info(group).checkpoint_after == 0.001
    assert groups.get_subscription_info(group).settings == asap
    with pytest.raises(ValueError, match="read_batch_size must be smaller"):
        groups.create_subscription_to_all(
            fresh_group(), settings=GroupSettings(read_batch_size=500, history_buffer_size=500)
        )


def test_closing_the_store_ends_its_consumers(esdb_server: EsdbTestServer) -> None:
    group = fresh_group()
    store = EsdbEventStore(esdb_server.uri)
    groups = EsdbSubscriptionGroups(store)
    groups.create_subscription_to_all(group, from_end=True)
    consumer = groups.read_subscription_to_all(group)

    store.close()

    with pytest.raises(SubscriptionGroupsClosed):
        consumer.receive(WAIT_S)
    with pytest.raises(SubscriptionGroupsClosed):
        groups.get_subscription_info(group)
    consumer.stop()
    groups.close()
