"""Child: runs `event_counts` in a `Worker` until SIGTERM, reporting on stdout as it goes.

Usage: `python -m tests.pipelines.children.projector EVENTS_URI QUERY_URL TTL_S BATCH_SIZE`

It is `bookworm worker --projection event_counts` with the runner settings a test needs (a
short lease, small batches). It prints JSON lines, each one write flushed at once: first
`{"holder": NAME, "pid": PID}` (the name its runner takes the lease under), then every 50 ms
`{"status": STATUS}` (its runner's status, as stored beside the lease), and after a graceful
stop `{"stopped": STATUS}`. SIGTERM or SIGINT stops it as they stop the worker: the runner
finishes its batch, stores its checkpoint and gives its lease up, and the process exits 0.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

from pipelines.runner import RunnerSettings
from pipelines.worker import Assignment, Worker
from read_side.projections.event_counts import EventCounts
from read_side.targets.sql import SqlTarget
from write_side.eventstore.factory import open_event_store

REPORT_EVERY_S = 0.05


def say(line: dict[str, Any]) -> None:
    """Print one JSON line as a single write, flushed at once."""
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main(events_uri: str, query_url: str, ttl_s: float, batch_size: int) -> None:
    settings = RunnerSettings(batch_size=batch_size, lease_ttl_s=ttl_s, idle_s=0.05)
    store = open_event_store(events_uri)
    target = SqlTarget(query_url)
    try:
        worker = Worker(store, [Assignment(EventCounts(), target)], settings=settings)
        worker.stop_on_signals()
        (runner,) = worker.runners
        say({"holder": runner.holder, "pid": os.getpid()})

        def report() -> None:
            while not worker.stop.wait(REPORT_EVERY_S):
                say({"status": runner.status(with_head=False).to_json()})

        reporter = threading.Thread(target=report, name="report", daemon=True)
        reporter.start()
        worker.run()
        reporter.join()
        say({"stopped": runner.status(with_head=False).to_json()})
    finally:
        target.close()
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
