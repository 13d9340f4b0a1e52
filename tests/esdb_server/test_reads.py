"""Stream and `$all` reads through the real esdbclient: directions, positions, limits, filters."""

from __future__ import annotations

import uuid

import grpc  # type: ignore[import-untyped]
import pytest
from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.exceptions import NotFound
from esdbclient.protos.Grpc import shared_pb2, streams_pb2, streams_pb2_grpc

from tests.esdb_server.fixtures import fresh_stream
from tests.esdb_server.server import EsdbTestServer

Options = streams_pb2.ReadReq.Options


def appended(client: EventStoreDBClient, stream: str, *types: str) -> list[NewEvent]:
    events = [NewEvent(type=t, data=b"{}") for t in types]
    client.append_to_stream(stream, current_version=StreamState.ANY, events=events)
    return events


def test_a_stream_reads_both_ways_from_a_revision_with_a_limit(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    ids = [e.id for e in appended(esdb_client, stream, *"ABCDE")]

    def read(**options: object) -> list[uuid.UUID]:
        return [e.id for e in esdb_client.get_stream(stream, **options)]  # type: ignore[arg-type]

    assert read() == ids
    assert read(backwards=True) == ids[::-1]
    assert read(stream_position=2) == ids[2:]
    assert read(stream_position=2, backwards=True) == [ids[2], ids[1], ids[0]]
    assert read(limit=2) == ids[:2]
    assert read(backwards=True, limit=2) == [ids[4], ids[3]]
    assert read(stream_position=1, limit=2) == ids[1:3]
    assert read(stream_position=9) == []
    assert esdb_client.get_current_version(stream) == 4


def test_a_missing_stream_is_not_found(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    for options in ({}, {"backwards": True}, {"stream_position": 1}, {"limit": 10}):
        with pytest.raises(NotFound):
            esdb_client.get_stream(stream, **options)
    assert esdb_client.get_current_version(stream) is StreamState.NO_STREAM


def test_all_reads_forwards_from_a_position_and_backwards_from_before_it(
    fresh_esdb_server: EsdbTestServer,
) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        assert client.get_commit_position() == 0
        first, second = fresh_stream(), fresh_stream()
        one = client.append_to_stream(
            first, current_version=StreamState.NO_STREAM, events=[NewEvent(type="A", data=b"{}")]
        )
        appended(client, second, "B", "C")
        last = client.get_commit_position()

        def types(**options: object) -> list[str]:
            return [e.type for e in client.read_all(**options)]  # type: ignore[arg-type]

        assert types() == ["A", "B", "C"]
        assert types(commit_position=one) == ["A", "B", "C"]
        assert types(commit_position=last) == ["C"]
        assert types(backwards=True) == ["C", "B", "A"]
        assert types(commit_position=last, backwards=True) == ["B", "A"]
        assert types(commit_position=one, backwards=True) == []
        assert types(limit=2) == ["A", "B"]
        assert types(backwards=True, limit=1) == ["C"]
        positions = [p for e in client.read_all() if (p := e.commit_position) is not None]
        assert len(positions) == 3
        assert positions == sorted(set(positions))
        assert positions[-1] == last


def test_all_holds_system_events_that_the_default_filter_hides(
    fresh_esdb_server: EsdbTestServer,
) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        stream = fresh_stream()
        appended(client, stream, "A")
        before = client.get_commit_position()
        client.set_stream_metadata(stream, metadata={"$maxCount": 5})

        assert [e.type for e in client.read_all()] == ["A"]
        assert [(e.stream_name, e.type) for e in client.read_all(filter_exclude=[])] == [
            (stream, "A"),
            (f"$${stream}", "$metadata"),
        ]
        assert client.get_commit_position() == before
        assert client.get_commit_position(filter_exclude=[]) > before


def test_all_filters_by_event_type_or_stream_name(fresh_esdb_server: EsdbTestServer) -> None:
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        order, invoice = fresh_stream("order"), fresh_stream("invoice")
        appended(client, order, "OrderPlaced", "OrderShipped")
        appended(client, invoice, "InvoiceSent", "SomethingElse")

        def read(**options: object) -> list[tuple[str, str]]:
            return [(e.stream_name, e.type) for e in client.read_all(**options)]  # type: ignore[arg-type]

        assert [t for _, t in read(filter_include=["Order.*"])] == ["OrderPlaced", "OrderShipped"]
        assert [t for _, t in read(filter_include=["Order"])] == []  # esdbclient anchors
        assert [t for _, t in read(filter_exclude=[r"\$.+", ".*thing.*", "Order.*"])] == [
            "InvoiceSent"
        ]
        assert {s for s, _ in read(filter_include=["order-.*"], filter_by_stream_name=True)} == {
            order
        }
        assert {s for s, _ in read(filter_exclude=["order-.*"], filter_by_stream_name=True)} == {
            invoice,
        }
        assert read(filter_include=["Order.*"], backwards=True, limit=1) == [
            (order, "OrderShipped")
        ]


def test_all_filters_by_prefix_and_sends_structured_ids(fresh_esdb_server: EsdbTestServer) -> None:
    # esdbclient only sends regexes; prefixes and structured UUIDs go by the raw stub.
    with EventStoreDBClient(fresh_esdb_server.uri) as client:
        order, invoice = fresh_stream("order"), fresh_stream("invoice")
        wanted = appended(client, order, "OrderPlaced")
        appended(client, invoice, "InvoiceSent")
    request = streams_pb2.ReadReq(
        options=Options(
            all=Options.AllOptions(start=shared_pb2.Empty()),
            read_direction=Options.Forwards,
            count=100,
            filter=Options.FilterOptions(
                stream_identifier=Options.FilterOptions.Expression(prefix=["order-", "x-"]),
                max=32,
                checkpointIntervalMultiplier=1,
            ),
            uuid_option=Options.UUIDOption(structured=shared_pb2.Empty()),
        )
    )
    with grpc.insecure_channel(f"127.0.0.1:{fresh_esdb_server.port}") as channel:
        stub = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
        responses = list(stub.Read(request, timeout=10))

    assert [r.WhichOneof("content") for r in responses] == ["event"]
    recorded = responses[0].event.event
    structured = recorded.id.structured
    most, least = structured.most_significant_bits, structured.least_significant_bits
    assert uuid.UUID(int=((most % 2**64) << 64) | (least % 2**64)) == wanted[0].id
    assert recorded.stream_identifier.stream_name == order.encode()
