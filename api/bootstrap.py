"""The composition root: the one place where settings become adapters."""

from __future__ import annotations

from api.settings import Settings
from write_side.eventstore import EventStore
from write_side.eventstore.factory import open_event_store


def event_store(settings: Settings) -> EventStore:
    """The event store the settings name (the embedded SQLite file by default)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_event_store(settings.event_store)
