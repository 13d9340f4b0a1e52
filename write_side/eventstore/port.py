"""The event store port: EventStoreDB's semantics, as every adapter must honour them.

The rules each method states are checked for every adapter by `tests/contracts/`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Self

from write_side.eventstore.model import (
    Capability,
    CaughtUp,
    Checkpoint,
    EventFilter,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamMetadata,
)

SubscriptionItem = RecordedEvent | Checkpoint | CaughtUp


class Subscription(ABC):
    """A catch-up subscription: history first, then the live tail, until stopped.

    Iterate it for `RecordedEvent`s (and `Checkpoint` / `CaughtUp` items when asked for).
    `stop()` may be called from any thread; the iterator then ends.
    """

    @abstractmethod
    def __next__(self) -> SubscriptionItem:
        """The next item, waiting for the live tail when history is exhausted."""

    def __iter__(self) -> Iterator[SubscriptionItem]:
        return self

    @abstractmethod
    def stop(self) -> None:
        """End the subscription; a blocked `__next__` returns promptly with StopIteration."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EventStore(ABC):
    """Streams of events with optimistic concurrency, a global `$all` order and subscriptions."""

    #: What this adapter guarantees beyond the port's rules.
    capabilities: frozenset[Capability] = frozenset()

    @abstractmethod
    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        """Append `events` atomically and return the commit position of the last one.

        Raises `WrongExpectedVersion` (writing nothing) when the stream is not at
        `expected_version`. Appending the same event ids again with the same expected version
        writes nothing and returns the first append's position. Raises `StreamDeleted` on a
        tombstoned stream. An append to a soft-deleted stream re-opens it.
        """

    @abstractmethod
    def read_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """The stream's visible events from `from_revision` (inclusive; None: first or last).

        Events hidden by the stream's metadata (`$maxCount`, `$maxAge`, `$tb`) are left out.
        Raises `StreamNotFound` (never written, or soft-deleted) or `StreamDeleted`.
        """

    @abstractmethod
    def read_all(
        self,
        *,
        from_position: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
        filter: EventFilter | None = None,
        include_system: bool = False,
    ) -> Iterator[RecordedEvent]:
        """Events of every stream in commit order, from `from_position` (inclusive).

        System (`$`-prefixed) and snapshot streams are left out unless `include_system`.
        Metadata, truncation and soft deletes do not hide events here.
        """

    def read_all_after(
        self,
        position: int | None,
        *,
        filter: EventFilter | None = None,
        include_system: bool = False,
    ) -> Iterator[RecordedEvent]:
        """Events of `$all` strictly after `position` (None or 0: from the start).

        The form a consumer with a checkpoint wants. Positions are not contiguous, and
        EventStoreDB reads only from an exact event position, so this reads from `position`
        itself and skips it, never from `position + 1`.
        """
        for event in self.read_all(
            from_position=position or None, filter=filter, include_system=include_system
        ):
            if position is None or event.position > position:
                yield event

    @abstractmethod
    def get_stream_metadata(self, stream: str) -> tuple[StreamMetadata, int | None]:
        """The stream's metadata and the metadata's own version (None when never set)."""

    @abstractmethod
    def set_stream_metadata(
        self, stream: str, metadata: StreamMetadata, *, expected_version: ExpectedVersion
    ) -> int:
        """Replace the stream's metadata; `expected_version` is the metadata's own version."""

    @abstractmethod
    def delete_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        """Soft-delete: the stream reads as not found until an append re-opens it.

        Revisions continue after the last one; the old events stay hidden from stream reads.
        """

    @abstractmethod
    def tombstone_stream(self, stream: str, *, expected_version: ExpectedVersion) -> None:
        """Hard-delete: the stream can never be read, written or re-created again."""

    @abstractmethod
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
        """Follow `$all` from just *after* `from_position` (None: the start; or from the end)."""

    @abstractmethod
    def subscribe_to_stream(
        self,
        stream: str,
        *,
        from_revision: int | None = None,
        from_end: bool = False,
        include_caught_up: bool = False,
    ) -> Subscription:
        """Follow one stream from just *after* `from_revision` (None: the start; or the end)."""

    def head_position(self, filter: EventFilter | None = None) -> int | None:
        """Position of the last event (matching `filter`, system streams left out), or None."""
        last = next(self.read_all(backwards=True, limit=1, filter=filter), None)
        return None if last is None else last.position

    @abstractmethod
    def close(self) -> None:
        """Release connections and threads; live subscriptions end."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
