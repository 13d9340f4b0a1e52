"""Business time for a simulation: each simulated person acts on a timeline of their own."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class ActorClock:
    """The domain clock of the simulation: a business time that each thread sets.

    `ManualClock` only moves forward; here the time goes back and forth as people take turns:
    one buyer's evening visit, then another's morning one, each on a timeline of its own. The
    simulation sets the time before it acts for someone (`set`) and moves it on between that
    person's commands (`advance`), so the `occurred_at` of every event follows from that
    person's script alone, never from who acted before. The time is kept per thread, so
    threads acting at once never see each other's.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._local = threading.local()

    def now(self) -> datetime:
        """The calling thread's business time (the start until it sets one)."""
        found: datetime | None = getattr(self._local, "now", None)
        return self._start if found is None else found

    def set(self, at: datetime) -> None:
        """Set the calling thread's business time (it may go back: another person's turn)."""
        if at.tzinfo is None:
            raise ValueError("a business time must be timezone-aware")
        self._local.now = at.astimezone(UTC)

    def advance(self, by: timedelta) -> datetime:
        """Move the calling thread's time forward by `by`; returns the new time."""
        if by < timedelta(0):
            raise ValueError("a clock does not go back by advancing")
        moved = self.now() + by
        self._local.now = moved
        return moved
