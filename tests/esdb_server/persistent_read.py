"""The persistent subscriptions' Read: one consumer of a group per call, pushed over the wire.

As on EventStoreDB, the server pushes events to the consumer as long as it holds fewer than
its `buffer_size` unacknowledged ones, each with its retry count; acks and nacks come back on
the request stream, in batches of ids. Here the consumer is one of our embedded groups'
consumers (`GroupConsumer`) per call: every event sent counts as handed out, so a call that
ends gives all of them back as retries, as EventStoreDB does for a client that disconnects.

Nack actions as EventStoreDB takes them: `Retry` and `Unknown` retry, `Park` parks, `Skip`
drops the event, and `Stop` drops it too (EventStoreDB's `StopSubscription` does nothing; the
event is just no longer outstanding).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import persistent_pb2

from tests.esdb_server import persistent_wire as pwire
from tests.esdb_server.rpc_errors import bad_request, unavailable
from tests.esdb_server.service import SharedState
from tests.esdb_server.wire import uuid_from_wire
from write_side.eventstore import EventStoreError
from write_side.groups import (
    GroupConsumer,
    GroupNotFound,
    MaximumSubscribersReached,
    NackAction,
    SubscriptionGroupError,
    SubscriptionGroups,
)
from write_side.groups.factory import open_subscription_groups

log = logging.getLogger(__name__)

#: Longest wait for an event before the call's state is looked at again.
_POLL_S = 0.5

_NACK_ACTIONS: dict[int, NackAction] = {
    persistent_pb2.ReadReq.Nack.Unknown: "retry",
    persistent_pb2.ReadReq.Nack.Park: "park",
    persistent_pb2.ReadReq.Nack.Retry: "retry",
    persistent_pb2.ReadReq.Nack.Skip: "skip",
    persistent_pb2.ReadReq.Nack.Stop: "skip",
}


@dataclass(eq=False)
class LiveCall:
    """One Read in progress: its group, its consumer and who called."""

    stream_name: str | None
    group_name: str
    consumer: GroupConsumer
    connection: pwire.Connection
    dropped: bool = field(default=False)

    def drop(self) -> None:
        """End the call with `PersistentSubscriptionDropped` (the group changed)."""
        self.dropped = True
        self.consumer.stop()


class LiveCalls:
    """The Reads in progress, found by group (for info, update and restart)."""

    def __init__(self) -> None:
        self._calls: set[LiveCall] = set()
        self._lock = threading.Lock()

    def add(self, call: LiveCall) -> None:
        """Count a call in."""
        with self._lock:
            self._calls.add(call)

    def remove(self, call: LiveCall) -> None:
        """Count a call out."""
        with self._lock:
            self._calls.discard(call)

    def of(self, stream: str | None, group_name: str | None = None) -> list[LiveCall]:
        """The calls reading a group (every group of the source when `group_name` is None)."""
        with self._lock:
            return [
                c
                for c in self._calls
                if c.stream_name == stream and group_name in (None, c.group_name)
            ]

    def every(self) -> list[LiveCall]:
        """Every call in progress."""
        with self._lock:
            return list(self._calls)

    def connections(self) -> dict[str, pwire.Connection]:
        """Who called, by the name of the call's consumer."""
        with self._lock:
            return {c.consumer.consumer_name: c.connection for c in self._calls}


def read(
    shared: SharedState,
    calls: LiveCalls,
    request_iterator: Iterator[persistent_pb2.ReadReq],
    context: grpc.ServicerContext,
) -> Iterator[persistent_pb2.ReadResp]:
    """Serve one Read: options first, then events out and (n)acks in until the call ends."""
    requests = iter(request_iterator)
    first = next(requests, None)
    if first is None:
        return
    if first.WhichOneof("content") != "options":
        bad_request(context, "a persistent subscription read starts with its options")
    options = first.options
    stream = pwire.group_stream(
        options.stream_identifier if options.WhichOneof("stream_option") != "all" else None
    )
    group_name = options.group_name
    if options.buffer_size < 1:
        bad_request(context, "the buffer size must be positive")
    structured = options.uuid_option.WhichOneof("content") == "structured"
    groups = open_subscription_groups(shared.store)
    try:
        consumer = _join(groups, context, stream, group_name, options.buffer_size)
        call = LiveCall(stream, group_name, consumer, _connection(context))
        calls.add(call)
        shared.subscription_opened()
        try:
            if not context.add_callback(consumer.stop):
                consumer.stop()
            threading.Thread(
                target=_take_acks,
                args=(requests, consumer),
                name=f"esdb-test-server-acks:{group_name}",
                daemon=True,
            ).start()
            yield pwire.confirmation(stream, group_name)
            yield from _deliveries(call, context, structured)
        finally:
            calls.remove(call)
            consumer.stop()
            shared.subscription_closed()
    finally:
        groups.close()


def _join(
    groups: SubscriptionGroups,
    context: grpc.ServicerContext,
    stream: str | None,
    group_name: str,
    buffer_size: int,
) -> GroupConsumer:
    """A new consumer holding up to `buffer_size` events; each ack is committed at once."""
    try:
        if stream is None:
            return groups.read_subscription_to_all(
                group_name, event_buffer_size=buffer_size, max_ack_batch_size=1
            )
        return groups.read_subscription_to_stream(
            group_name, stream, event_buffer_size=buffer_size, max_ack_batch_size=1
        )
    except GroupNotFound:
        pwire.does_not_exist(context, stream, group_name)
    except MaximumSubscribersReached:
        pwire.maximum_subscribers(context, stream, group_name)


def _connection(context: grpc.ServicerContext) -> pwire.Connection:
    """The caller's `connection-name` header (EventStoreDB: `<unknown>` without one) and
    address."""
    headers = dict(context.invocation_metadata())
    peer = str(context.peer())
    return pwire.Connection(
        connection_name=str(headers.get("connection-name", "<unknown>")),
        peer=peer.split(":", 1)[1] if peer.startswith(("ipv4:", "ipv6:")) else peer,
    )


def _deliveries(
    call: LiveCall, context: grpc.ServicerContext, structured: bool
) -> Iterator[persistent_pb2.ReadResp]:
    while True:
        try:
            delivered = call.consumer.receive(_POLL_S)
        except StopIteration:
            if call.dropped:
                pwire.dropped(context, call.stream_name, call.group_name)
            return
        except GroupNotFound:
            # EventStoreDB drops the readers of a deleted group with this same answer.
            pwire.does_not_exist(context, call.stream_name, call.group_name)
        except (SubscriptionGroupError, EventStoreError):
            unavailable(context, "Server Is Not Ready")
        if delivered is None:
            if not context.is_active():
                return
            continue
        yield pwire.delivery(delivered, structured_ids=structured)


def _take_acks(requests: Iterator[persistent_pb2.ReadReq], consumer: GroupConsumer) -> None:
    """Apply the (n)acks of the request stream until it ends (the client stops or goes)."""
    try:
        for request in requests:
            content = request.WhichOneof("content")
            if content == "ack":
                for wire_id in request.ack.ids:
                    consumer.ack(uuid_from_wire(wire_id))
            elif content == "nack":
                action = _NACK_ACTIONS.get(request.nack.action, "retry")
                for wire_id in request.nack.ids:
                    consumer.nack(uuid_from_wire(wire_id), action)
    except Exception as error:  # the call ended under the iterator, or a bad id: either ends it
        log.debug("persistent read: the request stream ended with %r", error)
