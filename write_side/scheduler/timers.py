"""Durable timers: a timer is scheduled and cancelled by events of its owner's stream, and
elapses as a `TimerElapsed` event appended to that stream at the due time.

A context declares which of its event types schedule a timer (they carry `timer_id` and
`due_at`) and which cancel one (they carry `timer_id`) in `TIMERS`; the projection `due_timers`
follows exactly those types and keeps the due-time table, and the timer service appends
`TimerElapsed` for each pending timer whose time has come. Delivery is at least once: the
elapsed event's id is derived from the timer id (a second append of it is recognised as a
repeat where the store can tell), and an owner ignores an elapsed timer it cancelled or has
already seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from write_side.envelope import DomainEvent, EventMetadata, EventRegistry, UtcDateTime
from write_side.eventstore import EventStore, StreamState
from write_side.ids import BOOKWORM_NAMESPACE, derive_id
from write_side.registry import REGISTRY

E = TypeVar("E", bound=DomainEvent)

#: Who appends elapsed timers (the events' `actor`).
TIMER_ACTOR = "system:timers"


@REGISTRY.event("TimerElapsed")
class TimerElapsed(DomainEvent):
    """Timer `timer_id` of this stream, due at `due_at`, has elapsed (at least once: an owner
    ignores one it cancelled or has already seen)."""

    timer_id: UUID
    due_at: UtcDateTime


class TimerEventKind(StrEnum):
    """What an event does to a timer."""

    SCHEDULES = "schedules"
    CANCELS = "cancels"
    ELAPSES = "elapses"


class TimerRegistry:
    """Which event types schedule and which cancel a timer; filled as contexts are imported.

    Use the methods as class decorators, above the event registry's:

        @TIMERS.schedules
        @REGISTRY.event("SagaTimeoutScheduled")
        class SagaTimeoutScheduled(DomainEvent):
            timer_id: UUID
            due_at: UtcDateTime
    """

    def __init__(self) -> None:
        self._kinds: dict[str, TimerEventKind] = {TimerElapsed.event_type: TimerEventKind.ELAPSES}

    def schedules(self, cls: type[E]) -> type[E]:
        """Declare `cls` (with fields `timer_id` and `due_at`) as scheduling a timer."""
        self._declare(cls, TimerEventKind.SCHEDULES, ("timer_id", "due_at"))
        return cls

    def cancels(self, cls: type[E]) -> type[E]:
        """Declare `cls` (with a field `timer_id`) as cancelling a timer."""
        self._declare(cls, TimerEventKind.CANCELS, ("timer_id",))
        return cls

    def kind_of(self, event_type: str) -> TimerEventKind | None:
        """What events of this type do to a timer (None: nothing)."""
        return self._kinds.get(event_type)

    def event_types(self) -> tuple[str, ...]:
        """Every event type that schedules, cancels or elapses a timer, sorted."""
        return tuple(sorted(self._kinds))

    def _declare(
        self, cls: type[DomainEvent], kind: TimerEventKind, fields: tuple[str, ...]
    ) -> None:
        name = vars(cls).get("event_type")
        if not isinstance(name, str):
            raise TypeError(f"{cls.__qualname__}: register the event before declaring its timer")
        missing = [field for field in fields if field not in cls.model_fields]
        if missing:
            raise TypeError(f"{name} {kind.value} a timer but has no field {', '.join(missing)}")
        known = self._kinds.get(name)
        if known is not None and known is not kind:
            raise ValueError(f"{name} is declared already: it {known.value} a timer")
        self._kinds[name] = kind


#: The platform's timer declarations (what the projection `due_timers` follows).
TIMERS = TimerRegistry()


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A pending timer of the due-time table: whose it is, when, and the flow it belongs to."""

    timer_id: UUID
    stream: str
    due_at: datetime
    scheduled_by: UUID
    """The id of the event that scheduled it (the elapsed event's causation)."""
    correlation_id: UUID


def timer_fields(event: DomainEvent) -> tuple[UUID, datetime | None]:
    """The `timer_id` of a timer event, and its `due_at` when it has one."""
    values: dict[str, Any] = dict(event)
    timer_id = values["timer_id"]
    if not isinstance(timer_id, UUID):
        raise TypeError(f"{type(event).event_type}.timer_id is not a UUID")
    due_at = values.get("due_at")
    return timer_id, due_at if isinstance(due_at, datetime) else None


def elapsed_event_id(timer_id: UUID) -> UUID:
    """The id of the `TimerElapsed` of a timer: the same however often it is appended."""
    return derive_id(BOOKWORM_NAMESPACE, "timer-elapsed", str(timer_id))


def append_elapsed(
    store: EventStore, due: DueTimer, *, now: datetime, registry: EventRegistry = REGISTRY
) -> int:
    """Append `TimerElapsed` for `due` to its owner's stream (which must exist); the position.

    The event joins the flow of the event that scheduled the timer; its business time is `now`.
    """
    metadata = EventMetadata(
        correlation_id=due.correlation_id,
        causation_id=due.scheduled_by,
        actor=TIMER_ACTOR,
        occurred_at=now,
    )
    event = TimerElapsed(timer_id=due.timer_id, due_at=due.due_at)
    new = registry.to_new_event(event, metadata, event_id=elapsed_event_id(due.timer_id))
    return store.append(due.stream, [new], expected_version=StreamState.STREAM_EXISTS)


__all__ = [
    "TIMERS",
    "TIMER_ACTOR",
    "DueTimer",
    "TimerElapsed",
    "TimerEventKind",
    "TimerRegistry",
    "append_elapsed",
    "elapsed_event_id",
    "timer_fields",
]
