"""Blue/green rebuilds on the memory target: readers see build N, then N+1, never half of one."""

from __future__ import annotations

import threading
import time

from pipelines.rebuild import RebuildProgress, rebuild
from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.targets import MemoryTarget
from tests.pipelines.projections import CountsByType
from tests.pipelines.test_runner import append, wait_for
from write_side.eventstore import EventStore

FAST = RunnerSettings(idle_s=0.02, lease_ttl_s=0.6, batch_size=50)


def total(view: dict[str, object]) -> int:
    return sum(v for k, v in view.items() if not k.startswith("_"))  # type: ignore[misc]


def test_readers_see_a_complete_build_throughout_a_rebuild(store: EventStore) -> None:
    """Given 3,000 counted events and a live worker, while build 2 is rebuilt a reader
    polling the stable view always sees all 3,000 (build 1, then build 2), and afterwards
    build 2 is live, build 1 is gone, and the worker follows build 2."""
    for n in range(30):
        append(store, f"test-{n}", *["E"] * 100)
    target = MemoryTarget()
    worker = ProjectionRunner(store, CountsByType(), target, settings=FAST)
    stop = threading.Event()
    threads = [threading.Thread(target=worker.run, args=(stop,))]
    threads[0].start()
    wait_for(lambda: total(target.snapshot().view("counts_by_type")) == 3000)

    seen: list[int] = []
    reading = threading.Event()
    reading.set()

    def read_in_a_loop() -> None:
        while reading.is_set():
            seen.append(total(target.snapshot().view("counts_by_type")))
            time.sleep(0.002)  # the memory target copies everything per read: leave it room

    threads.append(threading.Thread(target=read_in_a_loop))
    threads[1].start()
    progress: list[RebuildProgress] = []
    try:
        result = rebuild(
            store,
            CountsByType(),
            target,
            settings=FAST,
            on_progress=progress.append,
            handover_timeout_s=10,
        )
    finally:
        reading.clear()
        threads[1].join(10)

    try:
        assert (result.live, result.replaced, result.dropped) == (2, 1, [1])
        assert seen, "the reader must have read during the rebuild"
        assert set(seen) == {3000}, f"a reader saw a half-built model: {sorted(set(seen))}"
        assert progress[-1].checkpoint == store.head_position()
        assert progress[-1].percent == 100.0
        with target.transaction() as tx:
            assert tx.live_build("counts_by_type") == 2
            assert tx.builds("counts_by_type") == [2]
        append(store, "test-new", "F")
        wait_for(lambda: target.snapshot().view("counts_by_type").get("F") == 1)
        assert worker.status(with_head=False).build == 2
    finally:
        stop.set()
        threads[0].join(10)
