"""The projection runtime's tests run on the embedded store and on the EventStoreDB adapter.

The adapter talks to a test server of the test's own (`tests/esdb_server`) over gRPC, so each
test sees the same empty history on both, and a read model built over either is compared as is.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.esdb_server.fixtures import fresh_esdb_server
from tests.esdb_server.server import EsdbTestServer
from write_side.eventstore import EventStore
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.sqlite import SqliteEventStore

__all__ = ["fresh_esdb_server", "store"]


@pytest.fixture(params=["sqlite_memory", "esdb_test_server"])
def store(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    """An empty store: the embedded one in memory, or the adapter on a fresh test server."""
    if request.param == "sqlite_memory":
        with SqliteEventStore() as memory_store:
            yield memory_store
        return
    server: EsdbTestServer = request.getfixturevalue("fresh_esdb_server")
    with EsdbEventStore(server.uri) as adapter:
        yield adapter
