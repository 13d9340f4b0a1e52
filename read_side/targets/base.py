"""The target port: where a read model lives, with its checkpoint in the same transaction.

Every target keeps the same bookkeeping beside the read model, in the same store, so that a
batch, its checkpoint, and any event parked as a dead letter commit (or roll back) together:

- the checkpoint of each build of each projection (`position`, and `recorded_at` of the last
  event handled, for lag in seconds);
- dead letters (events a projection could not apply);
- which build of a projection is live (queries read it through a stable view);
- leases (which process runs a projection) and the status it last reported.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far one build of a projection has got: the last position it has fully handled."""

    position: int
    recorded_at: datetime | None = None
    """When the last event it handled was recorded (None before the first)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event a projection could not apply, parked so the projection could go on."""

    projection: str
    build: int
    event_id: UUID
    position: int
    stream: str
    event_type: str
    error: str
    traceback: str
    attempts: int
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class Lease:
    """Who runs a projection, until when, and the status it last reported."""

    projection: str
    holder: str
    expires_at: datetime
    status: dict[str, Any] = field(default_factory=dict)


class Effects:
    """Where a projection with side effects sends them; a rebuild replaces it with a silent one."""

    silent: ClassVar[bool] = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, kind: str, payload: Any) -> None:
        """Queue a side effect; it is carried out only if the batch commits."""
        self.sent.append((kind, payload))


class SilentEffects(Effects):
    """Side effects of a rebuild: counted, never carried out."""

    silent = True


class TargetTx(ABC):
    """One transaction of a target: the read model's change and the bookkeeping commit together."""

    effects: Effects

    @abstractmethod
    def table(self, projection: str, build: int, suffix: str = "") -> str:
        """The physical name of a build's table: `<projection>_v<build>[_<suffix>]`."""

    @abstractmethod
    def checkpoint(self, projection: str, build: int) -> Checkpoint | None:
        """The stored checkpoint of a build, None before the build was created."""

    @abstractmethod
    def save_checkpoint(self, projection: str, build: int, checkpoint: Checkpoint) -> None:
        """Store the checkpoint; it only ever moves forward (a smaller one is an error)."""

    @abstractmethod
    def park(self, letter: DeadLetter) -> None:
        """Record a dead letter."""

    @abstractmethod
    def dead_letters(self, projection: str | None = None) -> list[DeadLetter]:
        """Parked events, oldest first (of one projection, or all)."""

    @abstractmethod
    def discard(self, projection: str, event_id: UUID) -> bool:
        """Remove a dead letter; False when there was none."""

    @abstractmethod
    def live_build(self, projection: str) -> int | None:
        """The build queries read, None before the first switch."""

    @abstractmethod
    def switch(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        """Make `build` live: point the pointer and the stable views at its tables."""

    @abstractmethod
    def drop_build(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        """Drop a build's tables and bookkeeping (never the live one)."""

    @abstractmethod
    def builds(self, projection: str) -> list[int]:
        """Every build that has a checkpoint, in order."""

    @abstractmethod
    def fence(self, projection: str, holder: str, *, ttl_s: float) -> bool:
        """Renew `holder`'s unexpired lease inside this transaction; False if it is not held.

        A runner calls it in every batch's transaction, so a holder that stalled past its
        lease (and was replaced) cannot commit a batch its successor has applied already.
        """


class Target(ABC):
    """A store for read models (SQL, DuckDB, memory) with transactions that include bookkeeping."""

    kind: ClassVar[str]

    @abstractmethod
    def transaction(self, *, effects: Effects | None = None) -> AbstractContextManager[TargetTx]:
        """A transaction: committed when the block ends normally, rolled back on an exception."""

    @abstractmethod
    def acquire_lease(self, projection: str, holder: str, *, ttl_s: float) -> Lease | None:
        """Take or renew the lease of `projection`; None while another live holder has it."""

    @abstractmethod
    def report(self, projection: str, holder: str, status: dict[str, Any]) -> None:
        """Store the holder's latest status beside its lease (for `projections status`)."""

    @abstractmethod
    def release_lease(self, projection: str, holder: str) -> None:
        """Give the lease up (on a clean stop), so another worker takes over at once."""

    @abstractmethod
    def leases(self) -> list[Lease]:
        """Every lease with its last reported status."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


def iter_suffixes(suffixes: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Pairs of (suffix, `_suffix` or "") for building table and view names."""
    for suffix in suffixes:
        yield suffix, f"_{suffix}" if suffix else ""
