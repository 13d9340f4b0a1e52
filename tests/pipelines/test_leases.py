"""Leases in the runner: a stalled holder cannot commit after losing its lease, and a target
error while taking the lease is retried like any other failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.status import RunnerState
from read_side.targets import Effects, Lease, MemoryTarget, MemoryTx
from tests.pipelines.projections import CountsByType
from tests.pipelines.test_runner import append, counts, wait_for
from write_side.eventstore.sqlite import SqliteEventStore

SETTINGS = RunnerSettings(lease_ttl_s=0.5, idle_s=0.02, restart_backoff_s=0.01)


class StallingTarget(MemoryTarget):
    """Its next transaction, once armed, waits to be let go: a holder frozen before BEGIN."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.stalled = threading.Event()
        self.go_on = threading.Event()

    @contextmanager
    def transaction(self, *, effects: Effects | None = None) -> Iterator[MemoryTx]:
        if self.armed:
            self.armed = False
            self.stalled.set()
            self.go_on.wait(10)
        with super().transaction(effects=effects) as tx:
            yield tx


def test_a_holder_stalled_past_its_lease_cannot_commit_its_batch() -> None:
    """Given holder A frozen before committing event 2 until its lease expires and B has
    taken over and counted event 2, when A wakes its batch is refused (fenced): event 2 is
    counted once, and A goes back to waiting for the lease."""
    with SqliteEventStore() as store:
        append(store, "test-1", "E")
        target = StallingTarget()
        a = ProjectionRunner(store, CountsByType(), target, settings=SETTINGS, holder="a")
        stop_a, stop_b = threading.Event(), threading.Event()
        thread_a = threading.Thread(target=a.run, args=(stop_a,))
        thread_a.start()
        thread_b: threading.Thread | None = None
        try:
            wait_for(lambda: counts(target) == {"E": 1})
            target.armed = True
            append(store, "test-1", "E", start=1)
            assert target.stalled.wait(10)
            time.sleep(0.7)  # A's lease (0.5 s) runs out while it is frozen
            b = ProjectionRunner(store, CountsByType(), target, settings=SETTINGS, holder="b")
            thread_b = threading.Thread(target=b.run, args=(stop_b,))
            thread_b.start()
            wait_for(lambda: counts(target) == {"E": 2})
            target.go_on.set()
            wait_for(lambda: a.status(with_head=False).state is RunnerState.WAITING)
            time.sleep(0.2)
            assert counts(target) == {"E": 2}
            assert [lease.holder for lease in target.leases()] == ["b"]
        finally:
            target.go_on.set()
            stop_a.set()
            stop_b.set()
            thread_a.join(10)
            if thread_b is not None:
                thread_b.join(10)


class FlakyLeases(MemoryTarget):
    """Its first lease request fails as a locked or dropped database would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def acquire_lease(self, projection: str, holder: str, *, ttl_s: float) -> Lease | None:
        if self.failures:
            self.failures -= 1
            raise OSError("database is locked")
        return super().acquire_lease(projection, holder, ttl_s=ttl_s)


def test_an_error_while_taking_the_lease_is_retried() -> None:
    """The runner does not die on a failed lease request: it waits, retries, and goes live."""
    with SqliteEventStore() as store:
        append(store, "test-1", "E")
        target = FlakyLeases()
        runner = ProjectionRunner(store, CountsByType(), target, settings=SETTINGS)
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,))
        thread.start()
        try:
            wait_for(lambda: counts(target) == {"E": 1})
            assert thread.is_alive()
            assert "database is locked" in (runner.status(with_head=False).last_error or "")
        finally:
            stop.set()
            thread.join(10)
