"""Event metadata: where an event came from, what caused it, and when it happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field

from write_side.envelope.fields import UtcDateTime
from write_side.ids import new_id


class Cause(Protocol):
    """What a follow-up event needs to know of the event that caused it (a `StoredEvent`)."""

    @property
    def id(self) -> UUID:
        """The causing event's id."""
        ...

    @property
    def metadata(self) -> EventMetadata | None:
        """The causing event's metadata, or None when it was not written by us."""
        ...


class EventMetadata(BaseModel):
    """The metadata we write with every event, as JSON beside its data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: UUID
    causation_id: UUID | None = None
    command_id: UUID | None = None
    actor: str | None = None
    #: Business time, from the domain's clock; the store's `recorded_at` is the other clock.
    occurred_at: UtcDateTime
    #: Set by the registry on write to the event class's version; on read, the version written.
    schema_version: int = Field(default=1, ge=1)

    @classmethod
    def new_correlation(
        cls, *, occurred_at: datetime, command_id: UUID | None = None, actor: str | None = None
    ) -> EventMetadata:
        """Metadata that starts a new correlation, for events of a command that begins a flow.

        The command id doubles as the correlation id, so a retried command writes the same
        metadata; without a command a fresh id starts the correlation.
        """
        return cls(
            correlation_id=new_id() if command_id is None else command_id,
            causation_id=command_id,
            command_id=command_id,
            actor=actor,
            occurred_at=occurred_at,
        )

    @classmethod
    def caused_by(
        cls,
        cause: Cause,
        *,
        occurred_at: datetime,
        command_id: UUID | None = None,
        actor: str | None = None,
    ) -> EventMetadata:
        """Metadata for an event caused by `cause`: same correlation, caused by its event id.

        A cause without our metadata starts the correlation itself.
        """
        cause_metadata = cause.metadata
        return cls(
            correlation_id=cause.id if cause_metadata is None else cause_metadata.correlation_id,
            causation_id=cause.id,
            command_id=command_id,
            actor=actor,
            occurred_at=occurred_at,
        )

    def to_json(self) -> bytes:
        """The JSON we store, plus EventStoreDB's `$correlationId` / `$causationId` keys.

        The `$` keys are what EventStoreDB's system projections (`$by_correlation_id`) read.
        """
        body: dict[str, Any] = self.model_dump(mode="json")
        body["$correlationId"] = body["correlation_id"]
        if self.causation_id is not None:
            body["$causationId"] = body["causation_id"]
        return orjson.dumps(body)

    @classmethod
    def from_json(cls, raw: bytes) -> EventMetadata | None:
        """Parse stored metadata; None when it is empty or not ours (no JSON object with our keys).

        Keys we do not know are ignored, so metadata written by a newer version still reads.
        Raises pydantic's `ValidationError` when it is ours but invalid.
        """
        if not raw:
            return None
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(parsed, dict) or "correlation_id" not in parsed:
            return None
        known = cls.model_fields
        return cls.model_validate({key: value for key, value in parsed.items() if key in known})
