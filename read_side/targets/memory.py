"""`MemoryTarget`: read models in Python dicts, for tests; same bookkeeping and atomicity.

A transaction works on a deep copy of everything and swaps it in on commit, so a failed batch
leaves no trace, as in the real stores.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from read_side.targets.base import (
    Checkpoint,
    DeadLetter,
    Effects,
    Lease,
    Target,
    TargetTx,
    iter_suffixes,
)
from read_side.targets.errors import CheckpointMovedBack


@dataclass
class _State:
    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    checkpoints: dict[tuple[str, int], Checkpoint] = field(default_factory=dict)
    dead_letters: dict[tuple[str, UUID], DeadLetter] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)


class MemoryTx(TargetTx):
    """A transaction over a private copy of the target's state."""

    def __init__(self, state: _State, effects: Effects, target: MemoryTarget) -> None:
        self.state = state
        self.effects = effects
        self._target = target

    def table(self, projection: str, build: int, suffix: str = "") -> str:
        return f"{projection}_v{build}{f'_{suffix}' if suffix else ''}"

    def rows(self, name: str) -> dict[Any, Any]:
        """A table (created on first use): a dict from key to row."""
        return self.state.tables.setdefault(name, {})

    def checkpoint(self, projection: str, build: int) -> Checkpoint | None:
        return self.state.checkpoints.get((projection, build))

    def save_checkpoint(self, projection: str, build: int, checkpoint: Checkpoint) -> None:
        stored = self.state.checkpoints.get((projection, build))
        if stored is not None and checkpoint.position < stored.position:
            raise CheckpointMovedBack(projection, build, stored.position, checkpoint.position)
        self.state.checkpoints[(projection, build)] = checkpoint

    def park(self, letter: DeadLetter) -> None:
        self.state.dead_letters[(letter.projection, letter.event_id)] = letter

    def dead_letters(self, projection: str | None = None) -> list[DeadLetter]:
        found = [d for d in self.state.dead_letters.values() if projection in (None, d.projection)]
        return sorted(found, key=lambda d: d.position)

    def discard(self, projection: str, event_id: UUID) -> bool:
        return self.state.dead_letters.pop((projection, event_id), None) is not None

    def live_build(self, projection: str) -> int | None:
        return self.state.live.get(projection)

    def switch(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        for suffix, tail in iter_suffixes(suffixes):
            self.state.views[f"{projection}{tail}"] = self.table(projection, build, suffix)
        self.state.live[projection] = build

    def drop_build(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        if self.state.live.get(projection) == build:
            raise ValueError(f"build {build} of {projection} is live; switch away from it first")
        for suffix, _ in iter_suffixes(suffixes):
            self.state.tables.pop(self.table(projection, build, suffix), None)
        self.state.checkpoints.pop((projection, build), None)

    def builds(self, projection: str) -> list[int]:
        return sorted(b for (p, b) in self.state.checkpoints if p == projection)

    def fence(self, projection: str, holder: str, *, ttl_s: float) -> bool:
        return self._target.renew_if_held(projection, holder, ttl_s=ttl_s)

    def view(self, name: str) -> dict[Any, Any]:
        """The rows behind a stable view (what queries read)."""
        return self.state.tables.get(self.state.views.get(name, ""), {})


class MemoryTarget(Target):
    """Read models in memory: one process, gone when it ends."""

    kind: ClassVar[str] = "memory"

    def __init__(self, clock: Any = None) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._leases: dict[str, Lease] = {}
        self._clock = clock or (lambda: datetime.now(UTC))

    @contextmanager
    def transaction(self, *, effects: Effects | None = None) -> Iterator[MemoryTx]:
        with self._lock:
            tx = MemoryTx(copy.deepcopy(self._state), effects or Effects(), self)
            yield tx
            self._state = tx.state

    def snapshot(self) -> MemoryTx:
        """A read-only look at the committed state (a copy)."""
        with self._lock:
            return MemoryTx(copy.deepcopy(self._state), Effects(), self)

    def acquire_lease(self, projection: str, holder: str, *, ttl_s: float) -> Lease | None:
        with self._lock:
            now = self._clock()
            lease = self._leases.get(projection)
            if lease is not None and lease.holder != holder and lease.expires_at > now:
                return None
            status = lease.status if lease is not None and lease.holder == holder else {}
            lease = Lease(projection, holder, now + timedelta(seconds=ttl_s), status)
            self._leases[projection] = lease
            return lease

    def renew_if_held(self, projection: str, holder: str, *, ttl_s: float) -> bool:
        """Extend `holder`'s lease if it still holds it, unexpired."""
        with self._lock:
            now = self._clock()
            lease = self._leases.get(projection)
            if lease is None or lease.holder != holder or lease.expires_at <= now:
                return False
            self._leases[projection] = Lease(
                projection, holder, now + timedelta(seconds=ttl_s), lease.status
            )
            return True

    def report(self, projection: str, holder: str, status: dict[str, Any]) -> None:
        with self._lock:
            lease = self._leases.get(projection)
            if lease is not None and lease.holder == holder:
                self._leases[projection] = Lease(projection, holder, lease.expires_at, status)

    def release_lease(self, projection: str, holder: str) -> None:
        with self._lock:
            lease = self._leases.get(projection)
            if lease is not None and lease.holder == holder:
                del self._leases[projection]

    def leases(self) -> list[Lease]:
        with self._lock:
            return list(self._leases.values())

    def close(self) -> None:
        return None
