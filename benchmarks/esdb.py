"""EventStoreDB adapter benchmark: our adapter over gRPC, raw esdbclient, the embedded store.

    python -m benchmarks.esdb [--quick] [--out DIR]

No EventStoreDB server can run here, so the server is the gRPC test server of
`tests/esdb_server` (Python, on a SQLite file) in a process of its own: its speed is not
EventStoreDB's, and only the difference between our adapter and raw esdbclient calls against
the same server in the same run measures the adapter itself.

- `single_append_over_grpc`: one event per append with an exact expected version;
  `esdbclient_raw` sends a pre-built `esdbclient.NewEvent` through `append_to_stream`;
  `embedded` is our SqliteEventStore in this process (no wire) at the same durability.
- `batch_append_100_over_grpc`: 100 events per append, the same three sides.
- `catchup_read_over_grpc`: a catch-up subscription to `$all` read until it is caught up, our
  `RecordedEvent`s against esdbclient's own.
- `adapter_overhead_per_event`: per event, ours minus raw, from the two cases above it
  (appends: single; reads: catch-up), in microseconds. Target: <= 20 us.
"""

from __future__ import annotations

import shutil
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import esdbclient

from benchmarks._harness import (
    OURS,
    CaseResult,
    Measurement,
    Target,
    bound_target,
    machine_info,
    scratch_directory,
    side_by_side,
    start_run,
    throughput,
)
from tests.esdb_server.process import EsdbServerProcess
from write_side.eventstore import CaughtUp, EventStore, NewEvent, StreamState
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.sqlite import SqliteEventStore

AREA = "esdb"
RAW = "esdbclient_raw"
EMBEDDED = "embedded"
DATA = (
    b'{"book_id": "7d0c8e9e-2d2b-4b3e-8a8e-6f2e1b0d4c11", "rating": 4, "comment": "'
    + (b"x" * 220)
    + b'"}'
)
METADATA = b'{"correlation_id": "0d6f", "actor": "bench"}'


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each case does; `--quick` shrinks it."""

    single_appends: int = 1_000
    batches: int = 50
    batch_size: int = 100
    read_events: int = 20_000
    overhead_calls: int = 2_000
    warmups: int = 1
    repetitions: int = 3


FULL = Scale()
QUICK = Scale(single_appends=200, batches=10, read_events=4_000, overhead_calls=300, repetitions=1)


@contextmanager
def server(directory: Path) -> Iterator[EsdbServerProcess]:
    """The test server in a child process, on a durable SQLite file of its own."""
    path = directory / f"server-{uuid.uuid4().hex}.db"
    with EsdbServerProcess(f"sqlite:///{path}?synchronous=FULL") as process:
        yield process


@dataclass(slots=True)
class CpuPerEvent:
    """This process's CPU time per event of each run (the server runs in another process, so
    this is the client side alone: what an adapter adds shows here without the server's noise)."""

    runs: list[float] = field(default_factory=list)

    def median_us(self) -> float:
        """The median over the runs, in microseconds per event."""
        return statistics.median(self.runs) * 1e6


def appends(
    append: Callable[[str, int, int], None],
    *,
    commits: int,
    batch_size: int,
    cpu: CpuPerEvent,
) -> Callable[[], Measurement]:
    """A run of `commits` appends of `batch_size` events, round-robin over 8 fresh streams."""

    def run() -> Measurement:
        streams = [f"bench-{uuid.uuid4().hex}" for _ in range(8)]
        last = dict.fromkeys(streams, -1)
        latencies = []
        started, started_cpu = time.perf_counter(), time.process_time()
        for i in range(commits):
            stream = streams[i % 8]
            before = time.perf_counter()
            append(stream, last[stream], batch_size)
            latencies.append(time.perf_counter() - before)
            last[stream] += batch_size
        cpu.runs.append((time.process_time() - started_cpu) / (commits * batch_size))
        return throughput(commits * batch_size, time.perf_counter() - started, latencies)

    return run


