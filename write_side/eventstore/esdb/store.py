"""`EsdbEventStore`: the event store port on EventStoreDB, through esdbclient."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterator, Sequence

import esdbclient
import orjson
from esdbclient.common import AbstractCatchupSubscription

from write_side.eventstore.checks import check_expected_version, check_stream_name
from write_side.eventstore.esdb.subscription import EsdbSubscription
from write_side.eventstore.esdb.translate import (
    FilterArgs,
    calling,
    current_version,
    filter_args,
    new_event,
    recorded_event,
)
from write_side.eventstore.model import (
    Capability,
    EventFilter,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamMetadata,
)
from write_side.eventstore.port import EventStore, Subscription

METADATA_EVENT_TYPE = "$metadata"


class EsdbEventStore(EventStore):
    """EventStoreDB (23.10 / 24.10 LTS, or KurrentDB) as the event store.

    `uri` is esdbclient's connection string: `esdb://host:2113?Tls=false`, or
    `esdb+discover://host:2113` for a cluster (the leader is found through gossip); TLS and
    credentials (`esdb://user:password@host:2113`) come from it too. Commit positions are
    EventStoreDB's own: increasing, far from contiguous.
    """

    capabilities = frozenset({Capability.MULTI_PROCESS, Capability.CRASH_DURABLE})

    def __init__(self, uri: str, *, client: esdbclient.EventStoreDBClient | None = None) -> None:
        self._uri = uri
        self._client = client or calling(None, None, lambda: esdbclient.EventStoreDBClient(uri))
        self._closed = False
        self._subscriptions: weakref.WeakSet[EsdbSubscription] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"EsdbEventStore({self._client.connection_target!r})"

    @property
    def client(self) -> esdbclient.EventStoreDBClient:
        """The esdbclient client (shared with the persistent-groups adapter)."""
        return self._client

    # -- writes -------------------------------------------------------------------------------

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        check_stream_name(stream)
        check_expected_version(expected_version)
        if not events:
            raise ValueError("append needs at least one event")
        return self._append(stream, events, expected_version)

    def _append(
        self, stream: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> int:
        # One event goes by Append, several by BatchAppend (esdbclient chooses by the type).
        wire: esdbclient.NewEvent | list[esdbclient.NewEvent] = (
            new_event(events[0]) if len(events) == 1 else [new_event(e) for e in events]
        )
        version = current_version(expected_version)
        return calling(
            stream,
            expected_version,
            lambda: self._client.append_to_stream(stream, current_version=version, events=wire),
        )

    def set_stream_metadata(
        self, stream: str, metadata: StreamMetadata, *, expected_version: ExpectedVersion
    ) -> int:
        check_stream_name(stream)
        check_expected_version(expected_version)
        # esdbclient's set_stream_metadata drops the position; this is the same append.
        event = NewEvent(type=METADATA_EVENT_TYPE, data=orjson.dumps(metadata.to_json_dict()))
        return self._append(f"$${stream}", [event], expected_version)

    def delete_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        check_stream_name(stream)
        check_expected_version(expected_version)
        version = current_version(expected_version)
        calling(
            stream,
            expected_version,
            lambda: self._client.delete_stream(stream, current_version=version),
        )

    def tombstone_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        check_stream_name(stream)
        check_expected_version(expected_version)
        version = current_version(expected_version)
        calling(
            stream,
            expected_version,
            lambda: self._client.tombstone_stream(stream, current_version=version),
        )

    # -- reads --------------------------------------------------------------------------------

    def read_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        check_stream_name(stream, allow_metastream=True)
        found = calling(
            stream,
            None,
            lambda: self._client.get_stream(
                stream,
                stream_position=from_revision,
                backwards=backwards,
                limit=sys.maxsize if limit is None else limit,
            ),
        )
        return [recorded_event(e) for e in found]

    def read_all(
        self,
        *,
        from_position: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
        filter: EventFilter | None = None,
        include_system: bool = False,
    ) -> Iterator[RecordedEvent]:
        if limit == 0:
            return
        args = filter_args(filter, include_system=include_system)
        remaining = -1 if limit is None else limit
        if backwards and from_position is not None:
            # The event at the position first (a forward read includes it), then the ones
            # before it: the same inclusive rule in both directions, whatever the server does.
            for event in self._read(args, from_position, backwards=False, limit=1):
                if event.position == from_position:
                    yield event
                    remaining -= 1
            if remaining == 0:
                return
        for event in self._read(args, from_position, backwards=backwards, limit=remaining):
            if backwards and from_position is not None and event.position >= from_position:
                continue
            yield event
            remaining -= 1
            if remaining == 0:
                return

    def _read(
        self, args: FilterArgs, from_position: int | None, *, backwards: bool, limit: int
    ) -> Iterator[RecordedEvent]:
        # A limit can go to the server only when the server filters everything.
        server_limit = sys.maxsize if limit < 0 or args.hide_here else limit
        response = calling(
            None,
            None,
            lambda: self._client.read_all(
                commit_position=from_position,
                backwards=backwards,
                filter_include=args.filter_include,
                filter_exclude=args.filter_exclude,
                filter_by_stream_name=args.filter_by_stream_name,
                limit=server_limit,
            ),
        )
        try:
            while True:
                event = calling(None, None, lambda: next(response, None))
                if event is None:
                    return
                if args.keeps(event):
                    yield recorded_event(event)
        finally:
            response.stop()

    def get_stream_metadata(self, stream: str) -> tuple[StreamMetadata, int | None]:
        check_stream_name(stream)
        raw, version = calling(stream, None, lambda: self._client.get_stream_metadata(stream))
        return StreamMetadata.from_json_dict(raw), version if isinstance(version, int) else None

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe_to_all(
        self,
        *,
        from_position: int | None = None,
        from_end: bool = False,
        filter: EventFilter | None = None,
        include_system: bool = False,
        include_checkpoints: bool = False,
        include_caught_up: bool = False,
    ) -> Subscription:
        args = filter_args(filter, include_system=include_system)
        # The server sends checkpoints only for filtered reads; we always filter (system
        # streams), so they come, and are passed on when asked for.

        def open_after(after: int | None) -> AbstractCatchupSubscription:
            start = from_position if after is None else after
            return self._client.subscribe_to_all(
                commit_position=start,
                from_end=from_end and after is None and start is None,
                filter_include=args.filter_include,
                filter_exclude=args.filter_exclude,
                filter_by_stream_name=args.filter_by_stream_name,
                include_checkpoints=include_checkpoints,
                include_caught_up=include_caught_up,
            )

        return self._track(
            EsdbSubscription(open_after, stream=None, keeps=args.keeps, start=from_position)
        )

    def subscribe_to_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        from_end: bool = False,
        include_caught_up: bool = False,
    ) -> Subscription:
        check_stream_name(stream)

        def open_after(after: int | None) -> AbstractCatchupSubscription:
            start = from_revision if after is None else after
            return self._client.subscribe_to_stream(
                stream,
                stream_position=start,
                from_end=from_end and after is None and start is None,
                include_caught_up=include_caught_up,
            )

        return self._track(
            EsdbSubscription(open_after, stream=stream, keeps=lambda _: True, start=from_revision)
        )

    def _track(self, subscription: EsdbSubscription) -> EsdbSubscription:
        self._subscriptions.add(subscription)
        return subscription

    def close(self) -> None:
        """End live subscriptions (with `EventStoreClosed`) and close the client."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.close_with_store()
        self._client.close()
