"""A recorded event seen through the registry: the envelope at once, the JSON on first use."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING
from uuid import UUID

from pydantic import ValidationError

from write_side.envelope.errors import EventDecodeError, summarize_validation_error
from write_side.envelope.events import DomainEvent, UnknownEvent
from write_side.envelope.metadata import EventMetadata
from write_side.eventstore import RecordedEvent

if TYPE_CHECKING:
    from write_side.envelope.registry import EventRegistry


class _Pending(Enum):
    PENDING = "pending"


_PENDING = _Pending.PENDING


class StoredEvent:
    """A recorded event whose metadata and data are decoded lazily, once, on first access.

    A reader that only needs the envelope (id, type, stream, revision, position, recorded_at)
    never pays for JSON. Two threads touching a fresh instance may both decode it; they get
    equal values.
    """

    __slots__ = ("_event", "_metadata", "_recorded", "_registry")

    _recorded: RecordedEvent
    _registry: EventRegistry
    _metadata: EventMetadata | _Pending | None
    _event: DomainEvent | UnknownEvent | None

    def __init__(self, recorded: RecordedEvent, registry: EventRegistry) -> None:
        self._recorded = recorded
        self._registry = registry
        self._metadata = _PENDING
        self._event = None

    @property
    def recorded(self) -> RecordedEvent:
        """The event as the store returned it."""
        return self._recorded

    @property
    def id(self) -> UUID:
        """The event id."""
        return self._recorded.id

    @property
    def type(self) -> str:
        """The event type name."""
        return self._recorded.type

    @property
    def stream(self) -> str:
        """The stream the event belongs to."""
        return self._recorded.stream

    @property
    def revision(self) -> int:
        """The event's revision in its stream."""
        return self._recorded.revision

    @property
    def position(self) -> int:
        """The event's commit position in `$all`."""
        return self._recorded.position

    @property
    def recorded_at(self) -> datetime:
        """When the store recorded the event."""
        return self._recorded.recorded_at

    @property
    def is_known(self) -> bool:
        """Whether the registry knows this event type (no decoding needed to tell)."""
        return self._recorded.type in self._registry

    @property
    def metadata(self) -> EventMetadata | None:
        """Our metadata, or None when the event carries none or someone else's.

        Raises `EventDecodeError` when the metadata is ours but invalid.
        """
        if self._metadata is _PENDING:
            try:
                self._metadata = EventMetadata.from_json(self._recorded.metadata)
            except ValidationError as exc:
                reason = f"invalid metadata: {summarize_validation_error(exc)}"
                raise EventDecodeError(self._recorded, reason) from exc
        return self._metadata

    @property
    def event(self) -> DomainEvent | UnknownEvent:
        """The typed event, upcast to its current version; an `UnknownEvent` for unknown types.

        Raises `EventDecodeError` when the data of a known type cannot be decoded.
        """
        if self._event is None:
            # The metadata of an unknown type is left alone: it may not be ours to parse.
            metadata = self.metadata if self.is_known else None
            version = None if metadata is None else metadata.schema_version
            self._event = self._registry.decode_data(self._recorded, schema_version=version)
        return self._event

    def __repr__(self) -> str:
        return (
            f"StoredEvent(id={self.id}, type={self.type!r}, stream={self.stream!r}, "
            f"revision={self.revision}, position={self.position})"
        )
