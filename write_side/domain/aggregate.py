"""Aggregates: state rebuilt from a stream's events, deciding new events from commands.

An aggregate holds no I/O. Its methods take a command and return the events it decides (or
raise a `DomainError`); methods marked `@applies(EventType)` evolve the state by one event.
The repository loads, saves and snapshots aggregates; an aggregate is a pydantic model so a
snapshot is its JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from write_side.envelope import DomainEvent

F = TypeVar("F", bound=Callable[..., None])


def applies(*event_types: type[DomainEvent]) -> Callable[[F], F]:
    """Mark an aggregate method as the way it evolves on each of `event_types`."""

    def mark(method: F) -> F:
        method.__applies__ = event_types  # type: ignore[attr-defined]
        return method

    return mark


class Handled(BaseModel):
    """Where a command's events landed: answered again when the command comes back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: int
    position: int


class Aggregate(BaseModel):
    """Base of every aggregate: its id, the last revision applied and the commands handled.

    Subclasses name their stream `category` and may ask for a snapshot every
    `snapshot_every` events (bump `snapshot_version` when the state's shape changes: older
    snapshots are then ignored and the stream replayed).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    category: ClassVar[str]
    snapshot_every: ClassVar[int | None] = None
    snapshot_version: ClassVar[int] = 1
    #: How many command ids an aggregate remembers (the newest), snapshots included.
    remembered_commands: ClassVar[int] = 1000
    _appliers: ClassVar[dict[type[DomainEvent], Callable[[Any, Any], None]]] = {}

    id: UUID
    version: int = -1
    handled: dict[UUID, Handled] = Field(default_factory=dict)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        appliers = dict(cls._appliers)
        for value in vars(cls).values():
            for event_type in getattr(value, "__applies__", ()):
                appliers[event_type] = value
        cls._appliers = appliers

    @classmethod
    def stream_for(cls, id: UUID) -> str:
        """The stream of the aggregate with this id: `<category>-<id>`."""
        return f"{cls.category}-{id}"

    @property
    def stream(self) -> str:
        """This aggregate's stream."""
        return self.stream_for(self.id)

    @property
    def exists(self) -> bool:
        """True once the aggregate has at least one event."""
        return self.version >= 0

    def apply(self, event: DomainEvent) -> None:
        """Evolve by one event (of this stream, already decrypted)."""
        applier = self._appliers.get(type(event))
        if applier is None:
            raise TypeError(f"{type(self).__name__} has no way to apply {type(event).__name__}")
        applier(self, event)

    def remember(self, command_id: UUID, revision: int, position: int) -> None:
        """Record that `command_id` ended at this revision and position (oldest forgotten)."""
        self.handled.pop(command_id, None)
        self.handled[command_id] = Handled(revision=revision, position=position)
        while len(self.handled) > self.remembered_commands:
            del self.handled[next(iter(self.handled))]
