"""Persistent subscription groups through the real esdbclient: create, info, list, update, delete.

What esdbclient 1.1.7 reads back is what EventStoreDB sends: settings in milliseconds, the
start as text (`C:<commit>/P:<prepare>` on `$all`, a revision on a stream, `-1` for the end),
and its exceptions for the statuses EventStoreDB answers with.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.exceptions import AlreadyExists, InternalError, NotFound
from esdbclient.protos.Grpc import shared_pb2

from tests.esdb_server.fixtures import fresh_stream


def fresh_group() -> str:
    """A group name no other test uses."""
    return fresh_stream("group")


def test_a_group_on_all_reads_back_its_settings_and_start(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    position = esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=NewEvent(type="A", data=b"{}")
    )
    from_start, from_end, from_position = fresh_group(), fresh_group(), fresh_group()

    esdb_client.create_subscription_to_all(
        from_start,
        consumer_strategy="RoundRobin",
        message_timeout=2.5,
        max_retry_count=4,
        checkpoint_after=0.5,
        min_checkpoint_count=3,
        max_checkpoint_count=30,
        max_subscriber_count=7,
        live_buffer_size=40,
        read_batch_size=10,
        history_buffer_size=50,
    )
    esdb_client.create_subscription_to_all(from_end, from_end=True)
    esdb_client.create_subscription_to_all(from_position, commit_position=position)

    info = esdb_client.get_subscription_info(from_start)
    assert (info.event_source, info.group_name, info.start_from) == ("$all", from_start, "C:0/P:0")
    assert (info.consumer_strategy, info.message_timeout, info.max_retry_count) == (
        "RoundRobin",
        2.5,
        4,
    )
    assert (info.checkpoint_after, info.min_checkpoint_count, info.max_checkpoint_count) == (
        0.5,
        3,
        30,
    )
    assert (info.max_subscriber_count, info.live_buffer_size) == (7, 40)
    assert (info.read_batch_size, info.history_buffer_size) == (10, 50)
    assert (info.total_in_flight_messages, info.parked_message_count, info.total_items) == (0, 0, 0)
    assert esdb_client.get_subscription_info(from_end).start_from == "C:-1/P:-1"
    assert esdb_client.get_subscription_info(from_position).start_from == (
        f"C:{position}/P:{position}"
    )


def test_a_group_on_a_stream_reads_back_its_start_and_lists_with_its_stream(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    groups = {name: fresh_group() for name in ("start", "end", "revision")}

    esdb_client.create_subscription_to_stream(groups["start"], stream)
    esdb_client.create_subscription_to_stream(groups["end"], stream, from_end=True)
    esdb_client.create_subscription_to_stream(groups["revision"], stream, stream_position=2)
    esdb_client.create_subscription_to_all(groups["start"])

    starts = {
        name: esdb_client.get_subscription_info(group, stream).start_from
        for name, group in groups.items()
    }
    assert starts == {"start": "0", "end": "-1", "revision": "2"}
    on_stream = esdb_client.list_subscriptions_to_stream(stream)
    assert {(i.event_source, i.group_name) for i in on_stream} == {
        (stream, group) for group in groups.values()
    }
    everywhere = {(i.event_source, i.group_name) for i in esdb_client.list_subscriptions()}
    assert ("$all", groups["start"]) in everywhere
    assert (stream, groups["revision"]) in everywhere
    assert esdb_client.list_subscriptions_to_stream(fresh_stream()) == []


def test_a_name_is_taken_once_per_source(esdb_client: EventStoreDBClient) -> None:
    group, stream = fresh_group(), fresh_stream()
    esdb_client.create_subscription_to_all(group)
    esdb_client.create_subscription_to_stream(group, stream)

    with pytest.raises(AlreadyExists):
        esdb_client.create_subscription_to_all(group)
    with pytest.raises(AlreadyExists):
        esdb_client.create_subscription_to_stream(group, stream)


def test_a_missing_group_is_not_found_by_every_call(esdb_client: EventStoreDBClient) -> None:
    group, stream = fresh_group(), fresh_stream()
    calls: list[Callable[[], object]] = [
        lambda: esdb_client.get_subscription_info(group),
        lambda: esdb_client.get_subscription_info(group, stream),
        lambda: esdb_client.update_subscription_to_all(group, max_retry_count=1),
        lambda: esdb_client.update_subscription_to_stream(group, stream, max_retry_count=1),
        lambda: esdb_client.delete_subscription(group),
        lambda: esdb_client.replay_parked_events(group, stream),
        lambda: esdb_client.read_subscription_to_all(group, timeout=10),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()


def test_update_replaces_the_settings_and_keeps_the_start(esdb_client: EventStoreDBClient) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group, from_end=True, message_timeout=5.0)

    esdb_client.update_subscription_to_all(group, message_timeout=1.5, max_retry_count=2)

    info = esdb_client.get_subscription_info(group)
    assert (info.message_timeout, info.max_retry_count, info.start_from) == (1.5, 2, "C:-1/P:-1")


def test_a_deleted_group_is_gone_and_its_name_free(esdb_client: EventStoreDBClient) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group)

    esdb_client.delete_subscription(group)

    with pytest.raises(NotFound):
        esdb_client.get_subscription_info(group)
    esdb_client.create_subscription_to_all(group, max_retry_count=3)
    assert esdb_client.get_subscription_info(group).max_retry_count == 3


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"consumer_strategy": "Pinned"}, "Consumer strategy Pinned does not exist."),
        ({"read_batch_size": 50, "history_buffer_size": 50}, "ReadBatchSize may not be greater"),
        ({"commit_position": 10**12}, "commit position must be less than or equal"),
    ],
)
def test_a_group_the_server_cannot_run_fails_with_the_reason(
    esdb_client: EventStoreDBClient, settings: dict[str, object], reason: str
) -> None:
    group = fresh_group()
    with pytest.raises(InternalError) as failure:
        esdb_client.create_subscription_to_all(group, **settings)  # type: ignore[call-overload]
    assert f"Subscription group {group} on stream $all failed: '" in str(failure.value)
    assert reason in str(failure.value)
    with pytest.raises(NotFound):
        esdb_client.get_subscription_info(group)


def test_a_restart_of_the_subsystem_keeps_the_groups(esdb_client: EventStoreDBClient) -> None:
    group = fresh_group()
    esdb_client.create_subscription_to_all(group)

    # esdbclient 1.1.7 has no call for RestartSubsystem; its stub does.
    answer = esdb_client.persistent_subscriptions._stub.RestartSubsystem(shared_pb2.Empty())

    assert isinstance(answer, shared_pb2.Empty)
    assert esdb_client.get_subscription_info(group).group_name == group
