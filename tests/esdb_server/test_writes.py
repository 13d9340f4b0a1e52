"""Appends, deletes, tombstones and metadata through the real esdbclient, as EventStoreDB answers.

esdbclient sends one event (`append_to_stream(events=NewEvent)`) by the Append call and a list
by BatchAppend; the two report errors differently, and esdbclient 1.1.7 maps them differently.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc  # type: ignore[import-untyped]
import pytest
from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.exceptions import (
    FailedPrecondition,
    GrpcError,
    MaximumAppendSizeExceededError,
    NotFound,
    StreamIsDeleted,
    WrongCurrentVersion,
)
from esdbclient.protos.Grpc import code_pb2, shared_pb2, streams_pb2, streams_pb2_grpc
from google.protobuf import empty_pb2  # type: ignore[import-untyped]

from tests.esdb_server.fixtures import fresh_stream, sqlite_uri
from tests.esdb_server.server import EsdbTestServer

MAX_LONG = 2**63 - 1
CALLS = ["Append", "BatchAppend"]
Request = streams_pb2.BatchAppendReq


def event(type: str = "Happened", data: bytes = b'{"n": 1}') -> NewEvent:
    return NewEvent(type=type, data=data, metadata=b'{"actor": "test"}')


def append(
    client: EventStoreDBClient,
    stream: str,
    version: int | StreamState,
    events: list[NewEvent],
    call: str,
) -> int:
    """Append by the Append call (one event at a time) or by one BatchAppend."""
    if call == "BatchAppend":
        return client.append_to_stream(stream, current_version=version, events=events)
    assert len(events) == 1
    return client.append_to_stream(stream, current_version=version, events=events[0])


def test_an_event_reads_back_with_every_attribute(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream("book")
    new = NewEvent(type="BookListed", data=b'{"title": "Dune"}', metadata=b'{"actor": "ann"}')
    before = datetime.now(UTC)

    position = esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=new
    )

    (recorded,) = esdb_client.get_stream(stream)
    assert (recorded.id, recorded.type, recorded.data, recorded.metadata) == (
        new.id,
        new.type,
        new.data,
        new.metadata,
    )
    assert recorded.content_type == "application/json"
    assert (recorded.stream_name, recorded.stream_position) == (stream, 0)
    assert recorded.commit_position == recorded.prepare_position == position
    assert recorded.recorded_at is not None
    assert before - timedelta(seconds=1) <= recorded.recorded_at <= datetime.now(UTC)


@pytest.mark.parametrize("call", CALLS)
def test_each_expected_version_kind_appends(esdb_client: EventStoreDBClient, call: str) -> None:
    stream = fresh_stream()
    positions = [
        append(esdb_client, stream, StreamState.NO_STREAM, [event()], call),
        append(esdb_client, stream, 0, [event()], call),
        append(esdb_client, stream, StreamState.EXISTS, [event()], call),
        append(esdb_client, stream, StreamState.ANY, [event()], call),
    ]

    assert positions == sorted(set(positions))
    recorded = esdb_client.get_stream(stream)
    assert [e.stream_position for e in recorded] == [0, 1, 2, 3]
    assert [e.commit_position for e in recorded] == positions
    assert esdb_client.get_commit_position() == positions[-1]


@pytest.mark.parametrize("call", CALLS)
def test_a_wrong_expected_version_writes_nothing(
    esdb_client: EventStoreDBClient, call: str
) -> None:
    stream = fresh_stream()
    with pytest.raises(WrongCurrentVersion, match="does not exist"):
        append(esdb_client, stream, 1, [event()], call)
    with pytest.raises(WrongCurrentVersion, match="does not exist"):
        append(esdb_client, stream, StreamState.EXISTS, [event()], call)
    append(esdb_client, stream, StreamState.NO_STREAM, [event()], call)

    with pytest.raises(WrongCurrentVersion, match=r"last event is 0 not StreamState\.NO_STREAM"):
        append(esdb_client, stream, StreamState.NO_STREAM, [event()], call)
    with pytest.raises(WrongCurrentVersion, match="last event is 0 not 5"):
        append(esdb_client, stream, 5, [event()], call)
    assert len(esdb_client.get_stream(stream)) == 1


def test_a_retried_append_returns_the_first_position(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    first, second, third = event(), event(), event()
    batch = esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[first, second]
    )
    single = esdb_client.append_to_stream(stream, current_version=1, events=third)

    again = esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[first, second]
    )
    assert again == batch
    assert esdb_client.append_to_stream(stream, current_version=1, events=third) == single
    assert [e.id for e in esdb_client.get_stream(stream)] == [first.id, second.id, third.id]


def test_only_json_keeps_its_content_type(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    types = ["application/json", "application/octet-stream", "text/plain"]
    esdb_client.append_to_stream(
        stream,
        current_version=StreamState.NO_STREAM,
        events=[NewEvent(type="T", data=b"{}", content_type=t) for t in types],  # type: ignore[arg-type]
    )

    read = [e.content_type for e in esdb_client.get_stream(stream)]
    assert read == ["application/json", "application/octet-stream", "application/octet-stream"]


def test_an_append_over_the_maximum_size_is_refused(tmp_path: Path) -> None:
    stream = fresh_stream()
    big = event(data=b"x" * 600)
    with (
        EsdbTestServer.open(sqlite_uri(tmp_path / "events.db"), max_append_size=1000) as server,
        EventStoreDBClient(server.uri) as client,
    ):
        with pytest.raises(MaximumAppendSizeExceededError, match="1000"):
            client.append_to_stream(stream, current_version=StreamState.ANY, events=[big, big])
        with pytest.raises(GrpcError, match="Maximum Append Size of 1000 Exceeded"):
            client.append_to_stream(
                stream, current_version=StreamState.ANY, events=event(data=b"x" * 1001)
            )
        with pytest.raises(NotFound):
            client.get_stream(stream)


# -- soft delete ---------------------------------------------------------------------------------


def test_a_soft_deleted_stream_reopens_with_revisions_after_the_last(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(), event()]
    )

    esdb_client.delete_stream(stream, current_version=1)
    with pytest.raises(NotFound):
        esdb_client.get_stream(stream)
    assert esdb_client.get_current_version(stream) is StreamState.NO_STREAM
    esdb_client.delete_stream(stream, current_version=1)  # again, at the same version
    with pytest.raises(WrongCurrentVersion, match="Actual version: 1"):
        esdb_client.delete_stream(stream, current_version=0)
    metadata, _ = esdb_client.get_stream_metadata(stream)
    assert metadata["$tb"] == MAX_LONG

    third, fourth = event(), event()
    esdb_client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=[third])
    esdb_client.append_to_stream(stream, current_version=2, events=fourth)
    recorded = esdb_client.get_stream(stream)
    assert [(e.id, e.stream_position) for e in recorded] == [(third.id, 2), (fourth.id, 3)]
    assert esdb_client.get_stream_metadata(stream)[0]["$tb"] == 2


def test_a_soft_delete_of_a_stream_never_written_is_not_found(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    for version in (StreamState.ANY, StreamState.NO_STREAM, StreamState.EXISTS, 0):
        with pytest.raises(NotFound, match="Actual version: -1"):
            esdb_client.delete_stream(stream, current_version=version)


def test_stream_exists_on_a_soft_deleted_stream_is_a_deleted_stream(
    esdb_client: EventStoreDBClient,
) -> None:
    stream = fresh_stream()
    esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(), event()]
    )
    esdb_client.delete_stream(stream, current_version=StreamState.ANY)

    with pytest.raises(StreamIsDeleted):
        esdb_client.delete_stream(stream, current_version=StreamState.EXISTS)
    with pytest.raises(StreamIsDeleted):
        esdb_client.append_to_stream(stream, current_version=StreamState.EXISTS, events=[event()])
    # esdbclient 1.1.7 maps the Append call's deleted-stream status to FailedPrecondition.
    with pytest.raises(FailedPrecondition, match="is deleted"):
        esdb_client.append_to_stream(stream, current_version=StreamState.EXISTS, events=event())
    # A wrong version names the last revision, which a soft delete keeps.
    with pytest.raises(WrongCurrentVersion, match="last event is 1 not 0"):
        esdb_client.append_to_stream(stream, current_version=0, events=[event()])


# -- tombstone -----------------------------------------------------------------------------------


def test_a_tombstoned_stream_is_gone_for_good(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(), event()]
    )
    with pytest.raises(WrongCurrentVersion, match="Actual version: 1"):
        esdb_client.tombstone_stream(stream, current_version=0)

    esdb_client.tombstone_stream(stream, current_version=1)

    with pytest.raises(StreamIsDeleted):
        esdb_client.get_stream(stream)
    with pytest.raises(StreamIsDeleted):
        esdb_client.get_current_version(stream)
    with pytest.raises(StreamIsDeleted):
        esdb_client.tombstone_stream(stream, current_version=1)
    with pytest.raises(StreamIsDeleted):
        esdb_client.delete_stream(stream, current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeleted):
        esdb_client.append_to_stream(stream, current_version=StreamState.ANY, events=[event()])
    with pytest.raises(FailedPrecondition, match="is deleted"):
        esdb_client.append_to_stream(stream, current_version=StreamState.ANY, events=event())
    with pytest.raises(StreamIsDeleted):
        esdb_client.get_stream_metadata(stream)
    with pytest.raises(FailedPrecondition, match="is deleted"):
        esdb_client.set_stream_metadata(stream, metadata={"$maxCount": 1})


def test_a_stream_never_written_can_be_tombstoned_but_not_expected_to_exist(
    esdb_client: EventStoreDBClient,
) -> None:
    never, other = fresh_stream(), fresh_stream()
    with pytest.raises(NotFound, match="Actual version: -1"):
        esdb_client.tombstone_stream(never, current_version=StreamState.EXISTS)

    esdb_client.tombstone_stream(never, current_version=StreamState.ANY)
    esdb_client.tombstone_stream(other, current_version=StreamState.NO_STREAM)

    with pytest.raises(StreamIsDeleted):
        esdb_client.append_to_stream(never, current_version=StreamState.NO_STREAM, events=[event()])


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_round_trips_and_hides_events(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    events = [event() for _ in range(5)]
    esdb_client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=events)
    assert esdb_client.get_stream_metadata(stream) == ({}, StreamState.NO_STREAM)

    wanted = {"$maxCount": 3, "$maxAge": 3600, "owner": "catalog", "tags": ["a", 1]}
    esdb_client.set_stream_metadata(stream, metadata=wanted, current_version=StreamState.NO_STREAM)
    assert esdb_client.get_stream_metadata(stream) == (wanted, 0)
    assert [e.id for e in esdb_client.get_stream(stream)] == [e.id for e in events[2:]]

    esdb_client.set_stream_metadata(stream, metadata={"$tb": 4}, current_version=0)
    assert esdb_client.get_stream_metadata(stream) == ({"$tb": 4}, 1)
    assert [e.id for e in esdb_client.get_stream(stream)] == [events[4].id]
    with pytest.raises(WrongCurrentVersion, match="last event is 1 not 0"):
        esdb_client.set_stream_metadata(stream, metadata={}, current_version=0)

    # `$all` still holds the hidden events, and the `$metadata` events of `$$stream`.
    everything = list(esdb_client.read_all(filter_exclude=[]))
    assert {e.id for e in events} <= {e.id for e in everything}
    written = [e for e in everything if e.stream_name == f"$${stream}"]
    assert [(e.type, e.stream_position) for e in written] == [("$metadata", 0), ("$metadata", 1)]
    assert not any(e.stream_name == f"$${stream}" for e in esdb_client.read_all())


def test_a_metadata_write_reopens_a_soft_deleted_stream(esdb_client: EventStoreDBClient) -> None:
    stream = fresh_stream()
    esdb_client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(), event()]
    )
    esdb_client.delete_stream(stream, current_version=1)
    metadata, version = esdb_client.get_stream_metadata(stream)
    assert metadata == {"$tb": MAX_LONG}

    # Written back with the deleted marker still in it, as a read-modify-write does.
    esdb_client.set_stream_metadata(
        stream, metadata={**metadata, "owner": "x"}, current_version=version
    )

    assert esdb_client.get_stream_metadata(stream)[0] == {"$tb": 2, "owner": "x"}


def test_batch_append_gathers_chunks_and_answers_each_batch(esdb_server: EsdbTestServer) -> None:
    # esdbclient sends one final chunk per call; other clients split batches, as here.
    stream = fresh_stream()

    def message(type: str) -> Request.ProposedMessage:
        return Request.ProposedMessage(
            id=shared_pb2.UUID(string=str(uuid.uuid4())),
            metadata={"type": type, "content-type": "application/json"},
            data=b"{}",
        )

    options = Request.Options(
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode()),
        no_stream=empty_pb2.Empty(),
    )
    first, second = (shared_pb2.UUID(string=str(uuid.uuid4())) for _ in range(2))
    requests = [
        Request(correlation_id=first, options=options, proposed_messages=[message("A")]),
        Request(
            correlation_id=first, proposed_messages=[message("B"), message("C")], is_final=True
        ),
        Request(
            correlation_id=second, options=options, proposed_messages=[message("D")], is_final=True
        ),
    ]
    with grpc.insecure_channel(f"127.0.0.1:{esdb_server.port}") as channel:
        stub = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
        done, refused = stub.BatchAppend(iter(requests), timeout=10)

    assert done.correlation_id == first
    assert done.WhichOneof("result") == "success"
    assert done.success.current_revision == 2
    assert done.success.position.commit_position == done.success.position.prepare_position > 0
    assert refused.correlation_id == second
    assert refused.stream_identifier.stream_name == stream.encode()
    assert refused.error.code == code_pb2.ALREADY_EXISTS
    details = shared_pb2.WrongExpectedVersion()
    assert refused.error.details.Unpack(details)
    assert details.current_stream_revision == 2
    assert details.WhichOneof("expected_stream_position_option") == "expected_no_stream"
