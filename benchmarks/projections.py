"""Projection runtime benchmark: rebuilds into DuckDB and SQLite, and the live lag of a worker.

    python -m benchmarks.projections [--quick] [--out DIR]

Every case reads the same store of realistic BookWorm traffic (`benchmarks/events.py`, about
280 bytes of data and 350 of metadata per event), generated once and cached on disk.

- `duckdb_rebuild_…`: `ProjectionRunner(...).catch_up()` of a fresh build of `EventLog` (one
  row per event, each batch one Polars frame through `DuckTx.insert_frame`) into a fresh
  DuckDBTarget file. `floor`: the same rows, built by the same function, from one plain
  `read_all` pass, inserted batch by batch into a plain DuckDB file (no runner, no
  checkpoints, no bookkeeping tables). `naive`: the runner with one INSERT per event, on the
  first events of the same traffic.
- `sql_rebuild_…`: the runner with the real `EventCounts` projection into a SqlTarget on a
  fresh SQLite file. `floor`: one `read_all` pass, the same upserts per batch through plain
  `sqlite3` `executemany`, one transaction per batch.
- `live_lag_…`: a worker's runner (`ProjectionRunner.run`, in another process, as the worker
  runs it) follows `EventCounts` into SQLite while this process appends durably at a steady
  rate; the lag of an event is from the call to `append` to the commit of the batch that
  applied it.

Each rebuild runs in a fresh process, so its peak RSS is its own; timings cover opening the
target to closing it (a rebuild is done when its file is complete).
"""

from __future__ import annotations

import multiprocessing
import resource
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb

from benchmarks._harness import (
    OURS,
    CaseResult,
    Measurement,
    Target,
    bound_target,
    machine_info,
    percentiles_ms,
    ratio_target,
    scratch_directory,
    side_by_side,
    start_run,
)
from benchmarks._projections import (
    CommitReportingCounts,
    EventLog,
    NaiveEventLog,
    event_frame,
    event_log_ddl,
)
from benchmarks.events import SEED, BookstoreTraffic, CachedStore, cached_store, take, write_appends
from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.status import RunnerState
from read_side.projection import Projection
from read_side.projections.event_counts import EventCounts, category
from read_side.targets import Target as ReadModelTarget
from read_side.targets.duckdb import DuckDBTarget
from read_side.targets.sql import SqlTarget
from write_side.eventstore import RecordedEvent
from write_side.eventstore.sqlite import SqliteEventStore

