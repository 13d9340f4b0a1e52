"""Supervision: a dropped subscription restarts the runner from the stored checkpoint."""

from __future__ import annotations

import threading
from typing import Any

from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.status import RunnerState
from read_side.targets import MemoryTarget
from tests.pipelines.projections import CountsByType
from tests.pipelines.test_runner import append, counts, wait_for
from write_side.eventstore import EventStoreError, Subscription, SubscriptionItem
from write_side.eventstore.sqlite import SqliteEventStore


class DroppingSubscription(Subscription):
    """A real subscription that breaks (as a lost connection would) after `items` items."""

    def __init__(self, inner: Subscription, items: int) -> None:
        self._inner, self._left = inner, items

    def __next__(self) -> SubscriptionItem:
        if self._left == 0:
            raise EventStoreError("connection to the event store lost")
        self._left -= 1
        return next(self._inner)

    def stop(self) -> None:
        self._inner.stop()


class DroppingStore(SqliteEventStore):
    """The real embedded store whose first subscriptions drop after a few items."""

    def __init__(self, drops: list[int]) -> None:
        super().__init__()
        self.drops = drops
        self.subscriptions: list[int | None] = []

    def subscribe_to_all(self, **kwargs: Any) -> Subscription:
        self.subscriptions.append(kwargs.get("from_position"))
        inner = super().subscribe_to_all(**kwargs)
        return DroppingSubscription(inner, self.drops.pop(0)) if self.drops else inner


def test_a_dropped_subscription_resumes_from_the_stored_checkpoint() -> None:
    """Given a subscription that drops twice mid-history, the runner restarts each time from
    the checkpoint it stored (not from memory), and every event is counted exactly once."""
    store = DroppingStore(drops=[7, 5])
    try:
        for n in range(4):
            append(store, f"test-{n}", *["E"] * 10, start=n * 10)
        target = MemoryTarget()
        settings = RunnerSettings(batch_size=3, idle_s=0.02, restart_backoff_s=0.01)
        runner = ProjectionRunner(store, CountsByType(), target, settings=settings)
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,))
        thread.start()
        try:
            wait_for(lambda: counts(target) == {"E": 40})
            wait_for(lambda: runner.status(with_head=False).state is RunnerState.LIVE)
        finally:
            stop.set()
            thread.join(10)

        assert len(store.subscriptions) == 3
        starts = store.subscriptions
        assert starts[0] is None
        assert starts[1] is not None
        assert starts[2] is not None
        assert starts[1] < starts[2]
        with target.transaction() as tx:
            stored = tx.checkpoint("counts_by_type", 1)
        assert stored is not None
        assert stored.position == store.head_position()
        assert "connection to the event store lost" in (runner.status().last_error or "")
    finally:
        store.close()
