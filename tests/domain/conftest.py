"""Fixtures of the write side's building blocks, over every event store adapter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contracts.conftest import backend, event_store  # every adapter, as in the contracts
from tests.esdb_server.fixtures import esdb_server
from write_side.domain import Crypto, ManualClock, Repository
from write_side.eventstore import EventStore
from write_side.keystore import SqliteKeyStore

from .tally import TALLY_EVENTS

__all__ = ["backend", "esdb_server", "event_store"]

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """Business time that moves only when a test says so."""
    return ManualClock(START)


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[SqliteKeyStore]:
    """The embedded key store on a fresh file."""
    store = SqliteKeyStore(tmp_path / "keys.db")
    yield store
    store.close()


@pytest.fixture
def crypto(keys: SqliteKeyStore) -> Crypto:
    """Sealing and opening personal data with the test's keys."""
    return Crypto(keys)


@pytest.fixture
def repository(event_store: EventStore, crypto: Crypto, clock: ManualClock) -> Repository:
    """A repository of tallies on the adapter under test."""
    return Repository(event_store, TALLY_EVENTS, crypto, clock)
