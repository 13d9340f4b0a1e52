"""The Streams service: Read (reads and subscriptions), Append, BatchAppend, Delete, Tombstone.

Append answers a wrong expected version in its response (`wrong_expected_version`, with the
current and expected revisions in both the current and the 20.6.0 fields) and a deleted stream
with an error status; BatchAppend answers both in a packed `Status` per batch (correlated by
id, atomic per `is_final` batch). Deletes and tombstones fail with EventStoreDB's status and
trailing metadata. See `writes.py` for the rules, `reads.py` and `subscriptions.py` for reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import shared_pb2, streams_pb2, streams_pb2_grpc

from tests.esdb_server import reads, rpc_errors, subscriptions, wire, writes
from tests.esdb_server.service import SharedState
from write_side.eventstore import (
    EventStoreClosed,
    InvalidStreamName,
    NewEvent,
    StreamDeleted,
    StreamState,
)
from write_side.eventstore.model import ExpectedVersion

_MAX_UINT64 = 2**64 - 1


def register(server: grpc.Server, shared: SharedState) -> None:
    """Add the Streams service to `server`."""
    streams_pb2_grpc.add_StreamsServicer_to_server(StreamsServicer(shared), server)  # type: ignore[no-untyped-call]


class StreamsServicer(streams_pb2_grpc.StreamsServicer):
    """EventStoreDB's `event_store.client.streams.Streams`, on our store."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared

    # -- reads and subscriptions --------------------------------------------------------------

    def Read(  # noqa: N802
        self, request: streams_pb2.ReadReq, context: grpc.ServicerContext
    ) -> Iterator[streams_pb2.ReadResp]:
        """A read of a stream or `$all`, or a subscription to one."""
        options = request.options
        store = self._shared.store
        structured = options.uuid_option.WhichOneof("content") == "structured"
        subscribe = options.WhichOneof("count_option") == "subscription"
        with _translated(context):
            which = options.WhichOneof("stream_option")
            if which == "stream" and subscribe:
                self._shared.subscription_opened()
                try:
                    yield from subscriptions.subscribe_to_stream(
                        store, options, context, structured_ids=structured
                    )
                finally:
                    self._shared.subscription_closed()
            elif which == "all" and subscribe:
                self._shared.subscription_opened()
                try:
                    yield from subscriptions.subscribe_to_all(
                        store, options, context, structured_ids=structured
                    )
                finally:
                    self._shared.subscription_closed()
            elif which == "stream":
                yield from reads.read_stream(store, options, structured_ids=structured)
            elif which == "all":
                yield from reads.read_all(store, options, structured_ids=structured)
            else:
                raise wire.BadRequest("a read needs a stream or $all")

    # -- appends ------------------------------------------------------------------------------

    def Append(  # noqa: N802
        self, request_iterator: Iterator[streams_pb2.AppendReq], context: grpc.ServicerContext
    ) -> streams_pb2.AppendResp:
        """Options first, then the proposed messages; one atomic append."""
        with _translated(context):
            requests = iter(request_iterator)
            first = next(requests, None)
            if first is None or first.WhichOneof("content") != "options":
                raise wire.BadRequest("an append starts with its options")
            stream = wire.stream_name(first.options.stream_identifier)
            expected = wire.expected_version(first.options, "expected_stream_revision", "revision")
            events: list[NewEvent] = []
            size = 0
            for request in requests:
                if request.WhichOneof("content") != "proposed_message":
                    raise wire.BadRequest("an append sends its options once")
                events.append(wire.new_event(request.proposed_message))
                size += wire.size_on_disk(events[-1])
                if size > self._shared.max_append_size:
                    rpc_errors.append_too_large(context, self._shared.max_append_size)
            try:
                appended = writes.append(self._shared.store, stream, expected, events)
            except writes.WrongVersion as refused:
                return _append_wrong_version(expected, refused.current)
            return _append_success(appended)

    def BatchAppend(  # noqa: N802
        self,
        request_iterator: Iterator[streams_pb2.BatchAppendReq],
        context: grpc.ServicerContext,
    ) -> Iterator[streams_pb2.BatchAppendResp]:
        """Batches correlated by id; each `is_final` batch is appended atomically."""
        pending: dict[str, _Batch] = {}
        for request in request_iterator:
            key = request.correlation_id.SerializeToString().hex()
            if request.HasField("options"):
                pending[key] = _Batch(request.options)
            batch = pending.get(key)
            if batch is None:
                continue
            answer = batch.take(request.proposed_messages, self._shared.max_append_size)
            if answer is None and not request.is_final:
                continue
            del pending[key]
            if answer is None:
                answer = batch.append(self._shared)
            answer.correlation_id.CopyFrom(request.correlation_id)
            answer.stream_identifier.CopyFrom(batch.options.stream_identifier)
            yield answer

    # -- deletes ------------------------------------------------------------------------------

    def Delete(  # noqa: N802
        self, request: streams_pb2.DeleteReq, context: grpc.ServicerContext
    ) -> streams_pb2.DeleteResp:
        """Soft delete: the stream reads as not found until an append re-opens it."""
        position = self._delete(request.options, context, hard=False)
        if position is None:
            return streams_pb2.DeleteResp(no_position=shared_pb2.Empty())
        return streams_pb2.DeleteResp(
            position=streams_pb2.DeleteResp.Position(
                commit_position=position, prepare_position=position
            )
        )

    def Tombstone(  # noqa: N802
        self, request: streams_pb2.TombstoneReq, context: grpc.ServicerContext
    ) -> streams_pb2.TombstoneResp:
        """Hard delete: the stream is gone for good (our store writes no position for it)."""
        self._delete(request.options, context, hard=True)
        return streams_pb2.TombstoneResp(no_position=shared_pb2.Empty())

    def _delete(self, options: object, context: grpc.ServicerContext, *, hard: bool) -> int | None:
        with _translated(context):
            stream = wire.stream_name(options.stream_identifier)  # type: ignore[attr-defined]
            expected = wire.expected_version(options, "expected_stream_revision", "revision")
            try:
                return writes.delete(self._shared.store, stream, expected, hard=hard)
            except writes.DeleteRefused as refused:
                rpc_errors.delete_refused(context, stream, expected, refused.actual)


