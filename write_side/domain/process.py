"""Process managers: react to events with commands, at least once, idempotently."""

from __future__ import annotations

from typing import Protocol

from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter


class ProcessManager(Protocol):
    """A reaction to events: its group's `name`, the `filter` of events it wants, `handle`.

    `handle` must be safe to call twice for one event (delivery is at least once): commands
    with ids derived from the event's id are answered once by the repository; other effects
    go through an inbox. Raising asks for the event again later.
    """

    @property
    def name(self) -> str:
        """Its subscription group's name (snake_case)."""
        ...

    @property
    def filter(self) -> EventFilter:
        """The events of `$all` it reacts to."""
        ...

    def handle(self, stored: StoredEvent) -> object:
        """React to one event; idempotent; raise to have the event retried."""
        ...
