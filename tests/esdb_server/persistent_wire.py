"""Between EventStoreDB's persistent-subscription messages and our subscription-groups port.

Requests: a group's source (`$all` or a stream), start, filter and settings as esdbclient
1.1.7 sends them (times in milliseconds or in .NET ticks, the consumer strategy by name or by
the older enum). Answers: `SubscriptionInfo` as EventStoreDB fills it (positions as text:
`C:<commit>/P:<prepare>` on `$all`, a revision on a stream; `-1` for the end), delivered
events, and the errors EventStoreDB raises for groups (status, message, trailing metadata).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import persistent_pb2, shared_pb2

from tests.esdb_server.rpc_errors import abort
from tests.esdb_server.wire import BadRequest, read_event, stream_name
from write_side.eventstore import EventFilter
from write_side.groups import (
    ALL_STREAMS,
    CONSUMER_STRATEGIES,
    ConsumerInfo,
    DeliveredEvent,
    GroupInfo,
    GroupSettings,
)

_TICKS_PER_SECOND = 10_000_000

#: EventStoreDB's name for the user of an unauthenticated connection.
ANONYMOUS = "anonymous"


class GroupFailed(Exception):
    """EventStoreDB would answer `PersistentSubscriptionFailed` with this reason."""


@dataclass(frozen=True, slots=True)
class Definition:
    """A group as a Create request defines it."""

    group_name: str
    stream_name: str | None
    from_end: bool
    start: int | None
    filter: EventFilter | None
    settings: GroupSettings


def source_name(stream: str | None) -> str:
    """EventStoreDB's event source of a group: `$all` or the stream's name."""
    return stream or ALL_STREAMS


def group_stream(identifier: shared_pb2.StreamIdentifier | None) -> str | None:
    """The stream of a group (None for `$all`, also when named `$all`)."""
    if identifier is None:
        return None
    name = stream_name(identifier)
    return None if name == ALL_STREAMS else name


# -- requests ---------------------------------------------------------------------------------


def create_stream(options: persistent_pb2.CreateReq.Options) -> str | None:
    """The stream a Create request names (None: `$all`), for its error messages."""
    which = options.WhichOneof("stream_option")
    if which == "all":
        return None
    if which == "stream":
        return group_stream(options.stream.stream_identifier)
    return group_stream(options.stream_identifier)  # before 21.10


def create_definition(options: persistent_pb2.CreateReq.Options) -> Definition:
    """The group a Create request asks for; raises `GroupFailed` or `BadRequest`."""
    settings = create_settings(options.settings)
    which = options.WhichOneof("stream_option")
    if which == "all":
        start_option = options.all.WhichOneof("all_option")
        if start_option not in ("position", "start", "end"):
            raise BadRequest("a group on $all needs a position, start or end")
        position = options.all.position
        if start_option == "position" and position.prepare_position > position.commit_position:
            raise GroupFailed(
                "Invalid Start From position: prepare position must be less than or equal to "
                "the commit position."
            )
        return Definition(
            group_name=options.group_name,
            stream_name=None,
            from_end=start_option == "end",
            start=position.commit_position if start_option == "position" else None,
            filter=_filter(options.all) if options.all.WhichOneof("filter_option") else None,
            settings=settings,
        )
    if which == "stream":
        stream = stream_name(options.stream.stream_identifier)
        revision_option = options.stream.WhichOneof("revision_option")
        if revision_option not in ("revision", "start", "end"):
            raise BadRequest("a group on a stream needs a revision, start or end")
        revision = options.stream.revision if revision_option == "revision" else None
    else:  # before 21.10: the stream in `stream_identifier`, the start in the settings
        stream = stream_name(options.stream_identifier)
        revision = options.settings.revision or None
        revision_option = "revision"
    if not stream or stream == ALL_STREAMS:
        raise GroupFailed("Bad stream name.")
    return Definition(
        group_name=options.group_name,
        stream_name=stream,
        from_end=revision_option == "end",
        start=revision,
        filter=None,
        settings=settings,
    )


def create_settings(settings: persistent_pb2.CreateReq.Settings) -> GroupSettings:
    """A Create request's settings (its strategy by name, or by the older enum)."""
    strategy = settings.consumer_strategy or persistent_pb2.CreateReq.ConsumerStrategy.Name(
        settings.named_consumer_strategy
    )
    return _settings(settings, strategy)


def update_settings(settings: persistent_pb2.UpdateReq.Settings) -> GroupSettings:
    """An Update request's settings (its strategy by the enum only)."""
    strategy = persistent_pb2.UpdateReq.ConsumerStrategy.Name(settings.named_consumer_strategy)
    return _settings(settings, strategy)


