"""Reading persistent subscription groups through the real esdbclient: events pushed with their
retry counts, acks and nacks, timeouts, parking and replays, readers dropped by the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pytest
from esdbclient import EventStoreDBClient, NewEvent, RecordedEvent, StreamState
from esdbclient.exceptions import GrpcError, MaximumSubscriptionsReached, NotFound
from esdbclient.protos.Grpc import persistent_pb2, shared_pb2

from tests.esdb_server.fixtures import fresh_stream
from tests.esdb_server.test_persistent_admin import fresh_group

#: A deadline on every read, so a missing event fails the test instead of hanging it.
DEADLINE = 10


def appended(client: EventStoreDBClient, stream: str, count: int) -> list[int]:
    """Append `count` events to a new stream; their commit positions."""
    client.append_to_stream(
        stream,
        current_version=StreamState.NO_STREAM,
        events=[NewEvent(type="Happened", data=b"{}") for _ in range(count)],
    )
    return [e.commit_position or 0 for e in client.get_stream(stream)]


def take(items: Iterable[RecordedEvent], count: int) -> list[RecordedEvent]:
    taken: list[RecordedEvent] = []
    for item in items:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


def eventually(check: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Wait until `check()` holds; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)


def parked(client: EventStoreDBClient, group: str) -> list[RecordedEvent]:
    """The links in a `$all` group's parked stream (none when it does not exist)."""
    try:
        return list(client.get_stream(f"$persistentsubscription-$all::{group}-parked"))
    except NotFound:
        return []


def group_on(client: EventStoreDBClient, stream: str, **settings: object) -> str:
    """A new group on `$all` that sees only `stream` and the streams named after it."""
    group = fresh_group()
    client.create_subscription_to_all(
        group,
        filter_include=[f"{stream}.*"],
        filter_by_stream_name=True,
        **settings,  # type: ignore[call-overload]
    )
    return group


