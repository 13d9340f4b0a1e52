"""Integration tests may run against the EventStoreDB test server (tests/esdb_server)."""

from tests.esdb_server.fixtures import fresh_esdb_server

__all__ = ["fresh_esdb_server"]
