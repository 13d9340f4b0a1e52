"""The `event_store` fixture: every adapter, each test with a fresh store and fresh stream names.

A backend supplies only a factory; the contract tests are plain functions that take the store.
The EventStoreDB adapter joins the parameter list when BOOKWORM_TEST_ESDB_URI is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from read_side.targets import MemoryTarget, Target
from tests.databases import POSTGRES_URL
from tests.esdb_server.fixtures import esdb_server  # noqa: F401 (the backend fixture asks for it)
from tests.esdb_server.server import EsdbTestServer
from write_side.eventstore import Capability, EventStore
from write_side.eventstore.factory import open_event_store


@dataclass(frozen=True)
class Backend:
    """How to open a store: `uri` names the same storage to another process (None: private)."""

    name: str
    uri: str | None
    open: Callable[[], EventStore]


def _sqlite_file(tmp_path: Path) -> Backend:
    uri = f"sqlite:///{tmp_path / 'events.db'}"
    return Backend("sqlite_file", uri, lambda: open_event_store(uri))


def _sqlite_memory(tmp_path: Path) -> Backend:
    return Backend("sqlite_memory", None, lambda: open_event_store("sqlite:///:memory:"))


def _esdb(uri: str) -> Backend:
    from write_side.eventstore.esdb import EsdbEventStore

    return Backend("esdb", uri, lambda: EsdbEventStore(uri))


BACKENDS = {"sqlite_file": _sqlite_file, "sqlite_memory": _sqlite_memory}

#: The EventStoreDB adapter over a real gRPC wire: always against the test server
#: (`tests/esdb_server`), and against a real EventStoreDB when BOOKWORM_TEST_ESDB_URI is set.
WIRE_BACKENDS = ["esdb_test_server", pytest.param("esdb_real", marks=pytest.mark.esdb)]


@pytest.fixture(params=[*sorted(BACKENDS), *WIRE_BACKENDS])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each adapter in turn (the EventStoreDB ones on a server shared by the session)."""
    if request.param == "esdb_test_server":
        server: EsdbTestServer = request.getfixturevalue("esdb_server")
        return _esdb(server.uri)
    if request.param == "esdb_real":
        return _esdb(os.environ["BOOKWORM_TEST_ESDB_URI"])
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def event_store(backend: Backend) -> Iterator[EventStore]:
    """A fresh store of the backend under test, closed afterwards."""
    store = backend.open()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def stream() -> Callable[[str], str]:
    """Makes fresh stream names: `stream("book")` -> `book-<random hex>`."""

    def fresh(category: str = "test") -> str:
        return f"{category}-{uuid.uuid4().hex}"

    return fresh


def requires(store: EventStore, capability: Capability) -> None:
    """Skip, saying why, when the adapter lacks a capability the test needs."""
    if capability not in store.capabilities:
        pytest.skip(f"{store!r} lacks the {capability.value} capability")


@pytest.fixture
def empty_store(backend: Backend) -> Iterator[EventStore]:
    """A store known to be empty; for backends shared between tests, the test is skipped."""
    store = backend.open()
    try:
        if store.head_position() is not None:
            pytest.skip(f"{store!r} is shared and already holds events")
        yield store
    finally:
        store.close()


# -- read-model targets ------------------------------------------------------------------------


def _memory_target(tmp_path: Path) -> Iterator[Target]:
    yield MemoryTarget()


def _sqlite_target(tmp_path: Path) -> Iterator[Target]:
    from read_side.targets.sql import SqlTarget

    target = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    yield target
    target.close()


def _postgres_target(tmp_path: Path) -> Iterator[Target]:
    from read_side.targets.sql import SqlTarget

    # A schema of its own per test: the `test` database is shared by every run.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    target = SqlTarget(POSTGRES_URL, schema=schema)
    yield target
    target.drop_schema()
    target.close()


def _duckdb_target(tmp_path: Path) -> Iterator[Target]:
    from read_side.targets.duckdb import DuckDBTarget

    target = DuckDBTarget(tmp_path / "warehouse.duckdb")
    yield target
    target.close()


TARGETS = {
    "memory": _memory_target,
    "sqlite": _sqlite_target,
    "postgres": _postgres_target,
    "duckdb": _duckdb_target,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
        for name in TARGETS
    ]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """Each read-model target in turn, fresh for the test."""
    yield from TARGETS[request.param](tmp_path)


@pytest.fixture
def projection() -> str:
    """A fresh projection name."""
    return f"proj_{uuid.uuid4().hex[:10]}"


# -- subscription groups (fixtures in tests/contracts/groups.py) -------------------------------

from tests.contracts.groups import group_name, groups  # noqa: E402, F401