def ours_append(store: EventStore) -> Callable[[str, int, int], None]:
    def append(stream: str, last: int, count: int) -> None:
        events = [
            NewEvent(type="FeedbackCreated", data=DATA, metadata=METADATA) for _ in range(count)
        ]
        store.append(stream, events, expected_version=StreamState.NO_STREAM if last < 0 else last)

    return append


def raw_append(client: esdbclient.EventStoreDBClient) -> Callable[[str, int, int], None]:
    prebuilt = [
        esdbclient.NewEvent(type="FeedbackCreated", data=DATA, metadata=METADATA)
        for _ in range(100)
    ]

    def append(stream: str, last: int, count: int) -> None:
        version = esdbclient.StreamState.NO_STREAM if last < 0 else last
        # esdbclient wants fresh ids per event: pre-built objects with new ids, built outside
        # nothing but the id (a dataclass replace is what a caller would pay anyway).
        events = [
            esdbclient.NewEvent(type=e.type, data=e.data, metadata=e.metadata, id=uuid.uuid4())
            for e in prebuilt[:count]
        ]
        client.append_to_stream(
            stream, current_version=version, events=events[0] if count == 1 else events
        )

    return append


def append_case(
    name: str,
    scale: Scale,
    store: EsdbEventStore,
    client: esdbclient.EventStoreDBClient,
    embedded: SqliteEventStore,
    *,
    commits: int,
    batch_size: int,
) -> tuple[CaseResult, dict[str, CpuPerEvent]]:
    cpu = {OURS: CpuPerEvent(), RAW: CpuPerEvent(), EMBEDDED: CpuPerEvent()}
    runs = {
        OURS: appends(ours_append(store), commits=commits, batch_size=batch_size, cpu=cpu[OURS]),
        RAW: appends(raw_append(client), commits=commits, batch_size=batch_size, cpu=cpu[RAW]),
        EMBEDDED: appends(
            ours_append(embedded), commits=commits, batch_size=batch_size, cpu=cpu[EMBEDDED]
        ),
    }
    measured = side_by_side(runs, warmups=scale.warmups, repetitions=scale.repetitions)
    return CaseResult(name, measured), cpu


def fill(store: EventStore, count: int) -> None:
    """`count` events in batches of 500, so a catch-up read has a history to go through."""
    for start in range(0, count, 500):
        store.append(
            f"history-{uuid.uuid4().hex}",
            [
                NewEvent(type="FeedbackCreated", data=DATA, metadata=METADATA)
                for _ in range(min(500, count - start))
            ],
            expected_version=StreamState.NO_STREAM,
        )


def catchup_case(
    scale: Scale, store: EsdbEventStore, client: esdbclient.EventStoreDBClient
) -> tuple[CaseResult, dict[str, CpuPerEvent]]:
    cpu = {OURS: CpuPerEvent(), RAW: CpuPerEvent()}

    def ours() -> Measurement:
        started, started_cpu = time.perf_counter(), time.process_time()
        count = 0
        with store.subscribe_to_all(include_caught_up=True) as subscription:
            for item in subscription:
                if isinstance(item, CaughtUp):
                    break
                count += 1
        cpu[OURS].runs.append((time.process_time() - started_cpu) / count)
        return throughput(count, time.perf_counter() - started)

    def raw() -> Measurement:
        started, started_cpu = time.perf_counter(), time.process_time()
        count = 0
        subscription = client.subscribe_to_all(include_caught_up=True)
        try:
            for item in subscription:
                if isinstance(item, esdbclient.CaughtUp):
                    break
                count += 1
        finally:
            subscription.stop()
        cpu[RAW].runs.append((time.process_time() - started_cpu) / count)
        return throughput(count, time.perf_counter() - started)

    measured = side_by_side(
        {OURS: ours, RAW: raw}, warmups=scale.warmups, repetitions=scale.repetitions
    )
    return CaseResult("catchup_read_over_grpc", measured), cpu


