"""Commands and what handling one answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from write_side.ids import new_id


class Cause(BaseModel):
    """The event a process manager's command answers: its id and its flow's correlation id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    correlation_id: UUID


class Command(BaseModel):
    """Base of every command: a validated request to change one aggregate.

    `command_id` is the idempotency key (the HTTP `Idempotency-Key` when there is one): a
    command that creates an aggregate derives the new id from it, and an aggregate that has
    handled it already answers the earlier result and writes nothing. `actor` is who asked
    (a user id, `admin`, `system:<process>`). A command sent by a process manager names its
    `cause`, so its events join the flow's correlation. `expected_version` carries `If-Match`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    #: Whether the repository may decide the command again after a concurrent change (a
    #: command whose decision must rest on exactly what its sender saw says False).
    retry_on_conflict: ClassVar[bool] = True

    command_id: UUID = Field(default_factory=new_id)
    actor: str | None = None
    cause: Cause | None = None
    expected_version: int | None = Field(default=None, ge=-1)
    """The aggregate's version the sender read (the HTTP `If-Match`): when it moved on, the
    command is refused as stale instead of decided again on a state the sender never saw."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a handled command did to its stream.

    `revision` is the stream's revision after it (the resource's ETag); `position` the commit
    position of the command's last event, which a query can wait for (read-your-writes),
    None when the command changed nothing and the stream is new. A repeated command answers
    its first result with `replayed` set and writes nothing.
    """

    stream: str
    aggregate_id: UUID
    revision: int
    position: int | None
    events: tuple[str, ...] = ()
    replayed: bool = False
