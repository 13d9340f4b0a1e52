"""The projection runner on the memory target: given events, the read model is this."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from pipelines.dead_letters import discard, list_dead_letters, replay
from pipelines.runner import PoisonEvent, ProjectionRunner, RunnerSettings
from pipelines.status import RunnerState
from read_side.targets import MemoryTarget, MemoryTx
from tests.pipelines.projections import CountsByType, Mailer
from write_side.eventstore import EventStore, NewEvent, RecordedEvent, StreamState

FAST = RunnerSettings(retry_backoff_s=0.001, idle_s=0.02, lease_ttl_s=1.0)


def append(store: EventStore, stream: str, *types: str, start: int = 0) -> int:
    """Append one event per type to `stream` (data {"n": start + i}); the last position."""
    events = [
        NewEvent(type=t, data=json.dumps({"n": start + i}).encode()) for i, t in enumerate(types)
    ]
    return store.append(stream, events, expected_version=StreamState.ANY)


def counts(target: MemoryTarget, name: str = "counts_by_type", build: int = 1) -> dict[str, int]:
    rows = target.snapshot().rows(f"{name}_v{build}")
    return {k: v for k, v in rows.items() if not k.startswith("_")}


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.01)


def test_catch_up_applies_matching_events_and_checkpoints_the_head(
    store: EventStore,
) -> None:
    """Given 3 wanted events and 2 others, the counts cover the wanted ones and the
    checkpoint reaches the head, past the unwanted event at the end."""
    append(store, "test-1", "Created", "Renamed")
    append(store, "other-1", "Ignored")
    append(store, "test-2", "Created")
    head = append(store, "other-2", "Ignored")
    target = MemoryTarget()

    checkpoint = ProjectionRunner(store, CountsByType(), target, build=1).catch_up()

    assert counts(target) == {"Created": 2, "Renamed": 1}
    assert checkpoint == head
    with target.transaction() as tx:
        assert tx.checkpoint("counts_by_type", 1).position == head  # type: ignore[union-attr]


def test_a_restart_goes_on_from_the_stored_checkpoint(store: EventStore) -> None:
    """A second runner (as after a crash) applies only what came after the checkpoint."""
    append(store, "test-1", "A", "B")
    target = MemoryTarget()
    ProjectionRunner(store, CountsByType(), target, build=1).catch_up()
    append(store, "test-1", "A")

    ProjectionRunner(store, CountsByType(), target, build=1).catch_up()

    assert counts(target) == {"A": 2, "B": 1}


def test_small_batches_cover_everything_once(store: EventStore) -> None:
    """With batches of 7, 100 events are all counted once, in order."""
    for n in range(10):
        append(store, f"test-{n}", *["E"] * 10, start=n * 10)
    target = MemoryTarget()
    runner = ProjectionRunner(
        store, CountsByType(), target, build=1, settings=RunnerSettings(batch_size=7)
    )

    runner.catch_up()

    assert counts(target) == {"E": 100}
    positions = target.snapshot().rows("counts_by_type_v1")["_positions"]
    assert positions == sorted(positions)
    assert len(set(positions)) == 100


def test_a_poison_event_is_parked_and_the_rest_applied(store: EventStore) -> None:
    """Given a handler that fails on n=2, that event is tried 3 times, parked with its error,
    and the others (before and after it, in the same batch) are applied."""
    append(store, "test-1", "E", "E", "E", "E", "E")
    target = MemoryTarget()
    runner = ProjectionRunner(store, CountsByType(fail_on={2}), target, build=1, settings=FAST)

    runner.catch_up()

    assert counts(target) == {"E": 4}
    (letter,) = list_dead_letters(target, "counts_by_type")
    assert (letter.attempts, letter.stream, letter.event_type) == (3, "test-1", "E")
    assert "cannot handle n=2" in letter.error
    assert "ValueError" in letter.traceback
    assert runner.status(with_head=True).parked == 1
    assert runner.status(with_head=True).lag_events == 0


def test_a_parked_event_is_replayed_after_the_fix(store: EventStore) -> None:
    """After the handler is fixed, replaying the dead letter applies it and removes it."""
    append(store, "test-1", "E", "E", "E")
    target = MemoryTarget()
    ProjectionRunner(store, CountsByType(fail_on={1}), target, build=1, settings=FAST).catch_up()
    assert counts(target) == {"E": 2}

    outcome = replay(store, CountsByType(), target)

    assert len(outcome.replayed) == 1
    assert outcome.failed == []
    assert counts(target) == {"E": 3}
    assert list_dead_letters(target) == []
    assert replay(store, CountsByType(), target).replayed == []


def test_a_replay_that_fails_again_keeps_the_letter(store: EventStore) -> None:
    """Replaying with the bug still there leaves the letter (and the model) as they were."""
    append(store, "test-1", "E", "E")
    target = MemoryTarget()
    ProjectionRunner(store, CountsByType(fail_on={0}), target, build=1, settings=FAST).catch_up()

    outcome = replay(store, CountsByType(fail_on={0}), target)

    assert outcome.replayed == []
    assert len(outcome.failed) == 1
    assert len(list_dead_letters(target)) == 1
    assert discard(target, "counts_by_type") == 1
    assert list_dead_letters(target) == []


def test_in_a_rebuild_a_poison_event_stops_the_runner(store: EventStore) -> None:
    """The default policy during a rebuild is to stop, with the checkpoint before the event."""
    first = append(store, "test-1", "E")
    append(store, "test-1", "E", start=1)
    target = MemoryTarget()
    runner = ProjectionRunner(
        store, CountsByType(fail_on={1}), target, build=2, rebuilding=True, settings=FAST
    )

    with pytest.raises(PoisonEvent, match="keeps failing"):
        runner.catch_up()

    with target.transaction() as tx:
        assert tx.checkpoint("counts_by_type", 2).position == first  # type: ignore[union-attr]
    assert list_dead_letters(target) == []


def test_run_follows_the_live_tail_and_stops_cleanly(store: EventStore) -> None:
    """A running runner catches up, goes live, applies new events as they come, and on stop
    stores its checkpoint and gives its lease up."""
    append(store, "test-1", "A")
    target = MemoryTarget()
    runner = ProjectionRunner(store, CountsByType(), target, build=1, settings=FAST)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: counts(target) == {"A": 1})
        wait_for(lambda: runner.status(with_head=False).state is RunnerState.LIVE)
        last = append(store, "test-1", "B", "B")
        wait_for(lambda: counts(target) == {"A": 1, "B": 2})
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert runner.status().state is RunnerState.STOPPED
    assert runner.status().checkpoint == last
    assert target.leases() == []


def test_one_runner_per_projection_the_second_takes_over(store: EventStore) -> None:
    """While one runner holds the lease, a second waits; when the first stops, it takes over."""
    append(store, "test-1", "A")
    target = MemoryTarget()
    first = ProjectionRunner(store, CountsByType(), target, build=1, settings=FAST, holder="one")
    second = ProjectionRunner(store, CountsByType(), target, build=1, settings=FAST, holder="two")
    stop_first, stop_second = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=first.run, args=(stop_first,)),
        threading.Thread(target=second.run, args=(stop_second,)),
    ]
    threads[0].start()
    wait_for(lambda: counts(target) == {"A": 1})
    threads[1].start()
    try:
        time.sleep(0.2)
        assert second.status(with_head=False).state is RunnerState.WAITING
        stop_first.set()
        threads[0].join(10)
        append(store, "test-1", "B")
        wait_for(lambda: counts(target) == {"A": 1, "B": 1})
        assert [lease.holder for lease in target.leases()] == ["two"]
    finally:
        stop_first.set()
        stop_second.set()
        for thread in threads:
            thread.join(10)


def test_side_effects_run_live_and_never_in_a_rebuild(store: EventStore) -> None:
    """Live, each committed event's mail is carried out; a rebuild counts but sends nothing."""
    append(store, "test-1", "A", "B")
    target = MemoryTarget()
    live = Mailer()
    ProjectionRunner(store, live, target, build=1).catch_up()
    assert len(live.carried_out) == 2

    rebuilt = Mailer()
    ProjectionRunner(store, rebuilt, target, build=2, rebuilding=True).catch_up()

    assert counts(target, "mailer", 2) == {"A": 1, "B": 1}
    assert rebuilt.carried_out == []


class BatchSizes(CountsByType):
    """Counts, and remembers how many events each `apply` got."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def apply(self, events: Sequence[RecordedEvent], tx: MemoryTx, build: int) -> None:
        self.sizes.append(len(events))
        super().apply(events, tx, build)


def test_live_commits_arriving_within_the_window_are_applied_in_one_batch(
    store: EventStore,
) -> None:
    """On the live tail, a batch waits `live_batch_window_s` after its first event: commits
    made meanwhile join it (one transaction, not one per commit)."""
    target = MemoryTarget()
    projection = BatchSizes()
    settings = replace(FAST, live_batch_window_s=0.5)
    runner = ProjectionRunner(store, projection, target, build=1, settings=settings)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: runner.status(with_head=False).state is RunnerState.LIVE)
        for n in range(5):
            last = append(store, f"test-{n}", "A")
        wait_for(lambda: counts(target) == {"A": 5})
    finally:
        stop.set()
        thread.join(10)
    assert projection.sizes == [5]
    assert runner.status().checkpoint == last
