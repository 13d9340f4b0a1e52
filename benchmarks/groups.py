"""Subscription-group benchmark: delivery throughput with 1 and 4 consumers, redelivery latency.

    python -m benchmarks.groups [--quick] [--out DIR]

Every case runs on a copy of the cached store of realistic BookWorm traffic
(`benchmarks/events.py`, 200,000 events), in WAL mode with `synchronous=FULL` for appends; the
groups commit their own state with `synchronous=NORMAL` (see `GroupDatabase`).

- `group_delivery_1_consumer`: a fresh group on `$all` from the start and one consumer in
  this process that acknowledges every event; acked events per second, from joining the
  group to the consumer's stop (which sends its last acknowledgements). `floor`: the same
  events read by one plain `read_all` pass (a catch-up read, decoded the same way), which is
  what a group adds its claims, deadlines and acknowledgements to.
- `group_delivery_4_consumers`: the same with four consumers, each in a process of its own
  (started and joined before the clock starts), until the group counts every event acked.
- `group_redelivery_after_nack`: a consumer with room for one event nacks it with `retry` and
  waits for it to come back; the latency is from the nack to the redelivery. `floor`: the two
  transactions a redelivery needs at least, in plain `sqlite3` on the same file: one gives the
  event back (an UPDATE of its claim row), one claims it again and reads the event.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    OURS,
    CaseResult,
    Measurement,
    Target,
    bound_target,
    machine_info,
    percentiles_ms,
    scratch_directory,
    side_by_side,
    start_run,
    throughput,
)
from benchmarks.events import SEED, cached_store
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.schema import EVENT_COLUMNS
from write_side.groups import GroupSettings
from write_side.groups.sqlite import SqliteSubscriptionGroups

AREA = "groups"
FLOOR = "floor"


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each case does; `--quick` shrinks it."""

    events: int = 200_000
    consumers: int = 4
    event_buffer_size: int = 500
    """Each consumer's buffer, and its acknowledgement batch."""
    redeliveries: int = 1_000
    warmups: int = 0
    repetitions: int = 3


FULL = Scale()
QUICK = Scale(events=20_000, redeliveries=200, repetitions=1)

#: Redeliveries left out of the figures: the first ones warm the caches.
REDELIVERY_WARMUP = 20
#: Longest wait for the consumer processes to start, join and finish.
PROCESS_WAIT_S = 120.0


def _settings(scale: Scale) -> GroupSettings:
    # One dispatch may fill every consumer's buffer at once.
    room = scale.event_buffer_size * scale.consumers
    return GroupSettings(
        read_batch_size=scale.event_buffer_size,
        history_buffer_size=room,
        live_buffer_size=room,
        max_subscriber_count=scale.consumers,
    )


def _fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@contextmanager
def _group(groups: SqliteSubscriptionGroups, prefix: str, settings: GroupSettings) -> Iterator[str]:
    """A fresh group on `$all` from the start, deleted afterwards (its tables stay small)."""
    name = _fresh(prefix)
    groups.create_subscription_to_all(name, settings=settings)
    try:
        yield name
    finally:
        groups.delete_subscription(name)


# --- delivery ----------------------------------------------------------------------------------


def _floor_read(store: SqliteEventStore) -> Callable[[], Measurement]:
    def run() -> Measurement:
        started = time.perf_counter()
        count = sum(1 for _ in store.read_all())
        return throughput(count, time.perf_counter() - started)

    return run


