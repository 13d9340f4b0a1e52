"""The EventStoreDB adapter: our event store port over esdbclient's gRPC client."""

from write_side.eventstore.esdb.store import EsdbEventStore

__all__ = ["EsdbEventStore"]
