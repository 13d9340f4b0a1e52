"""Value types of the subscription-groups port, named as EventStoreDB (and esdbclient) name them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from write_side.eventstore.model import EventFilter, RecordedEvent

#: How a group shares its events among its consumers (EventStoreDB's `named_consumer_strategy`).
#: `DispatchToSingle` fills one consumer's buffer before moving on to the next; `RoundRobin`
#: hands each event to the next consumer in turn, skipping full ones.
ConsumerStrategy = Literal["DispatchToSingle", "RoundRobin"]
CONSUMER_STRATEGIES: tuple[ConsumerStrategy, ...] = get_args(ConsumerStrategy)

#: What a consumer asks of the group for an event it did not handle (esdbclient's `nack` actions):
#: `retry` delivers it again (parked once its retry count reaches `max_retry_count`), `park`
#: moves it to the parked stream now, `skip` drops it as if handled, `stop` ends the consumer
#: and gives its unacknowledged events back to the group.
NackAction = Literal["retry", "park", "skip", "stop"]
NACK_ACTIONS: tuple[NackAction, ...] = get_args(NackAction)

#: The source of a group on every stream (EventStoreDB's `event_source` for such a group).
ALL_STREAMS = "$all"


def parked_stream_name(group_name: str, stream_name: str | None = None) -> str:
    """The stream holding a group's parked events, named as EventStoreDB names it."""
    return f"$persistentsubscription-{stream_name or ALL_STREAMS}::{group_name}-parked"


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How a group delivers, retries, checkpoints and buffers (esdbclient's names and defaults).

    `message_timeout` (s): an event not acknowledged within it goes back to the group.
    `max_retry_count`: an event delivered that many times again is parked on its next failure.
    `checkpoint_after` (s), `min_checkpoint_count`, `max_checkpoint_count`: the checkpoint is
    written after `checkpoint_after` once `min_checkpoint_count` events were acknowledged since
    the last one, and at once when `max_checkpoint_count` were.
    `max_subscriber_count`: consumers allowed at once (0: no limit).
    `read_batch_size`: events read from the store at a time; `history_buffer_size` and
    `live_buffer_size`: events the group takes in at once while catching up and at the tail.
    """

    message_timeout: float = 30.0
    max_retry_count: int = 10
    consumer_strategy: ConsumerStrategy = "DispatchToSingle"
    checkpoint_after: float = 2.0
    min_checkpoint_count: int = 10
    max_checkpoint_count: int = 1000
    max_subscriber_count: int = 5
    live_buffer_size: int = 500
    read_batch_size: int = 200
    history_buffer_size: int = 500

    def __post_init__(self) -> None:
        if not self.message_timeout > 0:
            raise ValueError(f"message_timeout must be positive, got {self.message_timeout}")
        if self.checkpoint_after < 0:
            raise ValueError(f"checkpoint_after must be >= 0, got {self.checkpoint_after}")
        for name in ("max_retry_count", "max_subscriber_count"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in (
            "min_checkpoint_count",
            "max_checkpoint_count",
            "live_buffer_size",
            "read_batch_size",
            "history_buffer_size",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.min_checkpoint_count > self.max_checkpoint_count:
            raise ValueError("min_checkpoint_count must not exceed max_checkpoint_count")
        if self.consumer_strategy not in CONSUMER_STRATEGIES:
            raise ValueError(
                f"consumer_strategy must be one of {', '.join(CONSUMER_STRATEGIES)}, "
                f"got {self.consumer_strategy!r}"
            )


@dataclass(frozen=True, slots=True)
class DeliveredEvent:
    """An event as a group delivers it: the recorded event and how often it was retried.

    `retry_count` is 0 on the first delivery (and on a delivery replayed from the parked
    stream), and one more on each delivery after a nack with `retry`, a timeout, or a consumer
    that stopped before acknowledging it.
    """

    event: RecordedEvent
    retry_count: int
    id: uuid.UUID = field(init=False, repr=False, compare=False)
    """The id to `ack` or `nack` (esdbclient's `ack_id`): the event's id, decoded once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.event.id)


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """One connected consumer of a group."""

    name: str
    in_flight: int
    buffer_size: int
    delivered: int
    acked: int
    connected_at: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group's definition and figures at one moment (esdbclient's `SubscriptionInfo`).

    Positions are commit positions for a group on `$all` and revisions for a group on a stream.
    `last_read_position` is the last event taken into the group, `last_checkpointed_position`
    the last checkpoint (every event up to it is handled), `last_known_position` the newest
    event of the source. `in_flight` events are with a consumer, `waiting` ones are back in
    the group for a retry or a replay, `parked` ones sit in the parked stream.
    """

    group_name: str
    stream_name: str | None
    filter: EventFilter | None
    from_end: bool
    start_position: int | None
    settings: GroupSettings
    last_read_position: int | None
    last_checkpointed_position: int | None
    last_known_position: int | None
    in_flight: int
    waiting: int
    parked: int
    highest_retry_count: int
    delivered_total: int
    acked_total: int
    retried_total: int
    skipped_total: int
    parked_total: int
    consumers: tuple[ConsumerInfo, ...] = field(default=())

    @property
    def event_source(self) -> str:
        """`$all`, or the stream's name."""
        return self.stream_name or ALL_STREAMS

    @property
    def parked_stream(self) -> str:
        """Where this group's parked events are."""
        return parked_stream_name(self.group_name, self.stream_name)
