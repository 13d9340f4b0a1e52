"""The event envelope: typed domain events, their metadata, versions and JSON form."""

from write_side.envelope.errors import (
    EnvelopeError,
    EventDecodeError,
    EventRegistryError,
    MissingUpcasterError,
)
from write_side.envelope.events import DomainEvent, UnknownEvent
from write_side.envelope.fields import Money, UtcDateTime
from write_side.envelope.metadata import Cause, EventMetadata
from write_side.envelope.registry import JSON_CONTENT_TYPE, EventRegistry, Upcaster
from write_side.envelope.stored import StoredEvent

__all__ = [
    "JSON_CONTENT_TYPE",
    "Cause",
    "DomainEvent",
    "EnvelopeError",
    "EventDecodeError",
    "EventMetadata",
    "EventRegistry",
    "EventRegistryError",
    "MissingUpcasterError",
    "Money",
    "StoredEvent",
    "UnknownEvent",
    "Upcaster",
    "UtcDateTime",
]