def _settings(
    settings: persistent_pb2.CreateReq.Settings | persistent_pb2.UpdateReq.Settings, strategy: str
) -> GroupSettings:
    if strategy not in CONSUMER_STRATEGIES:
        # EventStoreDB knows Pinned and PinnedByCorrelation too; the embedded groups do not.
        raise GroupFailed(f"Consumer strategy {strategy} does not exist.")
    if settings.read_batch_size >= settings.history_buffer_size:
        raise GroupFailed(
            "Specified argument was out of the range of valid values. (Parameter 'ReadBatchSize "
            "may not be greater than or equal to BufferSize')"
        )
    try:
        return GroupSettings(
            message_timeout=_seconds(settings, "message_timeout"),
            max_retry_count=settings.max_retry_count,
            consumer_strategy=strategy,
            checkpoint_after=_seconds(settings, "checkpoint_after"),
            min_checkpoint_count=settings.min_checkpoint_count,
            max_checkpoint_count=settings.max_checkpoint_count,
            max_subscriber_count=settings.max_subscriber_count,
            live_buffer_size=settings.live_buffer_size,
            read_batch_size=settings.read_batch_size,
            history_buffer_size=settings.history_buffer_size,
        )
    except ValueError as error:
        raise GroupFailed(str(error)) from None


def _seconds(settings: object, name: str) -> float:
    """A duration sent in milliseconds (`<name>_ms`) or in .NET ticks (`<name>_ticks`)."""
    which = settings.WhichOneof(name)  # type: ignore[attr-defined]
    if which == f"{name}_ms":
        return int(getattr(settings, which)) / 1000
    if which == f"{name}_ticks":
        return int(getattr(settings, which)) / _TICKS_PER_SECOND
    return 0.0


def _filter(options: persistent_pb2.CreateReq.AllOptions) -> EventFilter:
    """A `$all` group's filter: a regex (searched) or prefixes, on stream names or types."""
    filter_options = options.filter
    on = filter_options.WhichOneof("filter")
    if on not in ("stream_identifier", "event_type"):
        raise BadRequest("a filter needs a stream name or an event type expression")
    expression = getattr(filter_options, on)
    if expression.regex:
        regex = expression.regex
    elif expression.prefix:
        regex = "^(?:" + "|".join(re.escape(p) for p in expression.prefix) + ")"
    else:
        raise BadRequest("a filter expression needs a regex or prefixes")
    try:
        return EventFilter("stream_name" if on == "stream_identifier" else "event_type", regex)
    except re.error as error:
        raise BadRequest(f"invalid filter regex {regex!r}: {error}") from None


# -- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connection:
    """What the server knows of one consumer's call: its name, address and user."""

    connection_name: str
    peer: str
    username: str = ANONYMOUS


def position_text(value: int | None, *, on_all: bool) -> str:
    """A position as EventStoreDB prints it (empty when there is none)."""
    if value is None:
        return ""
    return f"C:{value}/P:{value}" if on_all else str(value)


def subscription_info(
    info: GroupInfo, connections: dict[str, Connection]
) -> persistent_pb2.SubscriptionInfo:
    """EventStoreDB's `SubscriptionInfo` of a group; `connections` by consumer name."""
    on_all = info.stream_name is None
    if info.from_end:
        start_from = position_text(-1, on_all=on_all)
    else:
        start_from = position_text(info.start_position or 0, on_all=on_all)
    settings = info.settings
    return persistent_pb2.SubscriptionInfo(
        event_source=info.event_source,
        group_name=info.group_name,
        status="Live" if info.last_read_position == info.last_known_position else "Behind",
        connections=[_connection_info(c, connections.get(c.name)) for c in info.consumers],
        average_per_second=0,
        total_items=info.delivered_total,
        count_since_last_measurement=0,
        last_checkpointed_event_position=position_text(
            info.last_checkpointed_position, on_all=on_all
        ),
        # EventStoreDB's "last known" event is the last one the group read from its source.
        last_known_event_position=position_text(info.last_read_position, on_all=on_all),
        resolve_link_tos=False,
        start_from=start_from,
        message_timeout_milliseconds=round(settings.message_timeout * 1000),
        extra_statistics=False,
        max_retry_count=settings.max_retry_count,
        live_buffer_size=settings.live_buffer_size,
        buffer_size=settings.history_buffer_size,
        read_batch_size=settings.read_batch_size,
        check_point_after_milliseconds=round(settings.checkpoint_after * 1000),
        min_check_point_count=settings.min_checkpoint_count,
        max_check_point_count=settings.max_checkpoint_count,
        read_buffer_count=0,
        live_buffer_count=0,
        retry_buffer_count=info.waiting,
        total_in_flight_messages=info.in_flight,
        outstanding_messages_count=info.in_flight,
        named_consumer_strategy=settings.consumer_strategy,
        max_subscriber_count=settings.max_subscriber_count,
        parked_message_count=info.parked,
    )


