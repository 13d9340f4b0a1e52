"""Reservation streams: uniqueness across aggregates without a read-model lookup.

A unique value (a category name, a reviewer of a book) is claimed by appending to the
stream `<kind>-<uuid5 of the normalised value>` with `NO_STREAM`: of two concurrent claims,
exactly one gets the stream. The reservation records its owner and the command, so a retry of
the same command (or the same owner asking again) finds its own claim and goes on. A release
makes the value free again; a sweeper releases claims whose owner never came to exist.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from write_side.domain.clock import Clock
from write_side.domain.commands import Command
from write_side.domain.errors import ConcurrencyConflict, DomainError
from write_side.envelope import DomainEvent, EventMetadata, EventRegistry, UtcDateTime
from write_side.eventstore import (
    EventFilter,
    EventStore,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)
from write_side.ids import BOOKWORM_NAMESPACE, derive_id
from write_side.registry import REGISTRY

_ATTEMPTS = 5


@REGISTRY.event("ReservationMade")
class ReservationMade(DomainEvent):
    """A unique value was claimed for `owner_stream` by a command."""

    kind: str
    key: str | None
    """The normalised value, or None when it is personal data (a reviewer's names)."""
    owner_id: UUID
    owner_stream: str
    command_id: UUID
    made_at: UtcDateTime


@REGISTRY.event("ReservationReleased")
class ReservationReleased(DomainEvent):
    """The value is free again."""

    owner_id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation stream's state: who holds the value now (None: free)."""

    stream: str
    revision: int
    holder: ReservationMade | None


#: Tells the sweeper whether a claim is still wanted (default: its owner stream exists).
StillWanted = Callable[[ReservationMade], bool]


def normalize(value: str) -> str:
    """The form uniqueness is judged on: NFKC, trimmed, inner spaces collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


class Reservations:
    """Claims and releases unique values on the event store."""

    def __init__(self, store: EventStore, registry: EventRegistry, clock: Clock) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock

    @staticmethod
    def stream(kind: str, value: str) -> str:
        """The reservation stream of `value` (its normalised form) for `kind`."""
        return f"{kind}-{derive_id(BOOKWORM_NAMESPACE, kind, normalize(value))}"

    def current(self, kind: str, value: str) -> Reservation:
        """Who holds `value` now."""
        stream = self.stream(kind, value)
        try:
            recorded = self.store.read_stream(stream, backwards=True, limit=1)
        except StreamNotFound:
            return Reservation(stream, -1, None)
        last = self.registry.decode(recorded[0])
        holder = last.event if isinstance(last.event, ReservationMade) else None
        return Reservation(stream, recorded[0].revision, holder)

    def reserve(
        self,
        kind: str,
        value: str,
        *,
        owner_id: UUID,
        owner_stream: str,
        command: Command,
        rule: str,
        field: str | None = None,
        personal: bool = False,
    ) -> None:
        """Claim `value` for the owner, or raise `DomainError(rule)` when another holds it.

        A `personal` value (a reviewer's names) is kept out of the reservation's event and out
        of the error's message, which reaches logs and answers.
        """
        shown = f"{kind} (a personal value)" if personal else f"{kind} {value!r}"
        for _ in range(_ATTEMPTS):
            found = self.current(kind, value)
            if found.holder is not None:
                if found.holder.owner_id == owner_id:
                    return  # our own claim: a retry, or the same owner asking again
                raise DomainError(rule, f"{shown} is taken", field=field)
            made = ReservationMade(
                kind=kind,
                key=None if personal else normalize(value),
                owner_id=owner_id,
                owner_stream=owner_stream,
                command_id=command.command_id,
                made_at=self.clock.now(),
            )
            expected = StreamState.NO_STREAM if found.revision < 0 else found.revision
            try:
                self._append(found.stream, made, command, expected)
                return
            except WrongExpectedVersion:
                continue  # someone claimed or released meanwhile: look again
        raise ConcurrencyConflict("concurrent_change", f"{shown} kept changing")

    def release(
        self, kind: str, value: str, *, owner_id: UUID, command: Command, reason: str
    ) -> bool:
        """Free `value` if `owner_id` holds it; False when it did not."""
        for _ in range(_ATTEMPTS):
            found = self.current(kind, value)
            if found.holder is None or found.holder.owner_id != owner_id:
                return False
            released = ReservationReleased(owner_id=owner_id, reason=reason)
            try:
                self._append(found.stream, released, command, found.revision)
                return True
            except WrongExpectedVersion:
                continue
        # The stream's name, a hash: the value may be personal data.
        raise ConcurrencyConflict("concurrent_change", f"{self.stream(kind, value)} kept changing")

    def sweep(
        self,
        *,
        older_than: timedelta,
        still_wanted: Mapping[str, StillWanted] | None = None,
        command: Command,
    ) -> int:
        """Release claims made before now - `older_than` that are no longer wanted.

        A claim is wanted while its owner stream exists, unless `still_wanted[kind]` says
        otherwise (for example: the category still bears that name). Returns how many were
        released.
        """
        cutoff: datetime = self.clock.now() - older_than
        checks = still_wanted or {}
        released = 0
        seen: set[str] = set()
        for recorded in self.store.read_all(filter=EventFilter.event_types("ReservationMade")):
            if recorded.stream in seen:
                continue
            seen.add(recorded.stream)
            current = self._current_of(recorded.stream)
            holder = current.holder
            if holder is None or holder.made_at > cutoff:
                continue
            wanted = checks.get(holder.kind, self._owner_exists)
            if wanted(holder):
                continue
            released_event = ReservationReleased(owner_id=holder.owner_id, reason="orphaned")
            try:
                self._append(current.stream, released_event, command, current.revision)
                released += 1
            except WrongExpectedVersion:
                continue  # it changed meanwhile: the next sweep looks again
        return released

    def _current_of(self, stream: str) -> Reservation:
        recorded = self.store.read_stream(stream, backwards=True, limit=1)
        last = self.registry.decode(recorded[0])
        holder = last.event if isinstance(last.event, ReservationMade) else None
        return Reservation(stream, recorded[0].revision, holder)

    def _owner_exists(self, holder: ReservationMade) -> bool:
        try:
            return bool(self.store.read_stream(holder.owner_stream, limit=1))
        except StreamNotFound:
            return False

    def _append(
        self, stream: str, event: DomainEvent, command: Command, expected: int | StreamState
    ) -> None:
        metadata = EventMetadata.new_correlation(
            occurred_at=self.clock.now(), command_id=command.command_id, actor=command.actor
        )
        if command.cause is not None:
            metadata = metadata.model_copy(
                update={
                    "correlation_id": command.cause.correlation_id,
                    "causation_id": command.cause.event_id,
                }
            )
        event_id = derive_id(command.command_id, stream, type(event).event_type)
        new = self.registry.to_new_event(event, metadata, event_id=event_id)
        self.store.append(stream, [new], expected_version=expected)


__all__ = [
    "Reservation",
    "ReservationMade",
    "ReservationReleased",
    "Reservations",
    "StillWanted",
    "normalize",
]
