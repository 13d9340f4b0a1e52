"""The subscription-groups port: EventStoreDB's persistent subscriptions, for every adapter.

A group is a named, durable subscription to `$all` (optionally filtered) or to one stream. Any
number of consumers, in threads or processes, read from it at once; each event goes to one
consumer at a time, which acknowledges it (`ack`) or not (`nack` with an action). An event not
acknowledged within the message timeout goes back to the group; after `max_retry_count`
retries it is parked in the group's parked stream, from which it can be replayed. Delivery is at
least once: a consumer must tolerate an event twice (see `pipelines.inbox`).

The method names and arguments are esdbclient's, so the EventStoreDB adapter maps each call 1:1.
The rules stated here are checked for every adapter by `tests/contracts/test_groups_*.py`.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from write_side.eventstore.model import Capability, EventFilter
from write_side.groups.model import DeliveredEvent, GroupInfo, GroupSettings, NackAction

#: esdbclient's defaults for a consumer (`read_subscription_to_all`).
DEFAULT_EVENT_BUFFER_SIZE = 150
DEFAULT_MAX_ACK_BATCH_SIZE = 50
DEFAULT_MAX_ACK_DELAY = 0.2


@dataclass(frozen=True, slots=True)
class ConsumerBatching:
    """How a consumer batches: events it holds at most, and when it sends its acks."""

    event_buffer_size: int
    max_ack_batch_size: int
    max_ack_delay: float

    def __post_init__(self) -> None:
        if self.event_buffer_size < 1 or self.max_ack_batch_size < 1 or self.max_ack_delay < 0:
            raise ValueError("buffer and ack batch sizes must be positive, the ack delay >= 0")


class GroupConsumer(ABC):
    """One consumer of a group: iterate it for `DeliveredEvent`s, then `ack` or `nack` each.

    Acknowledgements are sent in batches (`max_ack_batch_size`, or after `max_ack_delay`
    seconds), and events arrive in batches of up to `event_buffer_size`: the batching is the
    consumer's business, not the caller's. `stop()` may be called from any thread; the
    iteration then ends, and every event not acknowledged goes back to the group.
    """

    def __next__(self) -> DeliveredEvent:
        """The next event, waiting for one as long as it takes."""
        delivered = self._next_within(None)
        assert delivered is not None  # without a timeout, only a stop ends the wait
        return delivered

    def __iter__(self) -> Iterator[DeliveredEvent]:
        return self

    def receive(self, timeout: float) -> DeliveredEvent | None:
        """The next event, or None when none came within `timeout` seconds.

        Raises StopIteration once the consumer is stopped.
        """
        return self._next_within(timeout)

    @abstractmethod
    def _next_within(self, timeout: float | None) -> DeliveredEvent | None:
        """The next event, or None when none came within `timeout` seconds (None: wait as
        long as it takes); StopIteration once the consumer is stopped."""

    @abstractmethod
    def ack(self, item: uuid.UUID | DeliveredEvent) -> None:
        """The event is handled: the group never delivers it again (short of a crash)."""

    @abstractmethod
    def nack(self, item: uuid.UUID | DeliveredEvent, action: NackAction) -> None:
        """The event was not handled: `retry`, `park`, `skip` it, or `stop` this consumer."""

    @abstractmethod
    def stop(self) -> None:
        """Send pending acknowledgements, give unacknowledged events back and leave the group."""

    @property
    @abstractmethod
    def consumer_name(self) -> str:
        """How the group's info names this consumer."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SubscriptionGroups(ABC):
    """Create, change, inspect and read persistent subscription groups of one event store."""

    #: What this adapter guarantees beyond the port's rules (`multi_process`, `crash_durable`).
    capabilities: frozenset[Capability] = frozenset()

    @abstractmethod
    def create_subscription_to_all(
        self,
        group_name: str,
        *,
        from_end: bool = False,
        commit_position: int | None = None,
        filter: EventFilter | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        """Create a group on `$all`, from its start, its end, or `commit_position` (inclusive).

        System (`$`-prefixed) and snapshot streams are left out; `filter` narrows further.
        Raises `GroupAlreadyExists`.
        """

    @abstractmethod
    def create_subscription_to_stream(
        self,
        group_name: str,
        stream_name: str,
        *,
        from_end: bool = False,
        stream_position: int | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        """Create a group on one stream, from its start, its end, or a revision (inclusive).

        The stream need not exist yet. Raises `GroupAlreadyExists`.
        """

    @abstractmethod
    def update_subscription_to_all(self, group_name: str, *, settings: GroupSettings) -> None:
        """Replace the settings of a group on `$all`; it goes on from where it is.

        Raises `GroupNotFound`.
        """

    @abstractmethod
    def update_subscription_to_stream(
        self, group_name: str, stream_name: str, *, settings: GroupSettings
    ) -> None:
        """Replace the settings of a group on a stream (see `update_subscription_to_all`)."""

    @abstractmethod
    def delete_subscription(self, group_name: str, stream_name: str | None = None) -> None:
        """Delete a group, its state and its parked stream; its consumers' iterations fail
        with `GroupNotFound`. Raises `GroupNotFound`."""

    @abstractmethod
    def get_subscription_info(self, group_name: str, stream_name: str | None = None) -> GroupInfo:
        """The group's definition and figures. Raises `GroupNotFound`."""

    @abstractmethod
    def list_subscriptions(self) -> Sequence[GroupInfo]:
        """Every group, on `$all` and on streams, ordered by source and name."""

    def read_subscription_to_all(
        self,
        group_name: str,
        *,
        event_buffer_size: int = DEFAULT_EVENT_BUFFER_SIZE,
        max_ack_batch_size: int = DEFAULT_MAX_ACK_BATCH_SIZE,
        max_ack_delay: float = DEFAULT_MAX_ACK_DELAY,
    ) -> GroupConsumer:
        """Join the group on `$all` as a new consumer holding up to `event_buffer_size` events.

        Raises `ValueError` for a buffer or ack batch size below 1 or a negative ack delay, then
        `GroupNotFound`, or `MaximumSubscribersReached`.
        """
        return self._join(
            group_name, None, ConsumerBatching(event_buffer_size, max_ack_batch_size, max_ack_delay)
        )

    def read_subscription_to_stream(
        self,
        group_name: str,
        stream_name: str,
        *,
        event_buffer_size: int = DEFAULT_EVENT_BUFFER_SIZE,
        max_ack_batch_size: int = DEFAULT_MAX_ACK_BATCH_SIZE,
        max_ack_delay: float = DEFAULT_MAX_ACK_DELAY,
    ) -> GroupConsumer:
        """Join the group on a stream as a new consumer (see `read_subscription_to_all`)."""
        return self._join(
            group_name,
            stream_name,
            ConsumerBatching(event_buffer_size, max_ack_batch_size, max_ack_delay),
        )

    @abstractmethod
    def _join(
        self, group_name: str, stream_name: str | None, batching: ConsumerBatching
    ) -> GroupConsumer:
        """A new consumer of the group on `stream_name` (None: `$all`)."""

    @abstractmethod
    def replay_parked_events(
        self, group_name: str, stream_name: str | None = None, *, stop_at: int | None = None
    ) -> None:
        """Give parked events back to the group, oldest first, all or the first `stop_at`.

        They are delivered before any new event, with a retry count of 0, and leave the
        parked stream (a stream read of it no longer shows them). Raises `GroupNotFound`.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop every consumer opened here and release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
