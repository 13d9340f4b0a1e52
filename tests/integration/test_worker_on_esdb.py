"""`bookworm worker` runs its projections on EventStoreDB by configuration alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.esdb_server.server import EsdbTestServer
from tests.pipelines.children import Process
from tests.pipelines.test_processes import QueryDb, wait_until, worker_environment
from write_side.eventstore import NewEvent, StreamState
from write_side.eventstore.esdb import EsdbEventStore

TIMEOUT_S = 30.0


@pytest.mark.multiprocess
def test_the_worker_follows_eventstoredb_named_by_bookworm_event_store(
    fresh_esdb_server: EsdbTestServer, tmp_path: Path
) -> None:
    """Given BOOKWORM_EVENT_STORE=esdb://… (the gRPC test server), `bookworm worker` catches
    up on the history, follows new appends live, and exits 0 on SIGTERM."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = worker_environment(data_dir) | {"BOOKWORM_EVENT_STORE": fresh_esdb_server.uri}
    argv = [sys.executable, "-c", "from api.cli import app; app()", "worker"]
    db = QueryDb(f"sqlite:///{data_dir / 'query.db'}")
    with EsdbEventStore(fresh_esdb_server.uri) as store:
        for n in range(20):
            store.append(
                f"book-{n}",
                [
                    NewEvent(type="BookCreated", data=b"{}"),
                    NewEvent(type="BookRenamed", data=b"{}"),
                ],
                expected_version=StreamState.NO_STREAM,
            )
        try:
            with Process(
                [*argv, "--projection", "event_counts"], name="worker", cwd=tmp_path, env=env
            ) as worker:
                wait_until(
                    lambda: db.rows().get(("book", "BookRenamed"), (0, 0))[0] == 20,
                    timeout=TIMEOUT_S,
                    what="the worker catching up on EventStoreDB's history",
                )
                last = store.append(
                    "order-1",
                    [NewEvent(type="OrderPlaced", data=b"{}")],
                    expected_version=StreamState.NO_STREAM,
                )
                wait_until(
                    lambda: db.checkpoint() == last,
                    timeout=TIMEOUT_S,
                    what="the worker applying a live append",
                )
                assert worker.terminate(TIMEOUT_S) == 0, worker.fail("did not exit 0 on SIGTERM")
        finally:
            rows = db.rows()
            db.close()
    assert rows[("book", "BookCreated")][0] == 20
    assert rows[("order", "OrderPlaced")] == (1, last)
