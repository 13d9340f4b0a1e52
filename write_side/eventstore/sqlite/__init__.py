"""The embedded event store adapter: one SQLite file (or memory), EventStoreDB semantics."""

from write_side.eventstore.sqlite.store import SqliteEventStore

__all__ = ["SqliteEventStore"]
