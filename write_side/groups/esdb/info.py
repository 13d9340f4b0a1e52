"""Between our group settings and info and EventStoreDB's (esdbclient's keywords, the wire's
`SubscriptionInfo`).

What EventStoreDB's GetInfo does not report stays empty in `GroupInfo`: the filter (None),
the highest retry count and the running totals of acknowledged, retried, skipped and parked
events (0), and each consumer's acknowledgements (0). Its "last known event" is the last one
the group read from its source: our `last_read_position`. When a consumer connected and was
last heard of is not reported either: `connected_at` is when this process opened it (the Unix
epoch, meaning unknown, for consumers of other processes) and `last_seen` the time of the call.
A group created at the start and one created at revision or position 0 read back alike (start).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypedDict

from esdbclient.protos.Grpc import persistent_pb2

from write_side.groups.errors import SubscriptionGroupError
from write_side.groups.model import (
    ALL_STREAMS,
    CONSUMER_STRATEGIES,
    ConsumerInfo,
    ConsumerStrategy,
    GroupInfo,
    GroupSettings,
)

#: When a consumer of another process connected: not known.
UNKNOWN_TIME = datetime.fromtimestamp(0, UTC)

#: EventStoreDB reads a `checkpoint_after` of 0 as "never by time"; ours means "as soon as due",
#: which is EventStoreDB's smallest positive value (its timer then checkpoints within a second).
_SOONEST_CHECKPOINT_S = 0.001


class UnsupportedGroup(SubscriptionGroupError):
    """A group whose settings the port cannot express (made by another tool)."""


class SettingsKwargs(TypedDict):
    """esdbclient's keywords for a group's settings."""

    consumer_strategy: ConsumerStrategy
    message_timeout: float
    max_retry_count: int
    min_checkpoint_count: int
    max_checkpoint_count: int
    checkpoint_after: float
    max_subscriber_count: int
    live_buffer_size: int
    read_batch_size: int
    history_buffer_size: int


def settings_kwargs(settings: GroupSettings) -> SettingsKwargs:
    """esdbclient's keywords for a create or an update with `settings`."""
    if settings.read_batch_size >= settings.history_buffer_size:
        raise ValueError(
            "on EventStoreDB, read_batch_size must be smaller than history_buffer_size "
            f"(got {settings.read_batch_size} and {settings.history_buffer_size})"
        )
    return {
        "consumer_strategy": settings.consumer_strategy,
        "message_timeout": settings.message_timeout,
        "max_retry_count": settings.max_retry_count,
        "min_checkpoint_count": settings.min_checkpoint_count,
        "max_checkpoint_count": settings.max_checkpoint_count,
        "checkpoint_after": settings.checkpoint_after or _SOONEST_CHECKPOINT_S,
        "max_subscriber_count": settings.max_subscriber_count,
        "live_buffer_size": settings.live_buffer_size,
        "read_batch_size": settings.read_batch_size,
        "history_buffer_size": settings.history_buffer_size,
    }


def group_stream(event_source: str) -> str | None:
    """The stream of a group (None for `$all`)."""
    return None if event_source == ALL_STREAMS else event_source


def parse_position(text: str) -> int | None:
    """A position as EventStoreDB prints it: `C:<commit>/P:<prepare>` on `$all`, a revision
    on a stream; None when empty or -1."""
    if not text:
        return None
    value = int(text.split("/", 1)[0].removeprefix("C:"))
    return None if value < 0 else value


def group_settings(info: persistent_pb2.SubscriptionInfo) -> GroupSettings:
    """The settings a `SubscriptionInfo` reports."""
    strategy = info.named_consumer_strategy
    if strategy not in CONSUMER_STRATEGIES:
        raise UnsupportedGroup(
            f"group {info.group_name!r} on {info.event_source} uses the consumer strategy "
            f"{strategy}, which the subscription-groups port does not support"
        )
    checkpoint_after = info.check_point_after_milliseconds / 1000
    try:
        return GroupSettings(
            message_timeout=info.message_timeout_milliseconds / 1000,
            max_retry_count=info.max_retry_count,
            consumer_strategy=strategy,
            checkpoint_after=0.0 if checkpoint_after == _SOONEST_CHECKPOINT_S else checkpoint_after,
            min_checkpoint_count=info.min_check_point_count,
            max_checkpoint_count=info.max_check_point_count,
            max_subscriber_count=info.max_subscriber_count,
            live_buffer_size=info.live_buffer_size,
            read_batch_size=info.read_batch_size,
            history_buffer_size=info.buffer_size,
        )
    except ValueError as error:
        raise UnsupportedGroup(
            f"group {info.group_name!r} on {info.event_source} has settings the port cannot "
            f"express: {error}"
        ) from None


def group_info(
    info: persistent_pb2.SubscriptionInfo,
    *,
    last_known_position: int | None,
    opened_at: Mapping[str, datetime],
) -> GroupInfo:
    """`GroupInfo` of a `SubscriptionInfo` (see the module's docstring for what stays empty).

    `opened_at` holds when this process opened each of its consumers, by name.
    """
    now = datetime.now(UTC)
    start = parse_position(info.start_from)
    from_end = info.start_from.split("/", 1)[0].removeprefix("C:") == "-1"
    return GroupInfo(
        group_name=info.group_name,
        stream_name=group_stream(info.event_source),
        filter=None,
        from_end=from_end,
        start_position=start or None,
        settings=group_settings(info),
        last_read_position=parse_position(info.last_known_event_position),
        last_checkpointed_position=parse_position(info.last_checkpointed_event_position),
        last_known_position=last_known_position,
        in_flight=info.total_in_flight_messages,
        waiting=info.retry_buffer_count,
        parked=info.parked_message_count,
        highest_retry_count=0,
        delivered_total=info.total_items,
        acked_total=0,
        retried_total=0,
        skipped_total=0,
        parked_total=0,
        consumers=tuple(
            ConsumerInfo(
                name=c.connection_name,
                in_flight=c.in_flight_messages,
                buffer_size=c.available_slots + c.in_flight_messages,
                delivered=c.total_items,
                acked=0,
                connected_at=opened_at.get(c.connection_name, UNKNOWN_TIME),
                last_seen=now,
            )
            for c in info.connections
        ),
    )
