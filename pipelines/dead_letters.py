"""Dead letters after the fact: list, replay (after a fix) and discard parked events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from read_side.projection import Projection
from read_side.targets import DeadLetter, Target
from write_side.eventstore import EventStore, RecordedEvent


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay did: the events applied (and so removed) and those that failed again."""

    replayed: list[DeadLetter]
    failed: list[tuple[DeadLetter, str]]


def list_dead_letters(target: Target, projection: str | None = None) -> list[DeadLetter]:
    """Parked events, oldest first."""
    with target.transaction() as tx:
        return tx.dead_letters(projection)


def replay(
    store: EventStore,
    projection: Projection,  # type: ignore[type-arg]
    target: Target,
    *,
    event_ids: Sequence[UUID] | None = None,
) -> ReplayOutcome:
    """Apply parked events again, oldest first; each success leaves the dead-letter list.

    Each event is re-read from the store (the letter keeps only where it was) and applied in a
    transaction that also removes its letter, so a replay is never applied twice.
    """
    wanted = None if event_ids is None else set(event_ids)
    outcome = ReplayOutcome([], [])
    for letter in list_dead_letters(target, projection.name):
        if wanted is not None and letter.event_id not in wanted:
            continue
        event = _fetch(store, letter)
        try:
            with target.transaction() as tx:
                projection.apply([event], tx, letter.build)
                tx.discard(letter.projection, letter.event_id)
        except Exception as error:
            outcome.failed.append((letter, repr(error)))
        else:
            outcome.replayed.append(letter)
    return outcome


def discard(target: Target, projection: str, event_ids: Sequence[UUID] | None = None) -> int:
    """Remove dead letters for good (all of a projection's, or these); return how many."""
    with target.transaction() as tx:
        letters = tx.dead_letters(projection)
        chosen = [d for d in letters if event_ids is None or d.event_id in set(event_ids)]
        return sum(tx.discard(projection, d.event_id) for d in chosen)


def _fetch(store: EventStore, letter: DeadLetter) -> RecordedEvent:
    found = next(store.read_all(from_position=letter.position, limit=1, include_system=True), None)
    if found is None or found.id != letter.event_id:
        raise LookupError(
            f"parked event {letter.event_id} is no longer at position {letter.position}"
        )
    return found