def delivery_1_consumer(
    store: SqliteEventStore, groups: SqliteSubscriptionGroups, scale: Scale, count: int
) -> CaseResult:
    """One consumer in this process acknowledges every event of a fresh group."""
    settings = _settings(scale)

    def ours() -> Measurement:
        with _group(groups, "bench_one", settings) as name:
            started = time.perf_counter()
            with groups.read_subscription_to_all(
                name,
                event_buffer_size=scale.event_buffer_size,
                max_ack_batch_size=scale.event_buffer_size,
            ) as consumer:
                for _ in range(count):
                    consumer.ack(next(consumer))
            elapsed = time.perf_counter() - started
            acked = groups.get_subscription_info(name).acked_total
        if acked != count:
            raise RuntimeError(f"the group counted {acked} acknowledgements of {count}")
        return throughput(count, elapsed)

    runs = {OURS: ours, FLOOR: _floor_read(store)}
    measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    result = CaseResult("group_delivery_1_consumer", measured)
    result.notes.append(
        f"{count:,} events; consumer buffer and ack batch {scale.event_buffer_size}; "
        f"{FLOOR}: one read_all pass over the same events"
    )
    return result


def consume_in_process(
    path: str, group: str, buffer_size: int, ready: Any, go: Event, stop: Event
) -> None:
    """Consumer process: join, say ready, wait for the start, acknowledge until told to stop."""
    with (
        SqliteEventStore(path) as store,
        SqliteSubscriptionGroups(store) as groups,
        groups.read_subscription_to_all(
            group, event_buffer_size=buffer_size, max_ack_batch_size=buffer_size
        ) as consumer,
    ):
        ready.put("ready")
        go.wait()
        while not stop.is_set():
            delivered = consumer.receive(0.05)
            if delivered is not None:
                consumer.ack(delivered)


def delivery_n_consumers(
    store: SqliteEventStore,
    groups: SqliteSubscriptionGroups,
    path: Path,
    scale: Scale,
    count: int,
) -> CaseResult:
    """`scale.consumers` consumer processes share a fresh group until it counts all acked."""
    settings = _settings(scale)
    context = multiprocessing.get_context("spawn")

    def ours() -> Measurement:
        with _group(groups, "bench_many", settings) as name:
            ready, go, stop = context.Queue(), context.Event(), context.Event()
            args = (str(path), name, scale.event_buffer_size, ready, go, stop)
            processes = [
                context.Process(target=consume_in_process, args=args, daemon=True)
                for _ in range(scale.consumers)
            ]
            for process in processes:
                process.start()
            try:
                for _ in processes:
                    ready.get(timeout=PROCESS_WAIT_S)
                started = time.perf_counter()
                go.set()
                deadline = started + PROCESS_WAIT_S
                while groups.get_subscription_info(name).acked_total < count:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the consumer processes did not handle every event")
                    time.sleep(0.01)
                elapsed = time.perf_counter() - started
            finally:
                stop.set()
                go.set()
                for process in processes:
                    process.join(PROCESS_WAIT_S)
                    if process.is_alive():
                        process.kill()
        return throughput(count, elapsed)

    runs = {OURS: ours, FLOOR: _floor_read(store)}
    measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    result = CaseResult(f"group_delivery_{scale.consumers}_consumers", measured)
    result.notes.append(
        f"{scale.consumers} consumer processes (started and joined before the clock starts), "
        f"DispatchToSingle (the default), buffers and ack batches of {scale.event_buffer_size}; "
        f"timed until the group counts all {count:,} acknowledged (polled every 10 ms)"
    )
    return result


# --- redelivery --------------------------------------------------------------------------------


