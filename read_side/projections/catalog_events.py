"""What the catalog and rating projections share: decoding a batch, ids from stream names, and
the dialect-neutral SQL pieces (an upsert-capable INSERT)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from write_side.envelope import DomainEvent
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.registry import REGISTRY


@dataclass(frozen=True, slots=True)
class Decoded:
    """One event of a batch, decoded, with what every projection here needs beside it."""

    event: DomainEvent
    stream_id: UUID | None
    """The id in the stream's name (`book-{id}` -> id); None when the name holds none."""
    revision: int
    """The event's revision in its stream (the stream's version once the event is applied)."""
    position: int
    occurred_at: datetime
    """Business time from the metadata (the store's time for events written without it)."""


def stream_id(stream: str) -> UUID | None:
    """The UUID after the first dash of a stream name, or None."""
    _, _, rest = stream.partition("-")
    try:
        return UUID(rest)
    except ValueError:
        return None


def decode(events: Sequence[RecordedEvent]) -> Iterator[Decoded]:
    """The known events of a batch, in order (unknown types are skipped)."""
    for recorded in events:
        stored = REGISTRY.decode(recorded)
        event = stored.event
        if not isinstance(event, DomainEvent):
            continue
        metadata = stored.metadata
        yield Decoded(
            event=event,
            stream_id=stream_id(recorded.stream),
            revision=recorded.revision,
            position=recorded.position,
            occurred_at=recorded.recorded_at if metadata is None else metadata.occurred_at,
        )


def of_types(*classes: type[DomainEvent]) -> EventFilter:
    """A server-side filter for exactly these event types."""
    return EventFilter.event_types(*(cls.event_type for cls in classes))


def to_cents(amount: Decimal) -> int:
    """Money (2 places) as whole cents, exact on every store."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_cents(cents: int) -> Decimal:
    """Whole cents back as money with 2 places."""
    return Decimal(cents).scaleb(-2)


def name_key(name: str) -> str:
    """The key names sort by: case-folded, compared byte-wise on both stores."""
    return name.casefold()
