"""Pytest fixtures: a running test server (shared, fresh, or in another process) and its URI.

Import the ones you need into a `conftest.py` (`from tests.esdb_server.fixtures import
esdb_uri  # noqa: F401`), as `tests/esdb_server/conftest.py` does.

- `esdb_server` / `esdb_uri` (session): one server on a fresh SQLite file for the whole run;
  tests use fresh stream names, so they do not see each other.
- `esdb_client` (function): an `esdbclient.EventStoreDBClient` on it, closed after the test.
- `fresh_esdb_server` (function): a server of the test's own, on an empty store.
- `esdb_server_process` (function): a server in a child process (`EsdbServerProcess`, with
  `stop()`, `kill()` and `restart()`), on a store file the test may also open.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from esdbclient import EventStoreDBClient

from tests.esdb_server.process import EsdbServerProcess
from tests.esdb_server.server import EsdbTestServer


def fresh_stream(category: str = "test") -> str:
    """A stream name no other test uses: `<category>-<random hex>`."""
    return f"{category}-{uuid.uuid4().hex}"


def sqlite_uri(path: Path) -> str:
    """The store URI of a SQLite file (NORMAL sync: WAL survives a process kill)."""
    return f"sqlite:///{path}?synchronous=NORMAL"


@pytest.fixture(scope="session")
def esdb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EsdbTestServer]:
    """One test server for the session, on a fresh SQLite file."""
    path = tmp_path_factory.mktemp("esdb") / "events.db"
    with EsdbTestServer.open(sqlite_uri(path)) as server:
        yield server


@pytest.fixture(scope="session")
def esdb_uri(esdb_server: EsdbTestServer) -> str:
    """`esdb://127.0.0.1:PORT?Tls=false` of the session's test server."""
    return esdb_server.uri


@pytest.fixture
def esdb_client(esdb_uri: str) -> Iterator[EventStoreDBClient]:
    """An esdbclient client on the session's test server."""
    client = EventStoreDBClient(esdb_uri)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def fresh_esdb_server(tmp_path: Path) -> Iterator[EsdbTestServer]:
    """A test server of the test's own, on an empty store."""
    with EsdbTestServer.open(sqlite_uri(tmp_path / "fresh-events.db")) as server:
        yield server


@pytest.fixture
def esdb_server_process(tmp_path: Path) -> Iterator[EsdbServerProcess]:
    """A test server in a child process, on `tmp_path / "events.db"`."""
    with EsdbServerProcess(sqlite_uri(tmp_path / "events.db")) as process:
        yield process