AREA = "projections"
FLOOR, NAIVE = "floor", "naive"


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each case does; `--quick` shrinks it."""

    rebuild_events: int = 1_000_000
    naive_events: int = 50_000
    batch_size: int = 20_000
    """Events per batch of a SQL rebuild (a multiple of the store's 2,000-row read page)."""
    duckdb_batch_size: int = 100_000
    """Events per batch of a DuckDB rebuild: DuckDB stores rows in groups of 122,880, and
    appending a few big batches costs half as much per row as many 20,000-row ones."""
    live_rate_per_s: float = 1_000.0
    live_seconds: float = 30.0
    live_history: int = 5_000
    """Events in the live case's store before the worker starts (it catches up first)."""
    warmups: int = 0
    repetitions: int = 3


FULL = Scale()
QUICK = Scale(rebuild_events=50_000, naive_events=10_000, live_seconds=10.0, repetitions=1)

#: Live events left out of the figures: the first moments of the writer and the worker.
LIVE_WARMUP_EVENTS = 200
#: How long the live case waits for the worker to apply the last event before giving up.
LIVE_DRAIN_S = 30.0

#: A rebuild's figures and what else it observed (for the notes).
RunResult = tuple[dict[str, float], dict[str, float]]


# --- rebuilds, each in a process of its own --------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak RSS so far (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB


def _finish(count: int, expected: int, started: float, baseline_mb: float) -> RunResult:
    elapsed = time.perf_counter() - started
    if count != expected:
        raise RuntimeError(f"rebuilt {count} events, expected {expected}")
    return (
        {"events_per_s": count / elapsed, "peak_rss_mb": _peak_rss_mb()},
        {"seconds": elapsed, "baseline_rss_mb": baseline_mb},
    )


def _rebuild(
    store: SqliteEventStore,
    projection: Projection,  # type: ignore[type-arg]
    target: ReadModelTarget,
    batch_size: int,
) -> int:
    """Build 1 of `projection` caught up through the runtime (as a rebuild); events handled."""
    runner = ProjectionRunner(
        store,
        projection,
        target,
        build=1,
        rebuilding=True,
        settings=RunnerSettings(batch_size=batch_size),
    )
    try:
        runner.catch_up()
    finally:
        target.close()
    return runner.status(with_head=False).handled


def rebuild_duckdb_ours(
    store_path: str, out: str, batch_size: int, expected: int, naive: bool
) -> RunResult:
    """Catch a fresh build of the event log up through the runtime; count the rows after."""
    store = SqliteEventStore(store_path)
    projection: Projection = NaiveEventLog() if naive else EventLog()  # type: ignore[type-arg]
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    handled = _rebuild(store, projection, DuckDBTarget(out), batch_size)
    result = _finish(handled, expected, started, baseline)
    store.close()
    _check_rows(out, "event_log_v1", expected)
    return result


def rebuild_duckdb_floor(store_path: str, out: str, batch_size: int, expected: int) -> RunResult:
    """The same rows from one plain `read_all` pass into a plain DuckDB file."""
    store = SqliteEventStore(store_path)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    conn = duckdb.connect(out)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(event_log_ddl("event_log"))

    def insert(batch: Sequence[RecordedEvent]) -> None:
        conn.register("batch", event_frame(batch))
        conn.execute("INSERT INTO event_log BY NAME SELECT * FROM batch")
        conn.unregister("batch")

    count = _in_batches(store, batch_size, insert)
    conn.close()
    result = _finish(count, expected, started, baseline)
    store.close()
    _check_rows(out, "event_log", expected)
    return result


def _in_batches(
    store: SqliteEventStore, batch_size: int, handle: Callable[[Sequence[RecordedEvent]], None]
) -> int:
    """The floors' loop: `$all` in batches of `batch_size`, each handed to `handle`."""
    count = 0
    batch: list[RecordedEvent] = []
    for event in store.read_all():
        batch.append(event)
        if len(batch) == batch_size:
            handle(batch)
            count += len(batch)
            batch = []
    if batch:
        handle(batch)
        count += len(batch)
    return count


def _check_rows(path: str, table: str, expected: int) -> None:
    conn = duckdb.connect(path, read_only=True)
    try:
        row = conn.execute(f"SELECT count(*), count(DISTINCT position) FROM {table}").fetchone()
    finally:
        conn.close()
    if row != (expected, expected):
        raise RuntimeError(f"{path}: {table} holds {row} rows/positions, expected {expected}")


def rebuild_sql_ours(store_path: str, out: str, batch_size: int, expected: int) -> RunResult:
    """Catch a fresh build of `EventCounts` up into SQLite through the runtime."""
    store = SqliteEventStore(store_path)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    handled = _rebuild(store, EventCounts(), SqlTarget(f"sqlite:///{out}"), batch_size)
    result = _finish(handled, expected, started, baseline)
    store.close()
    _check_counts(out, "event_counts_v1", expected)
    return result


_FLOOR_COUNTS_DDL = (
    "CREATE TABLE event_counts (category VARCHAR(200) NOT NULL, event_type VARCHAR(200) NOT NULL, "
    "events BIGINT NOT NULL, last_position BIGINT NOT NULL, PRIMARY KEY (category, event_type))"
)
_FLOOR_UPSERT = (
    "INSERT INTO event_counts AS t (category, event_type, events, last_position) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (category, event_type) DO UPDATE SET "
    "events = t.events + excluded.events, last_position = excluded.last_position"
)


def rebuild_sql_floor(store_path: str, out: str, batch_size: int, expected: int) -> RunResult:
    """The same counts from one plain `read_all` pass, upserted per batch with plain sqlite3."""
    store = SqliteEventStore(store_path)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    conn = sqlite3.connect(out, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # as SqlTarget sets it
    conn.execute(_FLOOR_COUNTS_DDL)

    def upsert(batch: Sequence[RecordedEvent]) -> None:
        counted = Counter((category(e.stream), e.type) for e in batch)
        last = {(category(e.stream), e.type): e.position for e in batch}
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_FLOOR_UPSERT, [(c, t, n, last[(c, t)]) for (c, t), n in counted.items()])
        conn.execute("COMMIT")

    count = _in_batches(store, batch_size, upsert)
    conn.close()
    result = _finish(count, expected, started, baseline)
    store.close()
    _check_counts(out, "event_counts", expected)
    return result


def _check_counts(path: str, table: str, expected: int) -> None:
    conn = sqlite3.connect(path)
    try:
        (total,) = conn.execute(f"SELECT sum(events) FROM {table}").fetchone()
    finally:
        conn.close()
    if total != expected:
        raise RuntimeError(f"{path}: {table} counts {total} events, expected {expected}")


def in_fresh_process(
    function: Callable[..., RunResult], *args: Any, extras: list[dict[str, float]]
) -> Measurement:
    """Run one repetition in a new process (spawned: nothing inherited); keep its extras."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        metrics, extra = pool.submit(function, *args).result()
    extras.append(extra)
    return Measurement(metrics)


def _warm_page_cache(path: Path) -> None:
    """Read the store file once, so the first side measured does not pay for the disk."""
    with path.open("rb") as file:
        while file.read(8 << 20):
            pass


def _median(extras: Sequence[dict[str, float]], key: str) -> float:
    values = sorted(extra[key] for extra in extras)
    return values[len(values) // 2]


def _label(count: int) -> str:
    if count % 1_000_000 == 0:
        return f"{count // 1_000_000}m"
    return f"{count // 1_000}k" if count % 1_000 == 0 else str(count)


def duckdb_rebuild(
    data_dir: Path, scale: Scale, store: CachedStore, naive_store: CachedStore
) -> CaseResult:
    """The event log rebuilt into DuckDB: ours, the floor, and the naive projection."""
    name = f"duckdb_rebuild_{_label(scale.rebuild_events)}"
    extras: dict[str, list[dict[str, float]]] = {OURS: [], FLOOR: [], NAIVE: []}
    batch = scale.duckdb_batch_size

    def out() -> str:
        return str(data_dir / f"{name}-{uuid.uuid4().hex}.duckdb")

    runs: dict[str, Callable[[], Measurement]] = {
        OURS: lambda: in_fresh_process(
            rebuild_duckdb_ours,
            str(store.path),
            out(),
            batch,
            store.events,
            False,
            extras=extras[OURS],
        ),
        FLOOR: lambda: in_fresh_process(
            rebuild_duckdb_floor,
            str(store.path),
            out(),
            batch,
            store.events,
            extras=extras[FLOOR],
        ),
        NAIVE: lambda: in_fresh_process(
            rebuild_duckdb_ours,
            str(naive_store.path),
            out(),
            batch,
            naive_store.events,
            True,
            extras=extras[NAIVE],
        ),
    }
    _warm_page_cache(store.path)
    _warm_page_cache(naive_store.path)
    measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    for path in data_dir.glob(f"{name}-*"):
        path.unlink()
    result = CaseResult(name, measured)
    result.notes.append(
        f"{OURS}: ProjectionRunner(build=1, rebuilding=True, batch_size={batch:,}).catch_up() "
        f"of EventLog (benchmarks/_projections.py) into a fresh DuckDBTarget, "
        f"{store.events:,} events in {_median(extras[OURS], 'seconds'):.1f} s; "
        f"{FLOOR}: one read_all pass, the same frames, plain DuckDB "
        f"({_median(extras[FLOOR], 'seconds'):.1f} s); "
        f"{NAIVE}: the runner with one INSERT per event, on the first "
        f"{naive_store.events:,} events of the same traffic"
    )
    result.notes.append(
        "each repetition in a fresh process, timed from opening the target to closing it; "
        "peak_rss_mb is that process's peak (its imports alone: "
        f"{_median(extras[OURS], 'baseline_rss_mb'):.0f} MB)"
    )
    return result


def sql_rebuild(data_dir: Path, scale: Scale, store: CachedStore) -> CaseResult:
    """EventCounts rebuilt into SQLite through SQLAlchemy, beside plain sqlite3."""
    name = f"sql_rebuild_{_label(scale.rebuild_events)}"
    extras: dict[str, list[dict[str, float]]] = {OURS: [], FLOOR: []}
    batch = scale.batch_size

    def out() -> str:
        return str(data_dir / f"{name}-{uuid.uuid4().hex}.db")

    runs: dict[str, Callable[[], Measurement]] = {
        OURS: lambda: in_fresh_process(
            rebuild_sql_ours, str(store.path), out(), batch, store.events, extras=extras[OURS]
        ),
        FLOOR: lambda: in_fresh_process(
            rebuild_sql_floor,
            str(store.path),
            out(),
            batch,
            store.events,
            extras=extras[FLOOR],
        ),
    }
    _warm_page_cache(store.path)
    measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    for path in data_dir.glob(f"{name}-*"):
        path.unlink()
    result = CaseResult(name, measured)
    result.notes.append(
        f"{OURS}: ProjectionRunner(build=1, rebuilding=True, batch_size={batch:,}).catch_up() "
        f"of read_side.projections.EventCounts into SqlTarget('sqlite:///…') "
        f"({_median(extras[OURS], 'seconds'):.1f} s); {FLOOR}: one read_all pass, the same "
        f"upserts per batch via sqlite3 executemany ({_median(extras[FLOOR], 'seconds'):.1f} s)"
    )
    return result


# --- live lag --------------------------------------------------------------------------------


def follow_live(store_path: str, target_url: str, pipe: Connection) -> None:
    """Worker process: run EventCounts live; send back (position, committed ns) of each event.

    Says "ready" once the runner is live, then waits for the writer's last position, and
    stops when that position has been applied (or after `LIVE_DRAIN_S`).
    """
    committed: list[tuple[int, int]] = []

    def on_commit(positions: list[int], at_ns: int) -> None:
        committed.extend((position, at_ns) for position in positions)

    store = SqliteEventStore(store_path)
    target = SqlTarget(target_url)
    runner = ProjectionRunner(store, CommitReportingCounts(on_commit), target)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), name="runner")
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while runner.status(with_head=False).state is not RunnerState.LIVE:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the runner did not go live: {runner.status(with_head=False)}")
            time.sleep(0.01)
        pipe.send("ready")
        last: int = pipe.recv()
        deadline = time.monotonic() + LIVE_DRAIN_S
        while runner.status(with_head=False).checkpoint < last and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(30)
        store.close()
        target.close()
    pipe.send(committed)


@dataclass(frozen=True, slots=True)
class LiveRun:
    """One live run's latencies and what the notes say about it."""

    latencies_s: list[float]
    appended: int
    seconds: float
    missing: int
    batches: int


def live_run(data_dir: Path, scale: Scale, seed: int) -> LiveRun:
    """Start a worker process, append at a steady rate, collect when each event committed."""
    store_path = data_dir / f"live-{seed}.db"
    target_url = f"sqlite:///{data_dir / f'live-{seed}-query.db'}"
    store = SqliteEventStore(store_path)  # durable appends, as the platform makes them
    appends = iter(BookstoreTraffic(seed))
    write_appends(store, take(appends, scale.live_history, whole=True))
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe()
    process = context.Process(
        target=follow_live, args=(str(store_path), target_url, sender), daemon=True
    )
    process.start()
    try:
        if not receiver.poll(120) or receiver.recv() != "ready":
            raise RuntimeError("the worker process did not go live")
        appended_at: dict[int, int] = {}
        interval = 1.0 / scale.live_rate_per_s
        started = next_at = time.perf_counter()
        end = started + scale.live_seconds
        last = 0
        while next_at < end:
            append = next(appends)
            time.sleep(max(0.0, next_at - time.perf_counter()))
            # CLOCK_MONOTONIC is one clock for every process of this machine.
            sent = time.monotonic_ns()
            last = store.append(
                append.stream, append.events, expected_version=append.expected_version
            )
            count = len(append.events)
            for position in range(last - count + 1, last + 1):
                appended_at[position] = sent
            next_at += count * interval
        elapsed = time.perf_counter() - started
        receiver.send(last)
        if not receiver.poll(LIVE_DRAIN_S + 30):
            raise RuntimeError("the worker process did not report its commits")
        committed: list[tuple[int, int]] = receiver.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
        store.close()
    live = sorted(appended_at)[LIVE_WARMUP_EVENTS:]
    at = dict(committed)
    latencies = [(at[p] - appended_at[p]) / 1e9 for p in live if p in at]
    batches = len({at[p] for p in live if p in at})
    return LiveRun(latencies, len(appended_at), elapsed, len(live) - len(latencies), batches)


def live_lag(data_dir: Path, scale: Scale) -> CaseResult:
    """A worker following EventCounts while events arrive at a steady rate."""
    name = f"live_lag_{scale.live_rate_per_s:g}_per_s"
    runs: list[LiveRun] = []

    def run() -> Measurement:
        found = live_run(data_dir, scale, SEED + 1 + len(runs))
        runs.append(found)
        if found.missing:
            raise RuntimeError(f"{found.missing} live events were never committed")
        return Measurement(percentiles_ms(found.latencies_s))

    measured = side_by_side({OURS: run}, warmups=0, repetitions=1)
    result = CaseResult(name, measured, ratio_metric="p99_ms")
    last = runs[-1]
    result.notes.append(
        f"a worker process runs ProjectionRunner.run (EventCounts into SqlTarget on SQLite, "
        f"default RunnerSettings) after catching up on {scale.live_history:,} events; this "
        f"process appends durably (synchronous=FULL), command by command (1-4 events each), "
        f"{last.appended:,} events in {last.seconds:.1f} s "
        f"({last.appended / last.seconds:,.0f}/s), {LIVE_WARMUP_EVENTS} first left out"
    )
    result.notes.append(
        "lag = CLOCK_MONOTONIC when the worker's batch has committed minus when append() was "
        "called; the commit time is taken in carry_out, which the runner calls for a batch's "
        "side effects only after its transaction (rows and checkpoint) has committed "
        "(CommitReportingCounts in benchmarks/_projections.py); "
        f"max {max(last.latencies_s) * 1000:.1f} ms, {last.batches:,} commits for "
        f"{len(last.latencies_s):,} events"
    )
    return result


# --- the run ---------------------------------------------------------------------------------


def judge(duck: CaseResult, sql: CaseResult, live: CaseResult) -> list[Target]:
    """The goals of the issue."""
    return [
        bound_target(duck, "events_per_s", at_least=80_000),
        ratio_target(duck, FLOOR, 0.4),
        bound_target(sql, "events_per_s", at_least=30_000),
        bound_target(live, "p99_ms", at_most=100.0),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Run every case, print the table and write `<out>/projections.json`."""
    run = start_run(AREA, "Projection runtime benchmark (see benchmarks/projections.py)", argv)
    scale = QUICK if run.options.quick else FULL

    with run.console.status(f"generating (or finding) a store of {scale.rebuild_events:,} events…"):
        store = cached_store(scale.rebuild_events)
        naive_store = cached_store(scale.naive_events)
    run.console.log(
        f"store of {store.events:,} events: {'reused' if store.reused else 'generated'} "
        f"(generation took {store.generated_in_s:.0f} s)"
    )
    with scratch_directory(AREA) as data_dir:
        machine = machine_info(
            data_dir,
            sqlite=sqlite3.sqlite_version,
            duckdb=version("duckdb"),
            polars=version("polars"),
            sqlalchemy=version("sqlalchemy"),
        )
        duck = run.step(
            "DuckDB rebuild", lambda: duckdb_rebuild(data_dir, scale, store, naive_store)
        )
        sql = run.step("SQL rebuild", lambda: sql_rebuild(data_dir, scale, store))
        live = run.step("live lag", lambda: live_lag(data_dir, scale))

    cases = [duck, sql, live]
    targets = judge(duck, sql, live)
    scale_block = {
        "quick": run.options.quick,
        **asdict(scale),
        "seed": SEED,
        "store": {k: v for k, v in store.stats.items() if k != "events"},
        "store_generation_s": round(store.generated_in_s, 1),
        "store_reused": store.reused,
    }
    run.report("projections", scale.repetitions, machine, scale_block, cases, targets)


if __name__ == "__main__":
    main()
