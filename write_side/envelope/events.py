"""The base of typed domain events, and the stand-in for events of types we do not know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """Base of every typed domain event: an immutable fact, registered with a name and version.

    `event_type` and `schema_version` are set by `EventRegistry.event` when the class is
    registered.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event of a type the registry does not know, kept raw so that readers can skip it.

    `data` is the decoded JSON object when the data is one, else the stored bytes.
    """

    type: str
    data: dict[str, Any] | bytes
