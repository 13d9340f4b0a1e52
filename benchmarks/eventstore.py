"""Event store benchmark: SqliteEventStore beside plain sqlite3 and eventsourcing's recorder.

    python -m benchmarks.eventstore [--quick] [--out DIR]

Every side writes the same rows (a 16-byte id, stream name, revision, type, ~300 bytes of JSON
data, ~150 bytes of JSON metadata) to its own file in WAL mode with `synchronous=FULL`, so every
commit waits for an fsync. The references:

- `raw_sqlite`, the floor: plain `sqlite3`, one INSERT (or one `executemany`) per commit; a
  unique (stream, revision) index stands in for the expected-version check.
- `eventsourcing`: the `SQLiteApplicationRecorder` of eventsourcing, whose primary key on
  (originator_id, originator_version) is its expected-version check. It keeps one `state` blob
  per event, which gets the data and metadata bytes together.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
)

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
    throughput,
)
from benchmarks._raw_sqlite import RAW_DDL, RAW_INSERT, RAW_SELECT, connect_durable
from write_side.eventstore import NewEvent, RecordedEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore

AREA = "eventstore"
SEED = 20_251_126
RAW, PEER = "raw_sqlite", "eventsourcing"

PLACED_FROM = datetime(2025, 11, 1, tzinfo=UTC)

#: One event as every side receives it: type, data, metadata.
Payload = tuple[str, bytes, bytes]


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each case does; `--quick` shrinks everything but the thread count."""

    single_appends: int = 2_000
    streams: int = 8
    threads: int = 16
    appends_per_thread: int = 250
    batch_size: int = 100
    batches: int = 200
    read_events: int = 200_000
    tail_events: int = 500
    tail_rate_per_s: float = 200.0
    warmups: int = 1
    repetitions: int = 5


FULL = Scale()
QUICK = Scale(
    single_appends=300,
    appends_per_thread=40,
    batches=40,
    read_events=20_000,
    tail_events=100,
    repetitions=2,
)

#: Events of each live-tail run left out of its figures (the subscriber's first wake-ups).
TAIL_WARMUP_EVENTS = 10
#: Poll interval of the raw live-tail floor: a plain reader asking for new rows.
RAW_POLL_S = 0.001
#: Page size of the eventsourcing notification reads; generous, so its round trips stay few.
PEER_PAGE = 1_000
#: Events per append while filling the stores for `read_all`.
FILL_BATCH = 100


# --- the sides -------------------------------------------------------------------------------


class Side(Protocol):
    """What a case asks of each implementation under test."""

    def append(self, stream: uuid.UUID, last_revision: int, events: Sequence[Payload]) -> int:
        """Append durably after `last_revision` (-1: a new stream); the last event's position."""

    def read_all(self) -> int:
        """Read every event in commit order, building each side's own event objects; the count."""

    def close(self) -> None:
        """Release the file."""


class OursSide:
    """`SqliteEventStore` with durable commits."""

    def __init__(self, path: Path) -> None:
        self.store = SqliteEventStore(str(path), synchronous="FULL")

    def append(self, stream: uuid.UUID, last_revision: int, events: Sequence[Payload]) -> int:
        return self.store.append(
            f"order-{stream}",
            [NewEvent(type=t, data=d, metadata=m) for t, d, m in events],
            expected_version=StreamState.NO_STREAM if last_revision < 0 else last_revision,
        )

    def read_all(self) -> int:
        count = 0
        for _ in self.store.read_all():
            count += 1
        return count

    def close(self) -> None:
        self.store.close()


class RawSqliteSide:
    """The floor: plain sqlite3 in autocommit mode, one statement (or executemany) per commit.

    Each thread gets a connection of its own, as plain sqlite3 code would do it; concurrent
    appends then each commit on their own, one after the other (no group commit).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local = threading.local()
        self.connections: list[sqlite3.Connection] = []
        self.conn.execute(RAW_DDL)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = connect_durable(self.path)
            self.connections.append(conn)
        return conn

    def append(self, stream: uuid.UUID, last_revision: int, events: Sequence[Payload]) -> int:
        name = f"order-{stream}"
        rows = [
            (uuid.uuid4().bytes, name, last_revision + 1 + i, t, d, m)
            for i, (t, d, m) in enumerate(events)
        ]
        if len(rows) == 1:
            return self.conn.execute(RAW_INSERT, rows[0]).lastrowid or 0
        self.conn.execute("BEGIN")
        self.conn.executemany(RAW_INSERT, rows)
        (position,) = self.conn.execute("SELECT last_insert_rowid()").fetchone()
        self.conn.execute("COMMIT")
        return int(position)

    def read_all(self) -> int:
        count = 0
        for _ in self.conn.execute(RAW_SELECT + " ORDER BY position"):
            count += 1
        return count

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


class _DurablePool(SQLiteConnectionPool):
    """eventsourcing's pool (which turns WAL on), setting `synchronous=FULL` on each connection."""

    def _create_connection(self) -> SQLiteConnection:
        conn = super()._create_connection()
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = FULL")
        return conn


