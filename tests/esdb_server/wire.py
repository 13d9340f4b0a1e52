"""Between EventStoreDB's protobuf messages (as esdbclient 1.1.7 ships them) and our store's types.

Positions: our store's commit position is sent as both the commit and the prepare position.
Times: EventStoreDB sends `created` as .NET ticks (100 ns) since the Unix epoch, as a string.
Content types: EventStoreDB keeps only an "is JSON" flag, so anything but `application/json`
comes back as `application/octet-stream`.
"""

from __future__ import annotations

import time
import uuid

from esdbclient.protos.Grpc import shared_pb2, streams_pb2

from write_side.eventstore import NewEvent, RecordedEvent, StreamState
from write_side.eventstore.model import ExpectedVersion

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

#: EventStoreDB's numbers for the expected-version states, as its error messages print them.
STATE_NUMBERS = {StreamState.ANY: -2, StreamState.NO_STREAM: -1, StreamState.STREAM_EXISTS: -4}

_TICKS_PER_MICROSECOND = 10
_INT64 = 2**64


class BadRequest(ValueError):
    """A request EventStoreDB would refuse as malformed (INVALID_ARGUMENT)."""


class MissingMetadata(BadRequest):
    """A proposed message lacks one of the properties EventStoreDB requires."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Required Metadata Property '{name}' is missing")


def ticks_now() -> int:
    """Now, in .NET ticks since the Unix epoch."""
    return time.time_ns() // 100


# -- requests ---------------------------------------------------------------------------------


def stream_name(identifier: shared_pb2.StreamIdentifier) -> str:
    """The stream name of a `StreamIdentifier` (UTF-8 bytes on the wire)."""
    return bytes(identifier.stream_name).decode("utf-8")


def uuid_from_wire(message: shared_pb2.UUID) -> uuid.UUID:
    """A UUID sent as a string or as EventStoreDB's two signed 64-bit halves."""
    try:
        if message.WhichOneof("value") == "structured":
            most = message.structured.most_significant_bits % _INT64
            least = message.structured.least_significant_bits % _INT64
            return uuid.UUID(int=(most << 64) | least)
        return uuid.UUID(message.string)
    except ValueError as error:
        raise BadRequest(f"invalid event id: {error}") from None


def uuid_to_wire(value: uuid.UUID, *, structured: bool) -> shared_pb2.UUID:
    """A UUID in the form the reader asked for (esdbclient always asks for strings)."""
    if not structured:
        return shared_pb2.UUID(string=str(value))
    most, least = value.int >> 64, value.int & (_INT64 - 1)
    return shared_pb2.UUID(
        structured=shared_pb2.UUID.Structured(
            most_significant_bits=_signed(most), least_significant_bits=_signed(least)
        )
    )


def expected_version(options: object, oneof: str, exact_field: str) -> ExpectedVersion:
    """The expected version of append, batch-append, delete and tombstone options."""
    which = options.WhichOneof(oneof)  # type: ignore[attr-defined]
    if which == exact_field:
        return int(getattr(options, exact_field))
    states = {
        "no_stream": StreamState.NO_STREAM,
        "any": StreamState.ANY,
        "stream_exists": StreamState.STREAM_EXISTS,
    }
    if which not in states:
        raise BadRequest(f"no expected stream revision given ({oneof})")
    return states[which]


def version_number(expected: ExpectedVersion) -> int:
    """EventStoreDB's number for an expected version (-2 any, -1 no stream, -4 exists)."""
    return expected if isinstance(expected, int) else STATE_NUMBERS[expected]


def new_event(message: object) -> NewEvent:
    """A proposed message (of Append or BatchAppend) as our `NewEvent`.

    Like EventStoreDB, refuses a message without the `type` or `content-type` property.
    """
    metadata = message.metadata  # type: ignore[attr-defined]
    for required in ("type", "content-type"):
        if required not in metadata:
            raise MissingMetadata(required)
    return NewEvent(
        type=metadata["type"],
        data=bytes(message.data),  # type: ignore[attr-defined]
        metadata=bytes(message.custom_metadata),  # type: ignore[attr-defined]
        content_type=metadata["content-type"],
        id=uuid_from_wire(message.id),  # type: ignore[attr-defined]
    )


def size_on_disk(event: NewEvent) -> int:
    """What an event counts against the maximum append size (data, metadata and type)."""
    return len(event.data) + len(event.metadata) + len(event.type.encode("utf-8"))


# -- responses --------------------------------------------------------------------------------


def read_event(event: RecordedEvent, *, structured_ids: bool = False) -> streams_pb2.ReadResp:
    """A `ReadResp` carrying one recorded event, as EventStoreDB 23.10+ sends it."""
    recorded = streams_pb2.ReadResp.ReadEvent.RecordedEvent(
        id=uuid_to_wire(event.id, structured=structured_ids),
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=event.stream.encode("utf-8")),
        stream_revision=event.revision,
        prepare_position=event.position,
        commit_position=event.position,
        metadata={
            "type": event.type,
            "created": str(event.recorded_at_us * _TICKS_PER_MICROSECOND),
            "content-type": JSON if event.content_type == JSON else OCTET_STREAM,
        },
        custom_metadata=event.metadata,
        data=event.data,
    )
    return streams_pb2.ReadResp(
        event=streams_pb2.ReadResp.ReadEvent(event=recorded, commit_position=event.position)
    )


def stream_not_found(stream: str) -> streams_pb2.ReadResp:
    """The answer to a read of a stream that does not exist (or was soft-deleted)."""
    return streams_pb2.ReadResp(
        stream_not_found=streams_pb2.ReadResp.StreamNotFound(
            stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode("utf-8"))
        )
    )


def confirmation(subscription_id: str) -> streams_pb2.ReadResp:
    """The first message of every subscription."""
    return streams_pb2.ReadResp(
        confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(subscription_id=subscription_id)
    )


def checkpoint(position: int) -> streams_pb2.ReadResp:
    """A filtered `$all` subscription has considered everything up to `position`."""
    return streams_pb2.ReadResp(
        checkpoint=streams_pb2.ReadResp.Checkpoint(
            commit_position=position, prepare_position=position
        )
    )


def caught_up() -> streams_pb2.ReadResp:
    """A subscription has delivered its history; what follows is live."""
    return streams_pb2.ReadResp(caught_up=streams_pb2.ReadResp.CaughtUp())


def _signed(value: int) -> int:
    return value - _INT64 if value >= 2**63 else value