def test_a_reader_gets_history_then_live_events_and_acks_them(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    history = appended(esdb_client, stream, 3)
    group = group_on(esdb_client, stream)

    reader = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    received = take(reader, 3)
    live = appended(esdb_client, f"{stream}-live", 1)
    received += take(reader, 1)
    for event in received:
        reader.ack(event)

    assert reader.subscription_id == f"$all::{group}"
    assert [e.commit_position for e in received] == history + live
    assert [e.retry_count for e in received] == [0, 0, 0, 0]
    eventually(
        lambda: esdb_client.get_subscription_info(group).total_in_flight_messages == 0,
        "the acks reaching the server",
    )
    assert esdb_client.get_subscription_info(group).last_known_event_position == (
        f"C:{live[0]}/P:{live[0]}"
    )
    reader.stop()


def test_a_group_on_a_stream_delivers_its_revisions_from_the_start_given(
    esdb_client: EventStoreDBClient,
) -> None:
    stream, group = fresh_stream(), fresh_group()
    esdb_client.create_subscription_to_stream(group, stream, stream_position=1)
    positions = appended(esdb_client, stream, 3)

    reader = esdb_client.read_subscription_to_stream(group, stream, timeout=DEADLINE)
    received = take(reader, 2)
    reader.stop()

    assert reader.subscription_id == f"{stream}::{group}"
    assert [(e.stream_position, e.commit_position) for e in received] == [
        (1, positions[1]),
        (2, positions[2]),
    ]


def test_nack_actions_retry_park_skip_and_stop(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    positions = appended(esdb_client, stream, 4)
    group = group_on(esdb_client, stream)

    reader = esdb_client.read_subscription_to_all(group, max_ack_batch_size=1, timeout=DEADLINE)
    first, second, third, fourth = take(reader, 4)
    reader.nack(first, action="retry")
    reader.nack(second, action="park")
    reader.nack(third, action="skip")
    reader.nack(fourth, action="stop")  # EventStoreDB takes the event as no longer outstanding
    (again,) = take(reader, 1)
    reader.ack(again)

    assert (again.commit_position, again.retry_count) == (positions[0], 1)
    eventually(
        lambda: esdb_client.get_subscription_info(group).parked_message_count == 1,
        "the park",
    )
    (link,) = parked(esdb_client, group)
    assert (link.type, link.data) == ("$>", f"1@{stream}".encode())
    eventually(
        lambda: esdb_client.get_subscription_info(group).total_in_flight_messages == 0,
        "nothing left in flight",
    )
    reader.stop()


def test_an_event_not_acked_in_time_comes_back_then_is_parked(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    (position,) = appended(esdb_client, stream, 1)
    group = group_on(esdb_client, stream, message_timeout=0.3, max_retry_count=2)

    reader = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    deliveries = take(reader, 3)  # never acknowledged

    assert [(e.commit_position, e.retry_count) for e in deliveries] == [
        (position, 0),
        (position, 1),
        (position, 2),
    ]
    eventually(
        lambda: esdb_client.get_subscription_info(group).parked_message_count == 1,
        "parking after the last retry",
    )
    reader.stop()


def test_replay_parked_stops_before_the_event_number_given(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    positions = appended(esdb_client, stream, 3)
    group = group_on(esdb_client, stream)
    reader = esdb_client.read_subscription_to_all(group, max_ack_batch_size=1, timeout=DEADLINE)
    for event in take(reader, 3):
        reader.nack(event, action="park")
    eventually(lambda: len(parked(esdb_client, group)) == 3, "three parked")

    replay(esdb_client, group, stop_at=2)
    replayed = take(reader, 2)
    for event in replayed:
        reader.ack(event)

    assert [(e.commit_position, e.retry_count) for e in replayed] == [
        (positions[0], 0),
        (positions[1], 0),
    ]
    remaining = parked(esdb_client, group)
    assert [(e.stream_position, e.data) for e in remaining] == [(2, f"2@{stream}".encode())]
    # The number is the parked stream's own: one more from event 2 on is everything left.
    replay(esdb_client, group, stop_at=3)
    (last,) = take(reader, 1)
    reader.ack(last)
    assert last.commit_position == positions[2]
    eventually(
        lambda: esdb_client.get_subscription_info(group).parked_message_count == 0,
        "the parked stream emptied",
    )
    reader.stop()


def replay(client: EventStoreDBClient, group: str, *, stop_at: int) -> None:
    """ReplayParked with `stop_at` (esdbclient 1.1.7 always asks for all)."""
    options = persistent_pb2.ReplayParkedReq.Options(
        group_name=group, all=shared_pb2.Empty(), stop_at=stop_at
    )
    client.persistent_subscriptions._stub.ReplayParked(
        persistent_pb2.ReplayParkedReq(options=options), timeout=DEADLINE
    )


def test_a_reader_that_leaves_gives_its_events_back_as_retries(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    positions = appended(esdb_client, stream, 2)
    group = group_on(esdb_client, stream)

    leaving = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    take(leaving, 2)
    leaving.stop()
    staying = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    again = take(staying, 2)
    staying.stop()

    assert [(e.commit_position, e.retry_count) for e in again] == [
        (positions[0], 1),
        (positions[1], 1),
    ]


def test_a_full_group_refuses_another_reader(esdb_client: EventStoreDBClient) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group, max_subscriber_count=1)
    first = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)

    with pytest.raises(MaximumSubscriptionsReached):
        esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    first.stop()


def test_info_names_the_connections_by_their_connection_name(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    appended(esdb_client, stream, 3)
    group = group_on(esdb_client, stream)
    reader = esdb_client.read_subscription_to_all(group, event_buffer_size=10, timeout=DEADLINE)
    take(reader, 3)  # held, not acknowledged

    # esdbclient's SubscriptionInfo leaves the connections out; the message has them.
    request = persistent_pb2.GetInfoReq(
        options=persistent_pb2.GetInfoReq.Options(group_name=group, all=shared_pb2.Empty())
    )
    info = esdb_client.persistent_subscriptions._stub.GetInfo(request, timeout=DEADLINE)
    (connection,) = info.subscription_info.connections
    reader.stop()

    assert connection.connection_name == esdb_client.connection_spec.options.ConnectionName
    assert (connection.in_flight_messages, connection.available_slots) == (3, 7)
    assert (connection.username, connection.total_items) == ("anonymous", 3)
    assert getattr(connection, "from").startswith("127.0.0.1:")  # `from`: a Python keyword


def test_a_deleted_group_ends_its_readers_with_not_found(esdb_client: EventStoreDBClient) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group, from_end=True)
    reader = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)

    esdb_client.delete_subscription(group)

    with pytest.raises(NotFound):
        next(reader)


@pytest.mark.parametrize("change", ["update", "restart"])
def test_an_updated_group_or_a_restart_drops_the_readers(
    esdb_client: EventStoreDBClient, change: str
) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group, from_end=True)
    reader = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)

    if change == "update":
        esdb_client.update_subscription_to_all(group, max_retry_count=3)
    else:
        esdb_client.persistent_subscriptions._stub.RestartSubsystem(shared_pb2.Empty())

    with pytest.raises(GrpcError, match=f"Subscription group {group} on stream \\$all was dropped"):
        next(reader)
    again = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    again.stop()


def test_the_checkpoint_follows_the_acks(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    positions = appended(esdb_client, stream, 3)
    group = group_on(esdb_client, stream, checkpoint_after=0.01, min_checkpoint_count=1)

    reader = esdb_client.read_subscription_to_all(group, timeout=DEADLINE)
    for event in take(reader, 3):
        reader.ack(event)

    eventually(
        lambda: (
            esdb_client.get_subscription_info(group).last_checkpointed_event_position
            == f"C:{positions[-1]}/P:{positions[-1]}"
        ),
        "the checkpoint reaching the last event",
    )
    reader.stop()
