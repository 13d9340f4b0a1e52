"""Catch-up subscriptions through the real esdbclient: history, caught-up, live, checkpoints."""

from __future__ import annotations

import time
from collections.abc import Iterable

import pytest
from esdbclient import EventStoreDBClient, NewEvent, RecordedEvent, StreamState
from esdbclient.events import CaughtUp, Checkpoint
from esdbclient.exceptions import StreamIsDeleted

from tests.esdb_server.fixtures import fresh_stream
from tests.esdb_server.server import EsdbTestServer

#: A deadline on every subscription, so a missing message fails the test instead of hanging it.
DEADLINE = 10


def appended(client: EventStoreDBClient, stream: str, *types: str) -> list[NewEvent]:
    events = [NewEvent(type=t, data=b"{}") for t in types]
    client.append_to_stream(stream, current_version=StreamState.ANY, events=events)
    return events


def take(items: Iterable[RecordedEvent], count: int) -> list[RecordedEvent]:
    taken: list[RecordedEvent] = []
    for item in items:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


def until_caught_up(items: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    taken: list[RecordedEvent] = []
    for item in items:
        if isinstance(item, CaughtUp):
            return taken
        taken.append(item)
    raise AssertionError("the subscription ended before it caught up")


def shape(items: list[RecordedEvent]) -> list[tuple[str, int | None]]:
    """("checkpoint" | event type, commit position) of each item."""
    return [
        ("checkpoint" if isinstance(i, Checkpoint) else i.type, i.commit_position) for i in items
    ]


def test_all_catches_up_then_follows_the_live_tail(fresh_esdb_server: EsdbTestServer) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        history = appended(client, fresh_stream(), "A", "B", "C")
        subscription = client.subscribe_to_all(include_caught_up=True, timeout=DEADLINE)

        assert [e.id for e in until_caught_up(subscription)] == [e.id for e in history]
        live = appended(client, fresh_stream(), "D", "E")
        assert [e.id for e in take(subscription, 2)] == [e.id for e in live]
        subscription.stop()


def test_all_starts_after_the_given_position_or_at_the_end(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    first = esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=NewEvent(type="A", data=b"{}")
    )
    later = appended(esdb_client, stream, "B", "C")

    after = esdb_client.subscribe_to_all(commit_position=first, timeout=DEADLINE)
    assert [e.id for e in take(after, 2)] == [e.id for e in later]
    after.stop()

    from_end = esdb_client.subscribe_to_all(from_end=True, timeout=DEADLINE)
    new = appended(esdb_client, stream, "D")
    assert [e.id for e in take(from_end, 1)] == [new[0].id]
    from_end.stop()


def test_a_filtered_subscription_reports_checkpoints_at_the_interval(
    fresh_esdb_server: EsdbTestServer,
) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        stream = fresh_stream()
        appended(client, stream, "Noise", "Noise", "Noise", "Noise", "Wanted", "Noise")
        positions = [e.commit_position for e in client.read_all(filter_exclude=[])]
        subscription = client.subscribe_to_all(
            filter_include=["Wanted"],
            include_checkpoints=True,
            include_caught_up=True,
            window_size=2,
            checkpoint_interval_multiplier=1,
            timeout=DEADLINE,
        )

        # Every 2nd event considered, then (already there) the last one before caught-up.
        history = until_caught_up(subscription)
        assert shape(history) == [
            ("checkpoint", positions[1]),
            ("checkpoint", positions[3]),
            ("Wanted", positions[4]),
            ("checkpoint", positions[5]),
        ]

        # Live, the count starts again: a checkpoint at every 2nd new event.
        appended(client, stream, "Noise", "Noise", "Noise")
        appended(client, stream, "Wanted")
        live_positions = [e.commit_position for e in client.read_all(filter_exclude=[])][6:]
        assert shape(take(subscription, 3)) == [
            ("checkpoint", live_positions[1]),
            ("Wanted", live_positions[3]),
            ("checkpoint", live_positions[3]),
        ]
        subscription.stop()


def test_history_ends_with_a_checkpoint_to_resume_from(fresh_esdb_server: EsdbTestServer) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        stream = fresh_stream()
        appended(client, stream, "Noise", "Noise", "Noise")
        client.set_stream_metadata(stream, metadata={"owner": "x"})  # a system event, considered
        last = client.get_commit_position(filter_exclude=[])
        subscription = client.subscribe_to_all(
            filter_include=["Wanted"], include_checkpoints=True, timeout=DEADLINE
        )
        (checkpoint,) = take(subscription, 1)
        subscription.stop()
        assert isinstance(checkpoint, Checkpoint)
        assert checkpoint.commit_position == checkpoint.prepare_position == last

        wanted = appended(client, stream, "Wanted")
        resumed = client.subscribe_to_all(
            commit_position=checkpoint.commit_position,
            filter_include=["Wanted"],
            timeout=DEADLINE,
        )
        assert [e.id for e in take(resumed, 1)] == [wanted[0].id]
        resumed.stop()


def test_a_stream_subscription_catches_up_then_follows_its_stream(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    history = appended(esdb_client, stream, "A", "B", "C")
    subscription = esdb_client.subscribe_to_stream(stream, include_caught_up=True, timeout=DEADLINE)
    assert [e.id for e in until_caught_up(subscription)] == [e.id for e in history]

    appended(esdb_client, fresh_stream(), "Elsewhere")
    live = appended(esdb_client, stream, "D")
    (received,) = take(subscription, 1)
    assert (received.id, received.stream_position) == (live[0].id, 3)
    subscription.stop()

    after_one = esdb_client.subscribe_to_stream(stream, stream_position=1, timeout=DEADLINE)
    assert [e.stream_position for e in take(after_one, 2)] == [2, 3]
    after_one.stop()

    from_end = esdb_client.subscribe_to_stream(stream, from_end=True, timeout=DEADLINE)
    newest = appended(esdb_client, stream, "E")
    assert [e.id for e in take(from_end, 1)] == [newest[0].id]
    from_end.stop()


def test_a_stream_subscription_waits_for_a_stream_not_yet_written(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    subscription = esdb_client.subscribe_to_stream(stream, include_caught_up=True, timeout=DEADLINE)
    assert until_caught_up(subscription) == []
    first = appended(esdb_client, stream, "A")
    assert [e.id for e in take(subscription, 1)] == [first[0].id]
    subscription.stop()


def test_a_stream_subscription_fails_when_its_stream_is_tombstoned(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    appended(esdb_client, stream, "A")
    live = esdb_client.subscribe_to_stream(stream, include_caught_up=True, timeout=DEADLINE)
    assert len(until_caught_up(live)) == 1

    esdb_client.tombstone_stream(stream, current_version=StreamState.ANY)

    with pytest.raises(StreamIsDeleted):
        next(live)
    later = esdb_client.subscribe_to_stream(stream, timeout=DEADLINE)
    with pytest.raises(StreamIsDeleted):
        next(later)


def test_stopping_a_subscription_frees_it_on_the_server(fresh_esdb_server: EsdbTestServer) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        subscription = client.subscribe_to_all(include_caught_up=True, timeout=DEADLINE)
        assert until_caught_up(subscription) == []
        assert fresh_esdb_server.active_subscriptions == 1

        subscription.stop()

        deadline = time.monotonic() + 5
        while fresh_esdb_server.active_subscriptions and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fresh_esdb_server.active_subscriptions == 0
