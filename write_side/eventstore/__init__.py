"""The event store port, its value types and errors; adapters live in subpackages."""

from write_side.eventstore.errors import (
    EventStoreClosed,
    EventStoreError,
    EventStoreUnavailable,
    InvalidStreamName,
    StreamDeleted,
    StreamNotFound,
    WrongExpectedVersion,
)
from write_side.eventstore.model import (
    DELETED_TRUNCATE_BEFORE,
    SNAPSHOT_STREAM_PREFIX,
    Capability,
    CaughtUp,
    Checkpoint,
    EventFilter,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamMetadata,
    StreamState,
)
from write_side.eventstore.port import EventStore, Subscription, SubscriptionItem

__all__ = [
    "DELETED_TRUNCATE_BEFORE",
    "SNAPSHOT_STREAM_PREFIX",
    "Capability",
    "CaughtUp",
    "Checkpoint",
    "EventFilter",
    "EventStore",
    "EventStoreClosed",
    "EventStoreError",
    "EventStoreUnavailable",
    "ExpectedVersion",
    "InvalidStreamName",
    "NewEvent",
    "RecordedEvent",
    "StreamDeleted",
    "StreamMetadata",
    "StreamNotFound",
    "StreamState",
    "Subscription",
    "SubscriptionItem",
    "WrongExpectedVersion",
]
