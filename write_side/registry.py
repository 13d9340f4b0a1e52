"""The platform's one event registry: every bounded context registers its events here."""

from __future__ import annotations

from write_side.envelope import EventRegistry

#: Every domain event class of the platform, by type name and schema version.
REGISTRY = EventRegistry()
