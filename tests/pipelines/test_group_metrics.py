"""Prometheus metrics of subscription groups: a scrape shows what `bookworm groups` shows."""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pipelines.group_metrics import GroupCollector
from tests.pipelines.children import Process
from write_side.eventstore import NewEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups import GroupSettings
from write_side.groups.sqlite import SqliteSubscriptionGroups

WAIT_S = 30.0


def test_a_scrape_shows_each_group_figures() -> None:
    """Given a group whose consumer holds two events, parked one and acknowledged one, the
    scrape carries in flight, parked, consumers and the totals, labelled by group and source."""
    with SqliteEventStore() as store, SqliteSubscriptionGroups(store) as groups:
        store.append(
            "order-1",
            [NewEvent("OrderPlaced", b"{}") for _ in range(4)],
            expected_version=StreamState.NO_STREAM,
        )
        groups.create_subscription_to_all("email_sender", settings=GroupSettings())
        registry = CollectorRegistry()
        registry.register(GroupCollector(groups.list_subscriptions))
        with groups.read_subscription_to_all("email_sender", max_ack_batch_size=1) as consumer:
            received = []
            for _ in range(4):
                delivered = consumer.receive(10)
                assert delivered is not None
                received.append(delivered)
            consumer.ack(received[0])
            consumer.nack(received[1], "park")

            scraped = generate_latest(registry).decode()

    labels = '{group="email_sender",source="$all"}'
    assert f"bookworm_group_in_flight_events{labels} 2.0" in scraped
    assert f"bookworm_group_parked_events{labels} 1.0" in scraped
    assert f"bookworm_group_consumers{labels} 1.0" in scraped
    assert f"bookworm_group_delivered_events_total{labels} 4.0" in scraped
    assert f"bookworm_group_acked_events_total{labels} 1.0" in scraped
    assert f"bookworm_group_last_read_position{labels} 4.0" in scraped
    assert f"bookworm_group_head{labels} 5.0" in scraped  # the parked link is the newest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.multiprocess
def test_bookworm_worker_exports_the_groups(tmp_path: Path) -> None:
    """`bookworm worker --metrics-port` serves the groups' figures beside the projections'."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    with SqliteEventStore(data_dir / "events.db") as store:
        store.append("order-1", [NewEvent("OrderPlaced", b"{}")], expected_version=StreamState.ANY)
        with SqliteSubscriptionGroups(store) as groups:
            groups.create_subscription_to_all("metrics_probe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKWORM_")}
    env |= {"BOOKWORM_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    port = _free_port()
    argv = [sys.executable, "-c", "from api.cli import app; app()", "worker"]
    with Process([*argv, "--metrics-port", str(port)], name="worker", cwd=tmp_path, env=env) as w:
        w.wait_for(
            lambda: any(line.startswith("worker:") for line in w.lines),
            timeout=WAIT_S,
            what="the worker running",
        )
        scraped = ""
        deadline = time.monotonic() + WAIT_S
        while "bookworm_group_" not in scraped and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    scraped = r.read().decode()
            except OSError:
                time.sleep(0.1)
        assert w.terminate(WAIT_S) == 0

    head_line = next(
        line
        for line in scraped.splitlines()
        if line.startswith('bookworm_group_head{group="metrics_probe",source="$all"}')
    )
    assert float(head_line.split()[-1]) >= 1.0  # the worker's own jobs may have appended more
    assert 'bookworm_group_in_flight_events{group="metrics_probe",source="$all"} 0.0' in scraped
    assert "bookworm_projection_checkpoint" in scraped
