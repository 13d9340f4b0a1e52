"""What a projection runner reports: state, checkpoint, lag, rate, parked events, last error."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class RunnerState(StrEnum):
    """Where a runner is in its life."""

    STARTING = "starting"
    WAITING = "waiting for lease"
    CATCHING_UP = "catching up"
    LIVE = "live"
    REBUILDING = "rebuilding"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True)
class ProjectionStatus:
    """A runner's figures at one moment (also stored beside its lease as JSON)."""

    projection: str
    build: int
    state: RunnerState
    checkpoint: int
    head: int | None
    lag_events: int | None
    lag_seconds: float | None
    events_per_s: float
    handled: int
    parked: int
    last_error: str | None
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["state"] = self.state.value
        out["updated_at"] = self.updated_at.isoformat()
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProjectionStatus:
        """Read back what `to_json` wrote."""
        values = dict(raw)
        values["state"] = RunnerState(values["state"])
        values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        return cls(**values)


class RateMeter:
    """Events handled per second over a sliding window (the last minute by default)."""

    def __init__(self, window_s: float = 60.0) -> None:
        self._window_s = window_s
        self._marks: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """Count `count` events handled now."""
        now = time.monotonic()
        with self._lock:
            self._marks.append((now, count))
            self._trim(now)

    def per_second(self) -> float:
        """The rate over the window (or over the time since the first mark, if shorter)."""
        now = time.monotonic()
        with self._lock:
            self._trim(now)
            if not self._marks:
                return 0.0
            span = max(now - self._marks[0][0], 1.0)
            return sum(count for _, count in self._marks) / span

    def _trim(self, now: float) -> None:
        while self._marks and now - self._marks[0][0] > self._window_s:
            self._marks.popleft()


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