def interleaved_append_cpu(
    store: EsdbEventStore, client: esdbclient.EventStoreDBClient, calls: int
) -> dict[str, CpuPerEvent]:
    """Client CPU per single append, ours and raw alternating call by call (so drift in the
    machine or the server hits both alike), in blocks whose medians are kept."""
    cpu = {OURS: CpuPerEvent(), RAW: CpuPerEvent()}
    sides = {OURS: ours_append(store), RAW: raw_append(client)}
    last = {side: {f"cpu-{side}-{uuid.uuid4().hex}": -1} for side in sides}
    block = 100
    for _ in range(max(1, calls // block)):
        spent = dict.fromkeys(sides, 0.0)
        for _ in range(block):
            for side, append in sides.items():
                ((stream, revision),) = last[side].items()
                before = time.process_time()
                append(stream, revision, 1)
                spent[side] += time.process_time() - before
                last[side][stream] = revision + 1
        for side in sides:
            cpu[side].runs.append(spent[side] / block)
    return cpu


def overhead_case(appending: dict[str, CpuPerEvent], reading: dict[str, CpuPerEvent]) -> CaseResult:
    """Ours minus raw, in this process's CPU time per event, for single appends and reads."""
    append_us = appending[OURS].median_us() - appending[RAW].median_us()
    read_us = reading[OURS].median_us() - reading[RAW].median_us()
    result = CaseResult(
        "adapter_overhead_per_event",
        {
            OURS: Measurement({"overhead_us": max(append_us, read_us)}),
            "append": Measurement({"overhead_us": append_us}),
            "read": Measurement({"overhead_us": read_us}),
        },
        ratio_metric="overhead_us",
    )
    result.notes.append(
        "client-side CPU time per event (the server runs in another process), ours minus "
        f"{RAW}: append = single appends alternating call by call, medians of 100-call blocks; "
        "read = the catch-up read; ours = the larger. Client CPU per event: appends ours "
        f"{appending[OURS].median_us():.0f} us, raw {appending[RAW].median_us():.0f} us; reads "
        f"ours {reading[OURS].median_us():.1f} us, raw {reading[RAW].median_us():.1f} us"
    )
    return result


def judge(overhead: CaseResult) -> list[Target]:
    """The goal of the issue."""
    return [bound_target(overhead, "overhead_us", at_most=20.0)]


def main() -> None:
    """Run every case, print the table and write `<out>/esdb.json`."""
    run = start_run(AREA, "EventStoreDB adapter benchmark (see benchmarks/esdb.py)")
    scale = QUICK if run.options.quick else FULL
    with scratch_directory(AREA) as data_dir, server(data_dir) as process:
        machine = machine_info(
            data_dir, esdbclient="1.1.7", server="tests/esdb_server (Python gRPC)"
        )
        embedded = SqliteEventStore(data_dir / "embedded.db", synchronous="FULL")
        store = EsdbEventStore(process.uri)
        client = esdbclient.EventStoreDBClient(process.uri)
        try:
            with run.console.status("single appends…"):
                single, _ = append_case(
                    "single_append_over_grpc",
                    scale,
                    store,
                    client,
                    embedded,
                    commits=scale.single_appends,
                    batch_size=1,
                )
            with run.console.status("batch appends…"):
                batch, _ = append_case(
                    f"batch_append_{scale.batch_size}_over_grpc",
                    scale,
                    store,
                    client,
                    embedded,
                    commits=scale.batches,
                    batch_size=scale.batch_size,
                )
            with run.console.status("catch-up reads…"):
                fill(store, scale.read_events)
                read, read_cpu = catchup_case(scale, store, client)
            with run.console.status("adapter overhead…"):
                single_cpu = interleaved_append_cpu(store, client, scale.overhead_calls)
        finally:
            client.close()
            store.close()
            embedded.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    overhead = overhead_case(single_cpu, read_cpu)
    single.notes.append(
        f"{RAW}: esdbclient.append_to_stream with esdbclient.NewEvent objects; {EMBEDDED}: "
        "SqliteEventStore in this process, no wire; the server is Python, not EventStoreDB"
    )
    cases = [single, batch, read, overhead]
    targets = judge(overhead)
    scale_block = asdict(scale) | {"data_bytes": len(DATA), "metadata_bytes": len(METADATA)}
    run.report("esdb", scale.repetitions, machine, scale_block, cases, targets)


if __name__ == "__main__":
    main()
