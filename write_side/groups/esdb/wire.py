"""The persistent-subscription calls esdbclient 1.1.7's client methods do not cover.

- `get_subscription_info` and `list_subscriptions` drop a group's connections: GetInfo and
  List are called here and the `SubscriptionInfo` messages returned as they are.
- `replay_parked_events` has no `stop_at`: ReplayParked is called here with it.
- `read_subscription_to_*` name every consumer of a client alike (the client's
  `connection-name`) and send acknowledgements only when a batch is full or `max_ack_delay`
  has passed: Read is called here with a name per consumer and a request stream that can
  also be flushed (`AckRequests.flush`), which a consumer does when it runs out of events.

They use esdbclient's own stub and streamer registry (`PersistentSubscriptionsService._stub`
and `._grpc_streamers`, private in 1.1.7, which the project pins), its message builders and
its error mapping (`handle_rpc_error`), and the client's credentials, deadline and reconnection.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Literal, TypeVar

import esdbclient
import esdbclient.exceptions as esdb_errors
import grpc  # type: ignore[import-untyped]
from esdbclient.common import handle_rpc_error
from esdbclient.persistent import PersistentSubscription, SubscriptionReadReqs
from esdbclient.protos.Grpc import persistent_pb2, shared_pb2

T = TypeVar("T")

#: esdbclient's names of the nack actions.
WireAction = Literal["ack", "unknown", "park", "retry", "skip", "stop"]

#: How long a stopping consumer leaves the server to take its last acknowledgements before the
#: call is cancelled (esdbclient's `stopping_grace`).
STOPPING_GRACE_S = 0.2


class AckRequests(SubscriptionReadReqs):
    """The request stream of one Read: its options, then batches of (n)acks of one action.

    A batch goes when `max_ack_batch_size` are pending, `max_ack_delay` after the oldest,
    on `flush()`, or on `stop()`, after which the stream ends (esdbclient's rules, plus flush).
    """

    def __init__(
        self,
        group_name: str,
        stream_name: str | None,
        *,
        buffer_size: int,
        max_ack_batch_size: int,
        max_ack_delay: float,
    ) -> None:
        super().__init__(
            group_name=group_name,
            stream_name=stream_name,
            event_buffer_size=buffer_size,
            max_ack_batch_size=max_ack_batch_size,
            max_ack_delay=max_ack_delay,
            stopping_grace=STOPPING_GRACE_S,
        )
        self._changed = threading.Condition()
        self._pending: deque[tuple[uuid.UUID, WireAction]] = deque()
        self._oldest_at: float | None = None
        self._flushing = False
        self._stopping = False

    def __next__(self) -> persistent_pb2.ReadReq:
        if not self._has_requested_options:
            self._has_requested_options = True
            return self._construct_initial_read_req()
        with self._changed:
            while True:
                if self._pending and self._due():
                    return self._next_batch()
                if self._stopping:
                    break
                self._changed.wait(self._wait_s())
        time.sleep(self._stopping_grace)  # the server takes the last batch before the cancel
        self._is_stopped.set()
        raise StopIteration

    def _due(self) -> bool:
        return (
            self._flushing
            or self._stopping
            or len(self._pending) >= self._max_ack_batch_size
            or (self._oldest_at is not None and time.monotonic() >= self._deadline())
        )

    def _deadline(self) -> float:
        assert self._oldest_at is not None
        return self._oldest_at + self._max_ack_delay

    def _wait_s(self) -> float | None:
        if self._oldest_at is None:
            return None
        return max(0.0, self._deadline() - time.monotonic())

    def _next_batch(self) -> persistent_pb2.ReadReq:
        action = self._pending[0][1]
        ids: list[uuid.UUID] = []
        while self._pending and self._pending[0][1] == action:
            if len(ids) == self._max_ack_batch_size:
                break
            ids.append(self._pending.popleft()[0])
        if not self._pending:
            self._oldest_at = None
            self._flushing = False
        return self._construct_ack_or_nack_read_req(
            subscription_id=self.subscription_id, event_ids=ids, action=action
        )

    def ack(self, event_id: uuid.UUID) -> None:
        """Acknowledge an event (by its ack id) with the next batch."""
        self._put(event_id, "ack")

    def nack(
        self, event_id: uuid.UUID, action: Literal["unknown", "park", "retry", "skip", "stop"]
    ) -> None:
        """Nack an event (by its ack id) with the next batch."""
        self._put(event_id, action)

    def _put(self, event_id: uuid.UUID, action: WireAction) -> None:
        with self._changed:
            if self._stopping:
                return
            self._pending.append((event_id, action))
            if self._oldest_at is None:
                self._oldest_at = time.monotonic()
                self._changed.notify_all()
            elif len(self._pending) >= self._max_ack_batch_size:
                self._changed.notify_all()

    def flush(self) -> None:
        """Send what is pending now."""
        with self._changed:
            if self._pending:
                self._flushing = True
                self._changed.notify_all()

    def stop(self) -> None:
        """Send what is pending, then end the stream (waits up to 5 s for it)."""
        if self._is_stopped.is_set():
            return
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._is_stopped.wait(timeout=5)

    def abort(self) -> None:
        """End the stream without waiting (the call is over)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._is_stopped.set()


class Wire:
    """esdbclient's client, for the calls above; errors come out as esdbclient's exceptions."""

    def __init__(self, client: esdbclient.EventStoreDBClient) -> None:
        self.client = client

    def _deadline(self) -> float | None:
        deadline = self.client.connection_spec.options.DefaultDeadline
        return None if deadline is None else float(deadline)

    def _credentials(self) -> grpc.CallCredentials | None:
        spec = self.client.connection_spec
        return self.client.construct_call_credentials(spec.username, spec.password)

    def _metadata(self, connection_name: str | None = None) -> tuple[tuple[str, str], ...]:
        name = connection_name or self.client.connection_spec.options.ConnectionName
        return (("connection-name", name), ("requires-leader", "true"))

    def calling(self, call: Callable[[], T]) -> T:
        """Run a call, once more after a reconnection when the node is not the leader or the
        channel dropped (what esdbclient's own methods do)."""
        for attempt in (1, 2):
            try:
                try:
                    return call()
                except grpc.RpcError as error:
                    raise handle_rpc_error(error) from None
            except esdb_errors.NodeIsNotLeader as error:
                if attempt == 2:
                    raise
                self.client.reconnect(error.leader_grpc_target)
            except esdb_errors.ServiceUnavailable:
                if attempt == 2:
                    raise
                self.client.reconnect()
            time.sleep(0.1)
        raise AssertionError("unreachable")

    def get_info(self, group_name: str, stream_name: str | None) -> persistent_pb2.SubscriptionInfo:
        """A group's `SubscriptionInfo`, connections included."""
        options = persistent_pb2.GetInfoReq.Options(group_name=group_name)
        if stream_name is None:
            options.all.CopyFrom(shared_pb2.Empty())
        else:
            options.stream_identifier.stream_name = stream_name.encode("utf-8")
        request = persistent_pb2.GetInfoReq(options=options)

        def call() -> persistent_pb2.SubscriptionInfo:
            response = self.client.persistent_subscriptions._stub.GetInfo(
                request,
                timeout=self._deadline(),
                metadata=self._metadata(),
                credentials=self._credentials(),
            )
            info: persistent_pb2.SubscriptionInfo = response.subscription_info
            return info

        return self.calling(call)

    def list_all(self) -> list[persistent_pb2.SubscriptionInfo]:
        """Every group's `SubscriptionInfo`."""
        request = persistent_pb2.ListReq(
            options=persistent_pb2.ListReq.Options(list_all_subscriptions=shared_pb2.Empty())
        )

        def call() -> list[persistent_pb2.SubscriptionInfo]:
            response = self.client.persistent_subscriptions._stub.List(
                request,
                timeout=self._deadline(),
                metadata=self._metadata(),
                credentials=self._credentials(),
            )
            return list(response.subscriptions)

        return self.calling(call)

    def replay_parked(self, group_name: str, stream_name: str | None, stop_at: int | None) -> None:
        """Replay the parked events before event number `stop_at` (all when None)."""
        options = persistent_pb2.ReplayParkedReq.Options(group_name=group_name)
        if stream_name is None:
            options.all.CopyFrom(shared_pb2.Empty())
        else:
            options.stream_identifier.stream_name = stream_name.encode("utf-8")
        if stop_at is None:
            options.no_limit.CopyFrom(shared_pb2.Empty())
        else:
            options.stop_at = stop_at
        request = persistent_pb2.ReplayParkedReq(options=options)
        self.calling(
            lambda: self.client.persistent_subscriptions._stub.ReplayParked(
                request,
                timeout=self._deadline(),
                metadata=self._metadata(),
                credentials=self._credentials(),
            )
        )

    def read(
        self,
        group_name: str,
        stream_name: str | None,
        *,
        connection_name: str,
        buffer_size: int,
        max_ack_batch_size: int,
        max_ack_delay: float,
    ) -> tuple[PersistentSubscription, AckRequests]:
        """Join a group as the consumer `connection_name`; returns once the server confirmed."""

        def call() -> tuple[PersistentSubscription, AckRequests]:
            service = self.client.persistent_subscriptions
            requests = AckRequests(
                group_name,
                stream_name,
                buffer_size=buffer_size,
                max_ack_batch_size=max_ack_batch_size,
                max_ack_delay=max_ack_delay,
            )
            responses = service._stub.Read(
                requests,
                timeout=None,
                metadata=self._metadata(connection_name),
                credentials=self._credentials(),
            )
            subscription = PersistentSubscription(
                read_reqs=requests,
                read_resps=responses,
                expected_group_name=group_name,
                stream_name=stream_name,
                grpc_streamers=service._grpc_streamers,
            )
            return subscription, requests

        return self.calling(call)
