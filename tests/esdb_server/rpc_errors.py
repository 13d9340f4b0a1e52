"""EventStoreDB's gRPC errors: status codes, details and the trailing `exception` metadata.

Unary and server-streaming calls fail with a status and trailing metadata (EventStoreDB's
`RpcExceptions`); BatchAppend answers each batch with a `google.rpc.Status` whose details are
a packed `event_store.client` message (EventStoreDB's `Status.cs`). esdbclient 1.1.7 reads:
FAILED_PRECONDITION with "is deleted" as `StreamIsDeleted` on reads, deletes and tombstones,
"WrongExpectedVersion" + "Actual version: -1" as `NotFound` on deletes, and the packed
details on BatchAppend.
"""

from __future__ import annotations

from typing import NoReturn

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import code_pb2, shared_pb2, status_pb2
from google.protobuf import any_pb2, empty_pb2  # type: ignore[import-untyped]

from tests.esdb_server.wire import version_number
from write_side.eventstore import StreamState
from write_side.eventstore.model import ExpectedVersion


def abort(
    context: grpc.ServicerContext, code: grpc.StatusCode, details: str, **metadata: str
) -> NoReturn:
    """End the call with `code`; keyword names become trailing metadata (`_` as `-`)."""
    if metadata:
        context.set_trailing_metadata(
            tuple((key.replace("_", "-"), value) for key, value in metadata.items())
        )
    context.abort(code, details)
    raise AssertionError("unreachable: context.abort raises")


def stream_deleted(context: grpc.ServicerContext, stream: str) -> NoReturn:
    """`RpcExceptions.StreamDeleted`."""
    abort(
        context,
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Event stream '{stream}' is deleted.",
        exception="stream-deleted",
        stream_name=stream,
    )


def delete_refused(
    context: grpc.ServicerContext, stream: str, expected: ExpectedVersion, actual: int
) -> NoReturn:
    """`RpcExceptions.WrongExpectedVersion("Delete", ...)`, for deletes and tombstones."""
    number = version_number(expected)
    abort(
        context,
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Delete failed due to WrongExpectedVersion. Stream: {stream}, "
        f"Expected version: {number}, Actual version: {actual}",
        exception="wrong-expected-version",
        stream_name=stream,
        expected_version=str(number),
        actual_version=str(actual),
    )


def bad_request(context: grpc.ServicerContext, message: str) -> NoReturn:
    """A malformed request (EventStoreDB: InvalidArgument)."""
    abort(context, grpc.StatusCode.INVALID_ARGUMENT, message)


def missing_metadata(context: grpc.ServicerContext, name: str) -> NoReturn:
    """`RpcExceptions.RequiredMetadataPropertyMissing`."""
    abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        f"Required Metadata Property '{name}' is missing",
        exception="missing-required-metadata-property",
        required_metadata_properties="type,content-type",
    )


def append_too_large(context: grpc.ServicerContext, limit: int) -> NoReturn:
    """`RpcExceptions.MaxAppendSizeExceeded`."""
    abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        f"Maximum Append Size of {limit} Exceeded.",
        exception="maximum-append-size-exceeded",
        maximum_append_size=str(limit),
    )


def unavailable(context: grpc.ServicerContext, message: str) -> NoReturn:
    """The server cannot serve the call (shutting down): clients reconnect and retry."""
    abort(context, grpc.StatusCode.UNAVAILABLE, message)


# -- BatchAppend statuses (EventStoreDB's Status.cs) --------------------------------------------


def _status(code: code_pb2.Code.ValueType, message: str, details: object) -> status_pb2.Status:
    packed = any_pb2.Any()
    packed.Pack(details)
    return status_pb2.Status(code=code, message=message, details=packed)


def wrong_expected_version_status(
    expected: ExpectedVersion, current: int | None
) -> status_pb2.Status:
    """A wrong expected version: ALREADY_EXISTS with `WrongExpectedVersion` details."""
    details = shared_pb2.WrongExpectedVersion()
    if current is None:
        details.current_no_stream.CopyFrom(empty_pb2.Empty())
    else:
        details.current_stream_revision = current
    if isinstance(expected, int):
        details.expected_stream_position = expected
    elif expected is StreamState.ANY:
        details.expected_any.CopyFrom(empty_pb2.Empty())
    elif expected is StreamState.NO_STREAM:
        details.expected_no_stream.CopyFrom(empty_pb2.Empty())
    else:
        details.expected_stream_exists.CopyFrom(empty_pb2.Empty())
    return _status(code_pb2.ALREADY_EXISTS, "WrongExpectedVersion", details)


def stream_deleted_status(stream: str) -> status_pb2.Status:
    """A deleted (tombstoned) stream: NOT_FOUND with `StreamDeleted` details."""
    details = shared_pb2.StreamDeleted(
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode("utf-8"))
    )
    return _status(code_pb2.NOT_FOUND, "StreamDeleted", details)


def append_too_large_status(limit: int) -> status_pb2.Status:
    """An append over the maximum size: INVALID_ARGUMENT with the limit."""
    details = shared_pb2.MaximumAppendSizeExceeded(maxAppendSize=limit)
    return _status(code_pb2.INVALID_ARGUMENT, "MaximumAppendSizeExceeded", details)


def bad_request_status(message: str) -> status_pb2.Status:
    """A malformed batch: INVALID_ARGUMENT with `BadRequest` details."""
    return _status(code_pb2.INVALID_ARGUMENT, "BadRequest", shared_pb2.BadRequest(message=message))
