"""Scheduler tests: the platform's repository on an empty store of each kind, the test's clock,
the due-time table in a SQLite query store."""

from __future__ import annotations

import pytest

from read_side.targets.sql import SqlTarget
from tests.domain.timers import Timers, event_store, query_store
from write_side.domain import Crypto, ManualClock, Repository
from write_side.eventstore import EventStore
from write_side.registry import REGISTRY

__all__ = ["event_store", "query_store"]


@pytest.fixture
def repository(event_store: EventStore, crypto: Crypto, clock: ManualClock) -> Repository:
    """The platform's repository on the store under test."""
    return Repository(event_store, REGISTRY, crypto, clock)


@pytest.fixture
def timers(event_store: EventStore, query_store: SqlTarget, clock: ManualClock) -> Timers:
    """The due-time table of the platform's declarations, and the timer service."""
    return Timers.on(event_store, query_store, clock)
