"""`EsdbSubscriptionGroups`: the subscription-groups port on EventStoreDB's persistent
subscriptions, through the event store's esdbclient client."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import esdbclient
import esdbclient.exceptions as esdb_errors
from esdbclient.persistent import PersistentSubscription

from write_side.eventstore.errors import StreamDeleted, StreamNotFound
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.esdb.translate import filter_args, raise_translated
from write_side.eventstore.model import Capability, EventFilter, RecordedEvent
from write_side.groups.errors import (
    GroupAlreadyExists,
    GroupNotFound,
    MaximumSubscribersReached,
    SubscriptionGroupsClosed,
)
from write_side.groups.esdb.consumer import EsdbGroupConsumer
from write_side.groups.esdb.info import (
    UnsupportedGroup,
    group_info,
    group_settings,
    settings_kwargs,
)
from write_side.groups.esdb.wire import AckRequests, Wire
from write_side.groups.model import ALL_STREAMS, GroupInfo, GroupSettings, parked_stream_name
from write_side.groups.port import ConsumerBatching, GroupConsumer, SubscriptionGroups

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a stopping consumer waits for the server to stop listing it.
DEPARTURE_TIMEOUT_S = 5.0
_DEPARTURE_POLL_S = 0.02


class EsdbSubscriptionGroups(SubscriptionGroups):
    """EventStoreDB's persistent subscriptions as our groups (EventStoreDB 23.10 / 24.10).

    The group lives on the server: consumers in any process connected to it share it, and it
    survives the crash of any of them (events in flight come back as retries). What differs
    from the embedded groups, as EventStoreDB does it:

    - The server pushes events ahead, up to each consumer's buffer: a consumer that stops
      gives back what it never handed out as retries too, and a replay of parked events does
      not overtake events already pushed to a consumer.
    - The checkpoint is written on the server's one-second timer (or at once after
      `max_checkpoint_count` acknowledgements), not with each batch of acknowledgements.
    - GetInfo reports no filter and no running totals of acknowledgements, retries, skips and
      parks; those fields stay empty (see `write_side.groups.esdb.info`).
    - `read_batch_size` must be smaller than `history_buffer_size` (a `ValueError` otherwise).
    - A replay asked for while one is still running is ignored by the server.

    Our group errors stand for EventStoreDB's answers (not found, exists, full); a server out
    of reach raises the event store's `EventStoreUnavailable` (after esdbclient's one
    reconnection), and calls after the store closed raise `SubscriptionGroupsClosed`.
    """

    capabilities = frozenset(
        {Capability.PERSISTENT_GROUPS, Capability.MULTI_PROCESS, Capability.CRASH_DURABLE}
    )

    def __init__(self, store: EsdbEventStore) -> None:
        self._store = store
        self._wire = Wire(store.client)
        self._closed = False
        self._lock = threading.Lock()
        self._consumers: set[EsdbGroupConsumer] = set()
        self._opened_at: dict[str, datetime] = {}

    def __repr__(self) -> str:
        return f"EsdbSubscriptionGroups({self._store!r})"

    @property
    def _client(self) -> esdbclient.EventStoreDBClient:
        return self._store.client

    def _call(self, group_name: str, stream_name: str | None, call: Callable[[], T]) -> T:
        """Run an esdbclient call, raising our errors for its."""
        if self._closed or self._client.is_closed:
            raise SubscriptionGroupsClosed("the subscription groups (or their store) were closed")
        try:
            return call()
        except esdb_errors.NotFound:
            raise GroupNotFound(group_name, stream_name) from None
        except esdb_errors.AlreadyExists:
            raise GroupAlreadyExists(group_name, stream_name) from None
        except esdb_errors.MaximumSubscriptionsReached:
            limit = self._subscriber_limit(group_name, stream_name)
            raise MaximumSubscribersReached(group_name, stream_name, limit) from None
        except esdb_errors.EventStoreDBClientException as error:
            raise_translated(error, stream_name, None)
        except ValueError as error:
            # grpc's "Cannot invoke RPC: Channel closed!": the store closed its client meanwhile.
            if "closed" not in str(error).lower():
                raise
            raise SubscriptionGroupsClosed("the event store under the groups was closed") from error

    def _subscriber_limit(self, group_name: str, stream_name: str | None) -> int:
        try:
            info = self._wire.get_info(group_name, stream_name)
            return group_settings(info).max_subscriber_count
        except (esdb_errors.EventStoreDBClientException, UnsupportedGroup):
            return 0

    # -- definitions --------------------------------------------------------------------------

    def create_subscription_to_all(
        self,
        group_name: str,
        *,
        from_end: bool = False,
        commit_position: int | None = None,
        filter: EventFilter | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        _check_definition(group_name, from_end, commit_position)
        args = filter_args(filter, include_system=False)
        kwargs = settings_kwargs(settings or GroupSettings())

        def create() -> None:
            if commit_position is not None:
                self._client.create_subscription_to_all(
                    group_name,
                    commit_position=commit_position,
                    filter_include=args.filter_include,
                    filter_exclude=args.filter_exclude,
                    filter_by_stream_name=args.filter_by_stream_name,
                    **kwargs,
                )
            else:
                self._client.create_subscription_to_all(
                    group_name,
                    from_end=from_end,
                    filter_include=args.filter_include,
                    filter_exclude=args.filter_exclude,
                    filter_by_stream_name=args.filter_by_stream_name,
                    **kwargs,
                )

        self._call(group_name, None, create)

    def create_subscription_to_stream(
        self,
        group_name: str,
        stream_name: str,
        *,
        from_end: bool = False,
        stream_position: int | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        _check_definition(group_name, from_end, stream_position)
        if not stream_name or stream_name == ALL_STREAMS:
            raise ValueError(f"not a stream name: {stream_name!r}")
        kwargs = settings_kwargs(settings or GroupSettings())

        def create() -> None:
            if stream_position is not None:
                self._client.create_subscription_to_stream(
                    group_name, stream_name, stream_position=stream_position, **kwargs
                )
            else:
                self._client.create_subscription_to_stream(
                    group_name, stream_name, from_end=from_end, **kwargs
                )

        self._call(group_name, stream_name, create)

    def update_subscription_to_all(self, group_name: str, *, settings: GroupSettings) -> None:
        kwargs = settings_kwargs(settings)
        self._call(
            group_name,
            None,
            lambda: self._client.update_subscription_to_all(group_name, **kwargs),
        )

    def update_subscription_to_stream(
        self, group_name: str, stream_name: str, *, settings: GroupSettings
    ) -> None:
        kwargs = settings_kwargs(settings)
        self._call(
            group_name,
            stream_name,
            lambda: self._client.update_subscription_to_stream(group_name, stream_name, **kwargs),
        )

    def delete_subscription(self, group_name: str, stream_name: str | None = None) -> None:
        self._call(
            group_name,
            stream_name,
            lambda: self._client.delete_subscription(group_name, stream_name=stream_name),
        )

    # -- figures ------------------------------------------------------------------------------

    def get_subscription_info(self, group_name: str, stream_name: str | None = None) -> GroupInfo:
        info = self._call(
            group_name, stream_name, lambda: self._wire.get_info(group_name, stream_name)
        )
        return group_info(
            info, last_known_position=self._head(stream_name), opened_at=self._opened()
        )

    def list_subscriptions(self) -> Sequence[GroupInfo]:
        """Every group; groups made by other tools with settings the port cannot express
        (a Pinned strategy, say) are left out, with a warning in the log."""
        try:
            infos = self._call("", None, self._wire.list_all)
        except GroupNotFound:
            return []
        opened = self._opened()
        heads: dict[str | None, int | None] = {}
        groups = []
        for info in infos:
            stream_name = None if info.event_source == ALL_STREAMS else info.event_source
            if stream_name not in heads:
                heads[stream_name] = self._head(stream_name)
            try:
                groups.append(
                    group_info(info, last_known_position=heads[stream_name], opened_at=opened)
                )
            except UnsupportedGroup as unsupported:
                log.warning("%s", unsupported)
        return sorted(
            groups, key=lambda i: (i.stream_name is not None, i.event_source, i.group_name)
        )

    def _head(self, stream_name: str | None) -> int | None:
        """The newest event of a group's source (on `$all`: of a stream that is not hidden)."""
        if stream_name is None:
            return self._store.head_position()
        try:
            last = self._store.read_stream(stream_name, backwards=True, limit=1)
        except (StreamNotFound, StreamDeleted):
            return None
        return last[0].revision if last else None

    def _opened(self) -> dict[str, datetime]:
        with self._lock:
            return dict(self._opened_at)

    # -- consumers and parked events ----------------------------------------------------------

    def _join(
        self, group_name: str, stream_name: str | None, batching: ConsumerBatching
    ) -> GroupConsumer:
        def join(name: str) -> tuple[PersistentSubscription, AckRequests]:
            return self._call(
                group_name,
                stream_name,
                lambda: self._wire.read(
                    group_name,
                    stream_name,
                    connection_name=name,
                    buffer_size=batching.event_buffer_size,
                    max_ack_batch_size=batching.max_ack_batch_size,
                    max_ack_delay=batching.max_ack_delay,
                ),
            )

        consumer = EsdbGroupConsumer(
            group_name,
            stream_name,
            join=join,
            lookup=self._lookup,
            await_departure=lambda name: self._await_departure(group_name, stream_name, name),
            on_stop=self._forget,
        )
        with self._lock:
            self._consumers.add(consumer)
            self._opened_at[consumer.consumer_name] = datetime.now(UTC)
        return consumer

    def _lookup(self, event: esdbclient.RecordedEvent) -> RecordedEvent | None:
        """The recorded event a link (or an event sent without its position) stands for."""
        try:
            found = self._store.read_stream(
                event.stream_name, from_revision=event.stream_position, limit=1
            )
        except (StreamNotFound, StreamDeleted):
            return None
        if not found or found[0].revision != event.stream_position:
            return None
        return found[0]

    def _await_departure(self, group_name: str, stream_name: str | None, name: str) -> None:
        """Wait (a few seconds at most) until the server no longer lists the consumer `name`."""
        deadline = time.monotonic() + DEPARTURE_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                info = self._call(
                    group_name, stream_name, lambda: self._wire.get_info(group_name, stream_name)
                )
            except GroupNotFound:
                return
            if all(c.connection_name != name for c in info.connections):
                return
            time.sleep(_DEPARTURE_POLL_S)
        log.warning("the server still lists consumer %s of group %r", name, group_name)

    def _forget(self, consumer: EsdbGroupConsumer) -> None:
        with self._lock:
            self._consumers.discard(consumer)
            self._opened_at.pop(consumer.consumer_name, None)

    def replay_parked_events(
        self, group_name: str, stream_name: str | None = None, *, stop_at: int | None = None
    ) -> None:
        """See the port. EventStoreDB's `stop_at` is the parked stream's event number to stop
        before, so the count asked for is added to the number of the oldest parked event."""
        if stop_at is not None and stop_at < 0:
            raise ValueError(f"stop_at must be >= 0, got {stop_at}")
        if stop_at == 0:
            self._call(
                group_name, stream_name, lambda: self._wire.get_info(group_name, stream_name)
            )
            return
        stop_before: int | None = None
        if stop_at is not None:
            oldest = self._oldest_parked(group_name, stream_name)
            if oldest is not None:
                stop_before = oldest + stop_at
        self._call(
            group_name,
            stream_name,
            lambda: self._wire.replay_parked(group_name, stream_name, stop_before),
        )

    def _oldest_parked(self, group_name: str, stream_name: str | None) -> int | None:
        try:
            oldest = self._store.read_stream(parked_stream_name(group_name, stream_name), limit=1)
        except (StreamNotFound, StreamDeleted):
            return None
        return oldest[0].revision if oldest else None

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every consumer opened here; the store (and its client) stays open."""
        with self._lock:
            consumers = list(self._consumers)
        for consumer in consumers:
            consumer.stop()
        self._closed = True


def _check_definition(group_name: str, from_end: bool, position: int | None) -> None:
    if not group_name:
        raise ValueError("a group needs a name")
    if from_end and position is not None:
        raise ValueError("start from the end or from a position, not both")
    if position is not None and position < 0:
        raise ValueError(f"a start position must be >= 0, got {position}")