@dataclass
class _Batch:
    """The chunks of one BatchAppend request, gathered until its final one."""

    options: streams_pb2.BatchAppendReq.Options
    events: list[NewEvent] = field(default_factory=list)
    size: int = 0

    def take(
        self, messages: list[streams_pb2.BatchAppendReq.ProposedMessage], limit: int
    ) -> streams_pb2.BatchAppendResp | None:
        """Add a chunk's events; an error answer if the batch cannot go on."""
        try:
            for message in messages:
                self.events.append(wire.new_event(message))
                self.size += wire.size_on_disk(self.events[-1])
        except wire.BadRequest as error:
            return streams_pb2.BatchAppendResp(error=rpc_errors.bad_request_status(str(error)))
        if self.size > limit:
            return streams_pb2.BatchAppendResp(error=rpc_errors.append_too_large_status(limit))
        return None

    def append(self, shared: SharedState) -> streams_pb2.BatchAppendResp:
        """Append the whole batch; success or EventStoreDB's error status."""
        try:
            stream = wire.stream_name(self.options.stream_identifier)
            expected = wire.expected_version(
                self.options, "expected_stream_position", "stream_position"
            )
            appended = writes.append(shared.store, stream, expected, self.events)
        except writes.WrongVersion as refused:
            status = rpc_errors.wrong_expected_version_status(expected, refused.current)
            return streams_pb2.BatchAppendResp(error=status)
        except StreamDeleted:
            return streams_pb2.BatchAppendResp(error=rpc_errors.stream_deleted_status(stream))
        except (wire.BadRequest, InvalidStreamName) as error:
            return streams_pb2.BatchAppendResp(error=rpc_errors.bad_request_status(str(error)))
        success = streams_pb2.BatchAppendResp.Success()
        if appended.revision is None:
            success.no_stream.SetInParent()
        else:
            success.current_revision = appended.revision
        if appended.position is None:
            success.no_position.SetInParent()
        else:
            success.position.commit_position = appended.position
            success.position.prepare_position = appended.position
        return streams_pb2.BatchAppendResp(success=success)


def _append_success(appended: writes.Appended) -> streams_pb2.AppendResp:
    success = streams_pb2.AppendResp.Success()
    if appended.revision is None:
        success.no_stream.SetInParent()
    else:
        success.current_revision = appended.revision
    if appended.position is None:
        success.no_position.SetInParent()
    else:
        success.position.commit_position = appended.position
        success.position.prepare_position = appended.position
    return streams_pb2.AppendResp(success=success)


def _append_wrong_version(expected: ExpectedVersion, current: int | None) -> streams_pb2.AppendResp:
    """EventStoreDB's `wrong_expected_version` answer, current and 20.6.0 fields both set."""
    wrong = streams_pb2.AppendResp.WrongExpectedVersion()
    if current is None:
        wrong.current_no_stream.SetInParent()
        wrong.no_stream_20_6_0.SetInParent()
    else:
        wrong.current_revision = current
        wrong.current_revision_20_6_0 = current
    if isinstance(expected, int):
        wrong.expected_revision = expected
        wrong.expected_revision_20_6_0 = expected
    elif expected is StreamState.ANY:
        wrong.expected_any.SetInParent()
        wrong.any_20_6_0.SetInParent()
    elif expected is StreamState.STREAM_EXISTS:
        wrong.expected_stream_exists.SetInParent()
        wrong.stream_exists_20_6_0.SetInParent()
    else:
        wrong.expected_no_stream.SetInParent()
        wrong.expected_revision_20_6_0 = _MAX_UINT64
    return streams_pb2.AppendResp(wrong_expected_version=wrong)


@contextmanager
def _translated(context: grpc.ServicerContext) -> Iterator[None]:
    """Our store's errors as EventStoreDB's statuses."""
    try:
        yield
    except StreamDeleted as error:
        rpc_errors.stream_deleted(context, error.stream)
    except wire.MissingMetadata as error:
        rpc_errors.missing_metadata(context, error.name)
    except (wire.BadRequest, InvalidStreamName) as error:
        rpc_errors.bad_request(context, str(error))
    except EventStoreClosed:
        rpc_errors.unavailable(context, "Server Is Not Ready")
