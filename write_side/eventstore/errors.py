"""The event store's own errors; every adapter translates its driver's errors into these."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class of every error raised through the event store port."""


class WrongExpectedVersion(EventStoreError):
    """An append or delete found the stream at another version than the caller expected.

    `actual_version` is the stream's last revision, or None when the stream does not exist
    (never written, or soft-deleted).
    """

    def __init__(self, stream: str, *, expected: object, actual_version: int | None) -> None:
        self.stream = stream
        self.expected = expected
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream!r}: expected version {expected}, actual version "
            f"{'no stream' if actual_version is None else actual_version}"
        )


class StreamNotFound(EventStoreError):
    """The stream was never written, or it was soft-deleted."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        super().__init__(f"stream {stream!r} not found")


class StreamDeleted(EventStoreError):
    """The stream was tombstoned (hard-deleted): it can never be read or written again."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        super().__init__(f"stream {stream!r} is tombstoned")


class InvalidStreamName(EventStoreError, ValueError):
    """A stream name the store will not accept (empty, or a system name where not allowed)."""


class EventStoreClosed(EventStoreError):
    """The store was closed; nothing more can be read or written through it."""


class EventStoreUnavailable(EventStoreError):
    """The backend cannot be reached or dropped the call; retrying later may succeed."""
