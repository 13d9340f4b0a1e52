"""A projection: which events a read model handles, and how a batch of them changes it.

Projections are plain classes: they hold no connection and no position. The projection runtime
(`pipelines/`) feeds them batches in `$all` order and commits each batch's change together with
the new checkpoint in one transaction of the target, so a replayed batch (after a crash) is
never applied twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from read_side.targets.base import TargetTx
from write_side.eventstore import EventFilter, RecordedEvent

TxT = TypeVar("TxT", bound=TargetTx)


class Projection(ABC, Generic[TxT]):
    """A read model built from events; subclasses name it, filter its events and apply batches.

    `name` is snake_case and names everything about it: its tables (`<name>_v<N>`, behind a
    stable view `<name>`), its Dagster asset, its metrics and its API status. `handles` is one
    filter (event types or stream-name prefixes). A projection with `side_effects` (mails,
    messages) sends them through `tx.effects`, which a rebuild silences.
    """

    name: ClassVar[str]
    handles: ClassVar[EventFilter]
    target_kind: ClassVar[str]
    """Which kind of target it is written for: "sql", "duckdb" or "memory"."""
    side_effects: ClassVar[bool] = False

    @abstractmethod
    def create(self, tx: TxT, build: int) -> None:
        """Create the tables of `build`, named `tx.table(self.name, build, suffix)`; once."""

    @abstractmethod
    def apply(self, events: Sequence[RecordedEvent], tx: TxT, build: int) -> None:
        """Change the read model of `build` for `events` (in `$all` order) inside `tx`.

        Raise to refuse the batch: nothing of it is kept, and the runtime retries it event by
        event to find the one that fails (which it parks as a dead letter).
        """

    def carry_out(self, sent: list[tuple[str, Any]]) -> None:
        """Carry out the side effects a committed batch sent (never called in a rebuild)."""
        raise TypeError(f"{self.name} sent side effects but does not define carry_out")

    def tables(self) -> Sequence[str]:
        """Suffixes of this projection's tables ("" for the one named after the projection)."""
        return ("",)
