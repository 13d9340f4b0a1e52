"""A consumer of a group on EventStoreDB: esdbclient's persistent subscription, read by a thread.

The server pushes up to `event_buffer_size` unacknowledged events; a reader thread takes them
off the gRPC stream into a queue, from which `receive` and `__next__` hand them out. Acks and
nacks go back in batches on the call's request stream (`AckRequests`), and whatever is pending
is sent as soon as the consumer runs out of events, so the server frees the slots of a
consumer that keeps up. `nack(..., "stop")` stops the consumer rather than sending
EventStoreDB's `Stop`, which the server takes as dropping the event.

The server drops a group's readers when the group is updated or the subsystem restarts, and a
call can fail with the connection: the reader joins the group again under the same name (the
events it held come back as retries), a few times with a growing pause, before the error
reaches the caller. A deleted group ends the consumer with `GroupNotFound`.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import esdbclient
import esdbclient.exceptions as esdb_errors
from esdbclient.persistent import PersistentSubscription

from write_side.eventstore.errors import EventStoreError, EventStoreUnavailable
from write_side.eventstore.esdb.translate import recorded_event
from write_side.eventstore.model import HIDDEN_STREAM_PREFIXES, RecordedEvent
from write_side.groups.errors import (
    GroupNotFound,
    MaximumSubscribersReached,
    SubscriptionGroupError,
)
from write_side.groups.esdb.wire import AckRequests
from write_side.groups.model import NACK_ACTIONS, DeliveredEvent, NackAction
from write_side.groups.port import GroupConsumer

log = logging.getLogger(__name__)

#: How often a dropped call is joined again before the error reaches the caller.
REJOIN_ATTEMPTS = 5
REJOIN_BACKOFF_S = 0.1

#: Joins the group: the confirmed subscription and its request stream; raises our errors.
Join = Callable[[str], tuple[PersistentSubscription, AckRequests]]

#: Finds the recorded event (with its commit position) of an event the server sent without it.
Lookup = Callable[[esdbclient.RecordedEvent], RecordedEvent | None]


@dataclass(frozen=True, slots=True)
class _Delivery:
    delivered: DeliveredEvent
    ack_id: uuid.UUID


class _End:
    """The consumer was stopped."""


_END = _End()


class EsdbGroupConsumer(GroupConsumer):
    """One consumer of a group on EventStoreDB (see the module's docstring)."""

    def __init__(
        self,
        group_name: str,
        stream_name: str | None,
        *,
        join: Join,
        lookup: Lookup,
        await_departure: Callable[[str], None],
        on_stop: Callable[[EsdbGroupConsumer], None],
    ) -> None:
        self._group_name = group_name
        self._stream_name = stream_name
        self._name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._join = join
        self._lookup = lookup
        self._await_departure = await_departure
        self._on_stop = on_stop
        self._deliveries: queue.Queue[_Delivery | _End | BaseException] = queue.Queue()
        self._handed: dict[uuid.UUID, uuid.UUID] = {}
        """Ack ids of the events handed to the caller and not yet (n)acked, by event id."""
        self._failure: BaseException | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._subscription, self._requests = join(self._name)
        self._reader = threading.Thread(
            target=self._read, name=f"esdb-group-consumer:{group_name}", daemon=True
        )
        self._reader.start()

    @property
    def consumer_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"EsdbGroupConsumer({self._group_name!r}, {self._name!r})"

    # -- receiving ----------------------------------------------------------------------------

    def _next_within(self, timeout: float | None) -> DeliveredEvent | None:
        if self._stopped.is_set():
            raise StopIteration
        if self._failure is not None:
            raise self._failure
        try:
            item = self._deliveries.get_nowait()
        except queue.Empty:
            self._requests.flush()  # nothing to do: let the server have the acknowledgements
            try:
                item = self._deliveries.get(timeout=timeout)
            except queue.Empty:
                return None
        if isinstance(item, _End):
            self._deliveries.put(item)  # for any other waiter
            raise StopIteration
        if isinstance(item, BaseException):
            self._failure = item
            raise item
        with self._lock:
            if self._stopped.is_set():
                raise StopIteration
            self._handed[item.delivered.id] = item.ack_id
        return item.delivered

    def _read(self) -> None:
        """The reader thread: any error it cannot recover from goes to the caller."""
        try:
            self._pump()
        except Exception as error:
            self._fail(error)

    def _pump(self) -> None:
        """Move events from the call to the queue; join again when the call is dropped."""
        failures = 0
        while not self._stopped.is_set():
            error: BaseException | None = None  # None: the call ended without an error
            try:
                for event in self._subscription:
                    failures = 0
                    self._arrived(event)
            except esdb_errors.NotFound:
                self._fail(GroupNotFound(self._group_name, self._stream_name))
                return
            except (esdb_errors.GrpcError, esdb_errors.DeadlineExceeded) as dropped:
                error = dropped
            except (esdb_errors.EventStoreDBClientException, EventStoreError) as broken:
                self._fail(broken if isinstance(broken, EventStoreError) else _wrapped(broken))
                return
            self._requests.abort()  # the call is over: nothing more goes out on it
            if self._stopped.is_set():
                return
            failures += 1
            if failures > REJOIN_ATTEMPTS:
                self._fail(EventStoreUnavailable(f"{self!r} dropped {failures} times: {error!r}"))
                return
            # The first time at once (an update or a restart of the subsystem), then slower.
            log.info("%r: the call ended (%r); joining the group again", self, error)
            time.sleep(REJOIN_BACKOFF_S * (2 ** (failures - 1) - 1))
            if not self._rejoin():
                return

    def _arrived(self, event: esdbclient.RecordedEvent) -> None:
        if self._stream_name is None and event.stream_name.startswith(HIDDEN_STREAM_PREFIXES):
            # EventStoreDB filters one way only (names or types): an event-type filter lets
            # system and snapshot streams through, which no group on `$all` delivers.
            self._requests.ack(event.ack_id)
            return
        if event.link is None and event.commit_position is not None:
            recorded: RecordedEvent | None = recorded_event(event)
        else:
            # A replayed parked event comes as its `$>` link's position: find the event's own.
            recorded = self._lookup(event)
        if recorded is None:
            log.warning("%r: event %s no longer exists; acknowledged", self, event.id)
            self._requests.ack(event.ack_id)
            return
        retry_count = event.retry_count or 0
        self._deliveries.put(_Delivery(DeliveredEvent(recorded, retry_count), event.ack_id))

    def _rejoin(self) -> bool:
        """Join the group again; False (the failure queued) when that is not possible."""
        for _ in range(REJOIN_ATTEMPTS):
            try:
                subscription, requests = self._join(self._name)
            except MaximumSubscribersReached:
                time.sleep(REJOIN_BACKOFF_S)  # the server has not let go of the old call yet
                continue
            except (SubscriptionGroupError, EventStoreError) as error:
                self._fail(error)
                return False
            with self._lock:
                if not self._stopped.is_set():
                    self._subscription, self._requests = subscription, requests
                    return True
            subscription.stop()
            return False
        self._fail(MaximumSubscribersReached(self._group_name, self._stream_name, 0))
        return False

    def _fail(self, error: BaseException) -> None:
        log.debug("%r: failed with %r", self, error)
        self._deliveries.put(error)

    # -- acknowledging ------------------------------------------------------------------------

    def ack(self, item: uuid.UUID | DeliveredEvent) -> None:
        with self._lock:
            ack_id = self._handed.pop(_event_id(item), None)
            requests = self._requests
        if ack_id is not None:
            requests.ack(ack_id)

    def nack(self, item: uuid.UUID | DeliveredEvent, action: NackAction) -> None:
        if action not in NACK_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(NACK_ACTIONS)}, got {action!r}")
        if action == "stop":
            # The event stays unacknowledged: leaving gives it back to the group as a retry.
            self.stop()
            return
        with self._lock:
            ack_id = self._handed.pop(_event_id(item), None)
            requests = self._requests
        if ack_id is not None:
            requests.nack(ack_id, action)

    # -- leaving ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Send pending acknowledgements, leave the group, and return once the server no
        longer lists this consumer (at most a few seconds)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            subscription = self._subscription
            self._handed.clear()
        try:
            subscription.stop()
        except esdb_errors.EventStoreDBClientException as error:  # the call is already broken
            log.debug("%r: stopping: %r", self, error)
        self._deliveries.put(_END)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)
        try:
            self._await_departure(self._name)
        except (SubscriptionGroupError, EventStoreError) as error:
            log.debug("%r: not waiting for the server to let go: %r", self, error)
        self._on_stop(self)


def _event_id(item: uuid.UUID | DeliveredEvent) -> uuid.UUID:
    return item.id if isinstance(item, DeliveredEvent) else item


def _wrapped(error: esdb_errors.EventStoreDBClientException) -> EventStoreError:
    wrapped = EventStoreError(f"EventStoreDB persistent subscription failed: {error!r}")
    wrapped.__cause__ = error
    return wrapped
