"""The domain's clock: business time (`occurred_at`), set by the platform, simulated in tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the business time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: for tests and the traffic simulator."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time the clock was last set to."""
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by`; returns the new time."""
        if by < timedelta(0):
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += by
            return self._now