def redelivery_after_nack(groups: SqliteSubscriptionGroups, path: Path, scale: Scale) -> CaseResult:
    """Nack with retry, then wait for the same event: one consumer with room for one event."""
    samples = REDELIVERY_WARMUP + scale.redeliveries

    def ours() -> Measurement:
        latencies: list[float] = []
        with (
            _group(groups, "bench_redelivery", GroupSettings()) as name,
            groups.read_subscription_to_all(
                name, event_buffer_size=1, max_ack_batch_size=1
            ) as consumer,
        ):
            for _ in range(samples):
                delivered = next(consumer)
                started = time.perf_counter()
                consumer.nack(delivered, "retry")
                again = next(consumer)
                latencies.append(time.perf_counter() - started)
                if (again.id, again.retry_count) != (delivered.id, 1):
                    raise RuntimeError(f"expected {delivered.id} again, got {again}")
                consumer.ack(again)
        return Measurement(percentiles_ms(latencies[REDELIVERY_WARMUP:]))

    def floor() -> Measurement:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_claims (position INTEGER PRIMARY KEY, "
            "consumer INTEGER, deadline INTEGER, retry_count INTEGER NOT NULL)"
        )
        conn.execute("DELETE FROM bench_floor_claims")
        positions = [r[0] for r in conn.execute("SELECT position FROM events LIMIT ?", (samples,))]
        conn.executemany(
            "INSERT INTO bench_floor_claims VALUES (?, 1, 0, 0)", [(p,) for p in positions]
        )
        latencies: list[float] = []
        try:
            for position in positions:
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE bench_floor_claims SET consumer = NULL, deadline = NULL, "
                    "retry_count = retry_count + 1 WHERE position = ?",
                    (position,),
                )
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE bench_floor_claims SET consumer = 1, deadline = ? WHERE position = ?",
                    (time.time_ns() // 1000, position),
                )
                conn.execute(
                    f"SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id "
                    "WHERE e.position = ?",
                    (position,),
                ).fetchone()
                conn.execute("COMMIT")
                latencies.append(time.perf_counter() - started)
        finally:
            conn.execute("DROP TABLE bench_floor_claims")
            conn.close()
        return Measurement(percentiles_ms(latencies[REDELIVERY_WARMUP:]))

    measured = side_by_side(
        {OURS: ours, FLOOR: floor}, warmups=scale.warmups, repetitions=scale.repetitions
    )
    result = CaseResult("group_redelivery_after_nack", measured, ratio_metric="p50_ms")
    result.notes.append(
        f"{scale.redeliveries:,} redeliveries after {REDELIVERY_WARMUP} warm-up ones; from the "
        f"nack to the event's return; {FLOOR}: a plain give-back transaction and a plain "
        "claim-and-read transaction; ours/ref on p50 (below 1 is better)"
    )
    return result


# --- the run -----------------------------------------------------------------------------------


def judge(one: CaseResult) -> list[Target]:
    """The issue's goal: at least 10,000 acknowledged events a second with one consumer."""
    return [bound_target(one, "events_per_s", at_least=10_000)]


def main(argv: Sequence[str] | None = None) -> None:
    """Run every case, print the table and write `<out>/groups.json`."""
    run = start_run(AREA, "Subscription-group benchmark (see benchmarks/groups.py)", argv)
    scale = QUICK if run.options.quick else FULL
    with run.console.status(f"generating (or finding) a store of {scale.events:,} events…"):
        cached = cached_store(scale.events)
    with scratch_directory(AREA) as data_dir:
        path = data_dir / "events.db"
        shutil.copyfile(cached.path, path)
        machine = machine_info(data_dir, sqlite=sqlite3.sqlite_version)
        with SqliteEventStore(path) as store, SqliteSubscriptionGroups(store) as groups:
            count = sum(1 for _ in store.read_all())

            cases = [
                run.step(
                    "delivery, 1 consumer", lambda: delivery_1_consumer(store, groups, scale, count)
                ),
                run.step(
                    f"delivery, {scale.consumers} consumer processes",
                    lambda: delivery_n_consumers(store, groups, path, scale, count),
                ),
                run.step(
                    "redelivery after a nack", lambda: redelivery_after_nack(groups, path, scale)
                ),
            ]
    targets = judge(cases[0])
    scale_block = {
        "quick": run.options.quick,
        **asdict(scale),
        "delivered_events": count,
        "seed": SEED,
        "store": {k: v for k, v in cached.stats.items() if k != "events"},
        "store_reused": cached.reused,
    }
    run.report("subscription groups", scale.repetitions, machine, scale_block, cases, targets)


if __name__ == "__main__":
    main()
