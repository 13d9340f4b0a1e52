"""A harness for the scheduler and the order saga: durable timers fired by the real projection
`due_timers` (on a SQLite query store) and the real timer service, by the test's clock; process
managers fed the events of `$all` in order, as their subscription groups would feed them.

Stores: the embedded one (in memory and on a file) and the EventStoreDB adapter on a test
server of the test's own, so the due-time table sees only the test's timers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest

from pipelines.runner import ProjectionRunner
from pipelines.timers import TimerService
from read_side.projections.due_timers import DueTimers, TimerRow, find_timer
from read_side.targets.sql import SqlTarget
from tests.esdb_server.fixtures import sqlite_uri
from tests.esdb_server.server import EsdbTestServer
from write_side.domain import ManualClock, ProcessManager
from write_side.envelope import EventRegistry, StoredEvent
from write_side.eventstore import EventStore
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.factory import open_event_store
from write_side.registry import REGISTRY
from write_side.scheduler import DueTimer, TimerRegistry

STORES = ["sqlite_memory", "sqlite_file", "esdb_test_server"]


@pytest.fixture(params=STORES)
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """An empty store: embedded (memory, file) or the EventStoreDB adapter on a fresh server."""
    if request.param == "esdb_test_server":
        with (
            EsdbTestServer.open(sqlite_uri(tmp_path / "server-events.db")) as server,
            EsdbEventStore(server.uri) as adapter,
        ):
            yield adapter
        return
    uri = (
        "sqlite:///:memory:" if request.param == "sqlite_memory" else sqlite_uri(tmp_path / "e.db")
    )
    with open_event_store(uri) as store:
        yield store


@pytest.fixture
def query_store(tmp_path: Path) -> Iterator[SqlTarget]:
    """The SQL query store (a SQLite file) where `due_timers` lives."""
    target = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    yield target
    target.close()


@dataclass
class Timers:
    """The due-time table kept by its projection, and the timer service, on the test's clock."""

    store: EventStore
    target: SqlTarget
    clock: ManualClock
    projection: DueTimers
    service: TimerService

    @classmethod
    def on(
        cls,
        store: EventStore,
        target: SqlTarget,
        clock: ManualClock,
        timers: TimerRegistry | None = None,
    ) -> Timers:
        """The projection (of `timers`' declarations, default the platform's) and the service."""
        projection = DueTimers() if timers is None else DueTimers(timers)
        return cls(store, target, clock, projection, TimerService(store, target, clock=clock))

    def catch_up(self) -> None:
        """The projection reads every event up to now."""
        ProjectionRunner(self.store, self.projection, self.target).catch_up()

    def fire(self) -> list[DueTimer]:
        """The table catches up, the service fires what is due by the clock, the table sees it."""
        self.catch_up()
        fired = self.service.fire_due()
        self.catch_up()
        return fired

    def find(self, timer_id: UUID) -> TimerRow | None:
        """A timer as the table holds it."""
        with self.target.transaction() as tx:
            return find_timer(tx, timer_id)


@dataclass
class Deliveries:
    """Feeds process managers the events of `$all` after `start`, in order, once each (unless
    told to drop some types: messages that never arrive)."""

    store: EventStore
    managers: Sequence[ProcessManager]
    start: int | None
    registry: EventRegistry = REGISTRY
    delivered: list[StoredEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.position = self.start

    def run(self, *, dropping: Collection[str] = ()) -> int:
        """Deliver until nothing new is left (reactions make more events); how many."""
        count = 0
        while True:
            batch = list(self.store.read_all_after(self.position))
            if not batch:
                return count
            for recorded in batch:
                self.position = recorded.position
                if recorded.type in dropping:
                    continue
                for manager in self.managers:
                    if manager.filter.matches(recorded.stream, recorded.type):
                        stored = self.registry.decode(recorded)
                        manager.handle(stored)
                        self.delivered.append(stored)
                        count += 1

    def redeliver_everything(self) -> None:
        """Every event delivered so far, once more, in order (a consumer that lost its acks)."""
        for stored in list(self.delivered):
            for manager in self.managers:
                if manager.filter.matches(stored.stream, stored.type):
                    manager.handle(self.registry.decode(stored.recorded))