def _connection_info(
    consumer: ConsumerInfo, connection: Connection | None
) -> persistent_pb2.SubscriptionInfo.ConnectionInfo:
    known = connection or Connection(connection_name=consumer.name, peer="")
    return persistent_pb2.SubscriptionInfo.ConnectionInfo(
        **{"from": known.peer},  # type: ignore[arg-type]  # `from` is a Python keyword
        username=known.username,
        average_items_per_second=0,
        total_items=consumer.delivered,
        count_since_last_measurement=0,
        available_slots=max(0, consumer.buffer_size - consumer.in_flight),
        in_flight_messages=consumer.in_flight,
        connection_name=known.connection_name,
    )


def confirmation(stream: str | None, group_name: str) -> persistent_pb2.ReadResp:
    """The first answer of a Read: the subscription id `<source>::<group>`."""
    return persistent_pb2.ReadResp(
        subscription_confirmation=persistent_pb2.ReadResp.SubscriptionConfirmation(
            subscription_id=f"{source_name(stream)}::{group_name}"
        )
    )


def delivery(delivered: DeliveredEvent, *, structured_ids: bool) -> persistent_pb2.ReadResp:
    """One delivered event with its retry count, as a Read sends it."""
    # The recorded event of a persistent Read has the same fields and numbers as the Streams
    # service's, so the Streams encoding (wire.read_event) carries over byte for byte.
    streams_event = read_event(delivered.event, structured_ids=structured_ids).event.event
    recorded = persistent_pb2.ReadResp.ReadEvent.RecordedEvent.FromString(
        streams_event.SerializeToString()
    )
    return persistent_pb2.ReadResp(
        event=persistent_pb2.ReadResp.ReadEvent(
            event=recorded,
            commit_position=delivered.event.position,
            retry_count=delivered.retry_count,
        )
    )


# -- errors (EventStoreDB's RpcExceptions for groups) -----------------------------------------


def _describe(stream: str | None, group_name: str) -> tuple[str, dict[str, str]]:
    source = source_name(stream)
    return source, {"stream_name": source, "group_name": group_name}


def does_not_exist(context: grpc.ServicerContext, stream: str | None, group_name: str) -> NoReturn:
    """`PersistentSubscriptionDoesNotExist`: NOT_FOUND."""
    source, names = _describe(stream, group_name)
    abort(
        context,
        grpc.StatusCode.NOT_FOUND,
        f"Subscription group {group_name} on stream {source} does not exist.",
        exception="persistent-subscription-does-not-exist",
        **names,
    )


def exists(context: grpc.ServicerContext, stream: str | None, group_name: str) -> NoReturn:
    """`PersistentSubscriptionExists`: ALREADY_EXISTS."""
    source, names = _describe(stream, group_name)
    abort(
        context,
        grpc.StatusCode.ALREADY_EXISTS,
        f"Subscription group {group_name} on stream {source} exists.",
        exception="persistent-subscription-exists",
        **names,
    )


def maximum_subscribers(
    context: grpc.ServicerContext, stream: str | None, group_name: str
) -> NoReturn:
    """`PersistentSubscriptionMaximumSubscribersReached`: FAILED_PRECONDITION."""
    source, names = _describe(stream, group_name)
    abort(
        context,
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Maximum subscriptions reached for subscription group {group_name} on stream {source}.",
        exception="maximum-subscribers-reached",
        **names,
    )


def dropped(context: grpc.ServicerContext, stream: str | None, group_name: str) -> NoReturn:
    """`PersistentSubscriptionDropped`: CANCELLED (the group was updated or restarted)."""
    source, names = _describe(stream, group_name)
    abort(
        context,
        grpc.StatusCode.CANCELLED,
        f"Subscription group {group_name} on stream {source} was dropped.",
        exception="persistent-subscription-dropped",
        **names,
    )


def failed(
    context: grpc.ServicerContext, stream: str | None, group_name: str, reason: str
) -> NoReturn:
    """`PersistentSubscriptionFailed`: INTERNAL, with the reason."""
    source, names = _describe(stream, group_name)
    abort(
        context,
        grpc.StatusCode.INTERNAL,
        f"Subscription group {group_name} on stream {source} failed: '{reason}'",
        exception="persistent-subscription-failed",
        reason=reason,
        **names,
    )