class EventsourcingSide:
    """eventsourcing's SQLite application recorder: `insert_events` and `select_notifications`."""

    def __init__(self, path: Path) -> None:
        self.datastore = SQLiteDatastore(db_name=str(path))
        # The datastore has no option for `synchronous`; give it a pool that sets it.
        self.datastore.pool.close()
        self.datastore.pool = _DurablePool(db_name=str(path))
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
        if (journal, synchronous) != ("wal", 2):
            raise RuntimeError(f"eventsourcing is not durable: {journal=}, {synchronous=}")

    def append(self, stream: uuid.UUID, last_revision: int, events: Sequence[Payload]) -> int:
        stored = [
            StoredEvent(
                originator_id=stream,
                originator_version=last_revision + 1 + i,
                topic=t,
                state=d + m,
            )
            for i, (t, d, m) in enumerate(events)
        ]
        positions = self.recorder.insert_events(stored)
        return positions[-1] if positions else 0

    def read_all(self) -> int:
        count, start = 0, 1
        while page := self.recorder.select_notifications(start, PEER_PAGE):
            count += len(page)
            start = page[-1].id + 1
        return count

    def close(self) -> None:
        self.datastore.close()


SIDE_TYPES: dict[str, Callable[[Path], Side]] = {
    OURS: OursSide,
    RAW: RawSqliteSide,
    PEER: EventsourcingSide,
}


@contextmanager
def open_sides(data_dir: Path, case: str, names: Sequence[str]) -> Iterator[dict[str, Side]]:
    """A fresh file per side for this case, closed afterwards."""
    with ExitStack() as stack:
        sides: dict[str, Side] = {}
        for name in names:
            side = SIDE_TYPES[name](data_dir / f"{case}-{name}.db")
            stack.callback(side.close)
            sides[name] = side
        yield sides


# --- the data --------------------------------------------------------------------------------


def make_payloads(count: int, seed: int = SEED) -> list[Payload]:
    """Order-like events: ~300 bytes of JSON data and ~150 bytes of JSON metadata each."""
    rng = random.Random(seed)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def encode(value: object) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    payloads: list[Payload] = []
    for _ in range(count):
        items = [
            {
                "book_id": uid(),
                "quantity": rng.randint(1, 3),
                "unit_price": f"{rng.uniform(4, 60):.2f}",
            }
            for _ in range(2)
        ]
        data = {
            "order_id": uid(),
            "items": items,
            "total": f"{rng.uniform(8, 180):.2f}",
            "currency": "USD",
            "placed_at": (PLACED_FROM + timedelta(microseconds=rng.getrandbits(40))).isoformat(),
        }
        metadata = {
            "correlation_id": uid(),
            "causation_id": uid(),
            "user_id": uid()[:8],
            "source": "bench",
        }
        payloads.append(("OrderPlaced", encode(data), encode(metadata)))
    return payloads


def cycled(payloads: Sequence[Payload], start: int, count: int) -> list[Payload]:
    """`count` payloads from index `start`, wrapping around the end."""
    return [payloads[(start + i) % len(payloads)] for i in range(count)]


# --- the cases -------------------------------------------------------------------------------


def sequential_appends(
    side: Side, payloads: Sequence[Payload], *, commits: int, batch_size: int, streams: int
) -> Callable[[], Measurement]:
    """A run of `commits` appends of `batch_size` events, round-robin over a few streams.

    Each append states the stream's exact last revision; the streams carry over between runs.
    """
    last = {uuid.uuid4(): -1 for _ in range(streams)}
    names = list(last)

    def run() -> Measurement:
        latencies: list[float] = []
        started = time.perf_counter()
        for i in range(commits):
            stream = names[i % len(names)]
            batch = cycled(payloads, i * batch_size, batch_size)
            before = time.perf_counter()
            side.append(stream, last[stream], batch)
            latencies.append(time.perf_counter() - before)
            last[stream] += len(batch)
        return throughput(commits * batch_size, time.perf_counter() - started, latencies)

    return run


def single_append_durable(data_dir: Path, scale: Scale, payloads: Sequence[Payload]) -> CaseResult:
    """One event per append, each with an exact expected version, one after another."""
    name = "single_append_durable"
    with open_sides(data_dir, name, (OURS, RAW, PEER)) as sides:
        runs = {
            side_name: sequential_appends(
                side, payloads, commits=scale.single_appends, batch_size=1, streams=scale.streams
            )
            for side_name, side in sides.items()
        }
        measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    return CaseResult(name, measured)


