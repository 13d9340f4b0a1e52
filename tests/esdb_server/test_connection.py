"""Connecting: gossip discovery, credentials, services not served, the server in a process."""

from __future__ import annotations

import pytest
from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.events import CaughtUp
from esdbclient.exceptions import GrpcError
from esdbclient.gossip import NODE_STATE_LEADER

from tests.esdb_server.fixtures import fresh_stream
from tests.esdb_server.process import EsdbServerProcess
from tests.esdb_server.server import EsdbTestServer
from write_side.eventstore import NewEvent as OurNewEvent
from write_side.eventstore import StreamState as OurStreamState
from write_side.eventstore.factory import open_event_store

DEADLINE = 10


def test_discovery_finds_this_server_as_the_only_leader(esdb_server: EsdbTestServer) -> None:
    with EventStoreDBClient(esdb_server.discover_uri) as client:
        (member,) = client.read_gossip()
        assert (member.state, member.address, member.port) == (
            NODE_STATE_LEADER,
            "127.0.0.1",
            esdb_server.port,
        )
        stream = fresh_stream()
        client.append_to_stream(
            stream, current_version=StreamState.NO_STREAM, events=NewEvent(type="A", data=b"{}")
        )
        assert len(client.get_stream(stream)) == 1


def test_credentials_are_accepted_and_ignored(esdb_server: EsdbTestServer) -> None:
    uri = f"esdb://admin:changeit@127.0.0.1:{esdb_server.port}?Tls=false"
    with EventStoreDBClient(uri) as client:
        assert client.get_commit_position() >= 0


def test_projections_are_not_served(esdb_client: EventStoreDBClient) -> None:
    with pytest.raises(GrpcError, match="UNIMPLEMENTED"):
        esdb_client.create_projection(name=f"projection-{fresh_stream()}", query="fromAll()")


def test_a_server_process_serves_what_another_process_appends(
    esdb_server_process: EsdbServerProcess,
) -> None:
    with EventStoreDBClient(esdb_server_process.uri) as client:
        subscription = client.subscribe_to_all(include_caught_up=True, timeout=DEADLINE)
        assert isinstance(next(subscription), CaughtUp)

        # This process writes to the server's SQLite file directly.
        stream = fresh_stream()
        with open_event_store(esdb_server_process.store_uri) as store:
            new = OurNewEvent(type="Direct", data=b"{}")
            position = store.append(stream, [new], expected_version=OurStreamState.NO_STREAM)

        received = next(subscription)
        assert (received.id, received.commit_position) == (new.id, position)
        subscription.stop()


def test_a_killed_server_process_restarts_with_its_events(
    esdb_server_process: EsdbServerProcess,
) -> None:
    stream = fresh_stream()
    port = esdb_server_process.port
    with EventStoreDBClient(esdb_server_process.uri) as client:
        written = client.append_to_stream(
            stream, current_version=StreamState.NO_STREAM, events=NewEvent(type="A", data=b"{}")
        )

    esdb_server_process.kill()
    esdb_server_process.start()

    assert esdb_server_process.port == port
    with EventStoreDBClient(esdb_server_process.uri) as client:
        assert [e.commit_position for e in client.get_stream(stream)] == [written]
