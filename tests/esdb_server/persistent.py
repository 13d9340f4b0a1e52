"""The PersistentSubscriptions service, on our subscription groups (`open_subscription_groups`).

Create, Update, Delete, GetInfo, List, ReplayParked and RestartSubsystem answer as
EventStoreDB's `PersistentSubscriptions` gRPC service does (its statuses and messages: see
`persistent_wire`); Read is in `persistent_read`. Each call opens the store's groups and
closes them when it ends, so nothing outlives the server. EventStoreDB's behaviour imitated
beyond the embedded groups' own:

- Update replaces the settings and drops the group's readers ("was dropped", CANCELLED): a
  client reconnects. The group goes on from its cursor (EventStoreDB: from its checkpoint).
- Delete ends the group's readers with "does not exist" (NOT_FOUND) and removes its parked
  stream. RestartSubsystem drops every reader.
- ReplayParked takes `stop_at` as EventStoreDB does: the parked stream's event number to stop
  before (not a count); a negative one fails.
- A group on `$all` created from a position past the end of the log fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import persistent_pb2, persistent_pb2_grpc, shared_pb2

from tests.esdb_server import persistent_read
from tests.esdb_server import persistent_wire as pwire
from tests.esdb_server.rpc_errors import bad_request, unavailable
from tests.esdb_server.service import SharedState
from tests.esdb_server.wire import BadRequest
from write_side.eventstore import EventStoreClosed, StreamNotFound
from write_side.groups import (
    GroupAlreadyExists,
    GroupNotFound,
    SubscriptionGroups,
    SubscriptionGroupsClosed,
    parked_stream_name,
)
from write_side.groups.factory import open_subscription_groups


def register(server: grpc.Server, shared: SharedState) -> None:
    """Add the PersistentSubscriptions service to `server`."""
    persistent_pb2_grpc.add_PersistentSubscriptionsServicer_to_server(  # type: ignore[no-untyped-call]
        PersistentSubscriptionsServicer(shared), server
    )


class PersistentSubscriptionsServicer(persistent_pb2_grpc.PersistentSubscriptionsServicer):
    """EventStoreDB's `event_store.client.persistent_subscriptions.PersistentSubscriptions`."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared
        self._calls = persistent_read.LiveCalls()

    @contextmanager
    def _groups(
        self, context: grpc.ServicerContext, stream: str | None, group_name: str
    ) -> Iterator[SubscriptionGroups]:
        """The store's groups for one call, our errors answered as EventStoreDB's."""
        groups = open_subscription_groups(self._shared.store)
        try:
            yield groups
        except GroupNotFound:
            pwire.does_not_exist(context, stream, group_name)
        except GroupAlreadyExists:
            pwire.exists(context, stream, group_name)
        except pwire.GroupFailed as failure:
            pwire.failed(context, stream, group_name, str(failure))
        except BadRequest as error:
            bad_request(context, str(error))
        except (SubscriptionGroupsClosed, EventStoreClosed):
            unavailable(context, "Server Is Not Ready")
        finally:
            groups.close()

    # -- definitions --------------------------------------------------------------------------

    def Create(  # noqa: N802
        self, request: persistent_pb2.CreateReq, context: grpc.ServicerContext
    ) -> persistent_pb2.CreateResp:
        """A new group on `$all` (optionally filtered) or on a stream."""
        options = request.options
        with self._groups(context, pwire.create_stream(options), options.group_name) as groups:
            group = pwire.create_definition(options)
            if group.stream_name is None:
                if group.start is not None and group.start > self._log_end():
                    raise pwire.GroupFailed(
                        "Invalid Start From position: commit position must be less than or "
                        "equal to the last commit position in the transaction file."
                    )
                groups.create_subscription_to_all(
                    group.group_name,
                    from_end=group.from_end,
                    commit_position=group.start,
                    filter=group.filter,
                    settings=group.settings,
                )
            else:
                groups.create_subscription_to_stream(
                    group.group_name,
                    group.stream_name,
                    from_end=group.from_end,
                    stream_position=group.start,
                    settings=group.settings,
                )
        return persistent_pb2.CreateResp()

    def _log_end(self) -> int:
        """The last commit position of the log, system events included (0 when empty)."""
        last = next(self._shared.store.read_all(backwards=True, limit=1, include_system=True), None)
        return 0 if last is None else last.position

    def Update(  # noqa: N802
        self, request: persistent_pb2.UpdateReq, context: grpc.ServicerContext
    ) -> persistent_pb2.UpdateResp:
        """New settings for a group; its readers are dropped (they reconnect)."""
        options = request.options
        which = options.WhichOneof("stream_option")
        if which == "all":
            stream = None
        elif which == "stream":
            stream = pwire.group_stream(options.stream.stream_identifier)
        else:  # before 21.10
            stream = pwire.group_stream(options.stream_identifier)
        with self._groups(context, stream, options.group_name) as groups:
            settings = pwire.update_settings(options.settings)
            if stream is None:
                groups.update_subscription_to_all(options.group_name, settings=settings)
            else:
                groups.update_subscription_to_stream(options.group_name, stream, settings=settings)
        for call in self._calls.of(stream, options.group_name):
            call.drop()
        return persistent_pb2.UpdateResp()

    def Delete(  # noqa: N802
        self, request: persistent_pb2.DeleteReq, context: grpc.ServicerContext
    ) -> persistent_pb2.DeleteResp:
        """Remove a group, its state and its parked stream; its readers learn it is gone."""
        options = request.options
        stream = pwire.group_stream(
            options.stream_identifier if options.WhichOneof("stream_option") != "all" else None
        )
        with self._groups(context, stream, options.group_name) as groups:
            groups.delete_subscription(options.group_name, stream)
        return persistent_pb2.DeleteResp()

    # -- figures ------------------------------------------------------------------------------

    def GetInfo(  # noqa: N802
        self, request: persistent_pb2.GetInfoReq, context: grpc.ServicerContext
    ) -> persistent_pb2.GetInfoResp:
        """One group's settings, positions, counts and connections."""
        options = request.options
        stream = pwire.group_stream(
            options.stream_identifier if options.WhichOneof("stream_option") != "all" else None
        )
        with self._groups(context, stream, options.group_name) as groups:
            info = groups.get_subscription_info(options.group_name, stream)
        return persistent_pb2.GetInfoResp(
            subscription_info=pwire.subscription_info(info, self._calls.connections())
        )

    def List(  # noqa: N802
        self, request: persistent_pb2.ListReq, context: grpc.ServicerContext
    ) -> persistent_pb2.ListResp:
        """Every group, or those of one source (NOT_FOUND when it has none)."""
        options = request.options
        one_source = options.WhichOneof("list_option") == "list_for_stream"
        stream: str | None = None
        if one_source and options.list_for_stream.WhichOneof("stream_option") == "stream":
            stream = pwire.group_stream(options.list_for_stream.stream)
        with self._groups(context, stream, "") as groups:
            infos = [
                info
                for info in groups.list_subscriptions()
                if not one_source or info.stream_name == stream
            ]
        if one_source and not infos:
            pwire.does_not_exist(context, stream, "")
        connections = self._calls.connections()
        return persistent_pb2.ListResp(
            subscriptions=[pwire.subscription_info(info, connections) for info in infos]
        )

    # -- parked events and the subsystem ------------------------------------------------------

    def ReplayParked(  # noqa: N802
        self, request: persistent_pb2.ReplayParkedReq, context: grpc.ServicerContext
    ) -> persistent_pb2.ReplayParkedResp:
        """Give parked events back to the group, all or those before event number `stop_at`."""
        options = request.options
        stream = pwire.group_stream(
            options.stream_identifier if options.WhichOneof("stream_option") != "all" else None
        )
        with self._groups(context, stream, options.group_name) as groups:
            count: int | None = None
            if options.WhichOneof("stop_at_option") == "stop_at":
                if options.stop_at < 0:
                    raise pwire.GroupFailed(
                        "Cannot stop replaying parked message at a negative version."
                    )
                count = max(0, options.stop_at - self._first_parked(options.group_name, stream))
            groups.replay_parked_events(options.group_name, stream, stop_at=count)
        return persistent_pb2.ReplayParkedResp()

    def _first_parked(self, group_name: str, stream: str | None) -> int:
        """The event number of the oldest event still in the group's parked stream."""
        try:
            first = self._shared.store.read_stream(parked_stream_name(group_name, stream), limit=1)
        except StreamNotFound:
            return 0
        return first[0].revision if first else 0

    def RestartSubsystem(  # noqa: N802
        self, request: shared_pb2.Empty, context: grpc.ServicerContext
    ) -> shared_pb2.Empty:
        """Drop every reader, as EventStoreDB's restart of its persistent subscriptions does."""
        for call in self._calls.every():
            call.drop()
        return shared_pb2.Empty()

    def Read(  # noqa: N802
        self,
        request_iterator: Iterator[persistent_pb2.ReadReq],
        context: grpc.ServicerContext,
    ) -> Iterator[persistent_pb2.ReadResp]:
        """Join a group as a consumer: events out, acks and nacks in (see `persistent_read`)."""
        return persistent_read.read(self._shared, self._calls, request_iterator, context)