def concurrent_appends(
    side: Side, payloads: Sequence[Payload], *, threads: int, per_thread: int
) -> Measurement:
    """`threads` threads each appending single events to their own new stream, all at once."""
    start = threading.Barrier(threads + 1)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def worker(index: int, mine: list[float]) -> None:
        stream = uuid.uuid4()
        try:
            start.wait()
            for revision in range(per_thread):
                event = payloads[(index + revision * threads) % len(payloads)]
                before = time.perf_counter()
                side.append(stream, revision - 1, (event,))
                mine.append(time.perf_counter() - before)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [
        threading.Thread(target=worker, args=(index, mine)) for index, mine in enumerate(latencies)
    ]
    for thread in workers:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return throughput(threads * per_thread, elapsed, [s for mine in latencies for s in mine])


def group_commit_16_threads(
    data_dir: Path, scale: Scale, payloads: Sequence[Payload], single: CaseResult
) -> CaseResult:
    """Concurrent single appends from one process, which the store commits in groups."""
    name = f"group_commit_{scale.threads}_threads"
    with open_sides(data_dir, name, (OURS, RAW)) as sides:
        runs = {
            side_name: functools.partial(
                concurrent_appends,
                side,
                payloads,
                threads=scale.threads,
                per_thread=scale.appends_per_thread,
            )
            for side_name, side in sides.items()
        }
        measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    result = CaseResult(name, measured)
    result.notes.append(
        f"{RAW}: the same {scale.threads} threads, each with its own sqlite3 connection "
        "committing on its own (no group commit)"
    )
    result.notes.append(
        f"target: ours >= 3x our single appends ({single.name}: "
        f"{single.sides[OURS]['events_per_s']:,.0f} events/s)"
    )
    return result


def batch_append_100(data_dir: Path, scale: Scale, payloads: Sequence[Payload]) -> CaseResult:
    """Appends of 100 events each, with an exact expected version."""
    name = f"batch_append_{scale.batch_size}"
    with open_sides(data_dir, name, (OURS, RAW, PEER)) as sides:
        runs = {}
        for side_name, side in sides.items():
            run = sequential_appends(
                side,
                payloads,
                commits=scale.batches,
                batch_size=scale.batch_size,
                streams=scale.streams,
            )
            runs[side_name] = _without_latency(run)
        measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    return CaseResult(name, measured)


def _without_latency(run: Callable[[], Measurement]) -> Callable[[], Measurement]:
    def events_per_s_only() -> Measurement:
        return Measurement({"events_per_s": run()["events_per_s"]})

    return events_per_s_only


def read_all_200k(data_dir: Path, scale: Scale, payloads: Sequence[Payload]) -> CaseResult:
    """Read every event of a filled store in commit order."""
    name = "read_all_200k"
    with open_sides(data_dir, name, (OURS, RAW, PEER)) as sides:
        for side in sides.values():
            fill(side, payloads, scale.read_events)

        def reader(side: Side) -> Callable[[], Measurement]:
            def run() -> Measurement:
                started = time.perf_counter()
                count = side.read_all()
                elapsed = time.perf_counter() - started
                if count != scale.read_events:
                    raise RuntimeError(f"read {count} events, expected {scale.read_events}")
                return throughput(count, elapsed)

            return run

        runs = {side_name: reader(side) for side_name, side in sides.items()}
        measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    result = CaseResult(name, measured)
    result.notes.append(f"{scale.read_events:,} events; {PEER} reads pages of {PEER_PAGE:,}")
    return result


def fill(side: Side, payloads: Sequence[Payload], count: int) -> None:
    """Append `count` events in batches, one new stream per batch."""
    for first in range(0, count, FILL_BATCH):
        side.append(uuid.uuid4(), -1, cycled(payloads, first, min(FILL_BATCH, count - first)))


def live_tail_cross_process(
    data_dir: Path, scale: Scale, payloads: Sequence[Payload]
) -> CaseResult:
    """Append at a steady rate here; a subscriber in another process records each delivery."""
    name = "live_tail_cross_process"
    followers = {OURS: follow_ours, RAW: follow_raw}
    with open_sides(data_dir, name, (OURS, RAW)) as sides:

        def tail(side_name: str) -> Callable[[], Measurement]:
            path = data_dir / f"{name}-{side_name}.db"
            return lambda: tail_run(sides[side_name], path, followers[side_name], scale, payloads)

        runs = {side_name: tail(side_name) for side_name in sides}
        measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    result = CaseResult(name, measured, ratio_metric="p99_ms")
    result.notes.append(
        f"{scale.tail_events} events at {scale.tail_rate_per_s:g}/s; latency from the call to "
        f"append() to delivery in the other process; {RAW}: a reader polling every "
        f"{RAW_POLL_S * 1000:g} ms; ours/ref on p99 (below 1 is better)"
    )
    return result


Follower = Callable[[str, int, int, Connection], None]


def tail_run(
    side: Side, path: Path, follower: Follower, scale: Scale, payloads: Sequence[Payload]
) -> Measurement:
    """One live-tail run: start a subscriber process, append, collect its delivery times."""
    context = multiprocessing.get_context("spawn")
    stream = uuid.uuid4()
    after = side.append(stream, -1, payloads[:1])
    total = TAIL_WARMUP_EVENTS + scale.tail_events
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=follower, args=(str(path), after, total, sender), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(60) or receiver.recv() != "ready":
            raise RuntimeError("the subscriber process did not start")
        appended_at: dict[int, int] = {}
        interval = 1.0 / scale.tail_rate_per_s
        next_at = time.perf_counter()
        for revision in range(1, total + 1):
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
            # CLOCK_MONOTONIC is one clock for every process of this machine.
            sent = time.monotonic_ns()
            position = side.append(stream, revision - 1, (payloads[revision % len(payloads)],))
            appended_at[position] = sent
        if not receiver.poll(30):
            raise RuntimeError("the subscriber process did not report its deliveries")
        delivered: list[tuple[int, int]] = receiver.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    latencies = [(at - appended_at[pos]) / 1e9 for pos, at in delivered[TAIL_WARMUP_EVENTS:]]
    return Measurement(percentiles_ms(latencies))


def follow_ours(path: str, after: int, count: int, out: Connection) -> None:
    """Subscriber process: follow `$all` after `after` and send back (position, delivered ns)."""
    store = SqliteEventStore(path, synchronous="FULL")
    delivered: list[tuple[int, int]] = []
    try:
        with store.subscribe_to_all(from_position=after) as subscription:
            out.send("ready")
            for item in subscription:
                now = time.monotonic_ns()
                if isinstance(item, RecordedEvent):
                    delivered.append((item.position, now))
                    if len(delivered) == count:
                        break
    finally:
        store.close()
    out.send(delivered)


def follow_raw(path: str, after: int, count: int, out: Connection) -> None:
    """Floor subscriber process: poll for rows after the last one seen."""
    conn = sqlite3.connect(path, isolation_level=None)
    delivered: list[tuple[int, int]] = []
    last = after
    out.send("ready")
    try:
        while len(delivered) < count:
            rows = conn.execute(RAW_SELECT + " WHERE position > ? ORDER BY position", (last,))
            found = rows.fetchall()
            now = time.monotonic_ns()
            for row in found:
                delivered.append((row[0], now))
            if found:
                last = found[-1][0]
            else:
                time.sleep(RAW_POLL_S)
    finally:
        conn.close()
    out.send(delivered[:count])


# --- the run ---------------------------------------------------------------------------------


def judge(
    single: CaseResult, group: CaseResult, batch: CaseResult, read: CaseResult, tail: CaseResult
) -> list[Target]:
    """The goals of the issue."""
    return [
        ratio_target(single, RAW, 0.8),
        ratio_target(single, PEER, 1.0),
        ratio_target(group, OURS, 3.0, ref_case=single, label="our single appends"),
        ratio_target(batch, RAW, 0.6),
        bound_target(batch, "events_per_s", at_least=50_000),
        bound_target(read, "events_per_s", at_least=150_000),
        bound_target(tail, "p99_ms", at_most=15.0),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Run every case, print the table and write `<out>/eventstore.json`."""
    run = start_run(AREA, "Event store benchmark (see benchmarks/eventstore.py)", argv)
    scale = QUICK if run.options.quick else FULL
    payloads = make_payloads(1_000)

    with scratch_directory(AREA) as data_dir:
        machine = machine_info(data_dir, sqlite=sqlite3.sqlite_version, eventsourcing=version(PEER))
        single = run.step(
            "single appends", lambda: single_append_durable(data_dir, scale, payloads)
        )
        group = run.step(
            "group commit", lambda: group_commit_16_threads(data_dir, scale, payloads, single)
        )
        batch = run.step("batch appends", lambda: batch_append_100(data_dir, scale, payloads))
        read = run.step("read_all", lambda: read_all_200k(data_dir, scale, payloads))
        tail = run.step("live tail", lambda: live_tail_cross_process(data_dir, scale, payloads))

    cases = [single, group, batch, read, tail]
    targets = judge(single, group, batch, read, tail)
    scale_block = {
        "quick": run.options.quick,
        **asdict(scale),
        "data_bytes": round(sum(len(p[1]) for p in payloads) / len(payloads)),
        "metadata_bytes": round(sum(len(p[2]) for p in payloads) / len(payloads)),
    }
    run.report("eventstore", scale.repetitions, machine, scale_block, cases, targets)


if __name__ == "__main__":
    main()
