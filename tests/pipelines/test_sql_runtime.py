"""The runtime on the SQL target, on SQLite and on this machine's PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from pipelines.dead_letters import list_dead_letters, replay
from pipelines.rebuild import rebuild
from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.targets.sql import SqlTarget
from tests.databases import sql_target_with_url
from tests.pipelines.projections import SqlCountsByType
from tests.pipelines.test_runner import append, wait_for
from write_side.eventstore import EventStore

FAST = RunnerSettings(retry_backoff_s=0.001, idle_s=0.02, lease_ttl_s=0.6, batch_size=25)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlTarget, str]]:
    """A SQL target and a URL (with its schema) for readers on other connections."""
    with sql_target_with_url(request.param, tmp_path) as found:
        yield found


def view_counts(url: str) -> dict[str, int]:
    """What a query sees through the stable view, on a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT event_type, events FROM sql_counts_by_type"))
            return {r[0]: int(r[1]) for r in rows}
    finally:
        engine.dispose()


def counts_once_created(url: str) -> dict[str, int]:
    """`view_counts`, or nothing while the worker has not created its first build yet."""
    try:
        return view_counts(url)
    except DBAPIError:
        return {}


def test_given_events_the_tables_hold_the_counts(
    store: EventStore, sql: tuple[SqlTarget, str]
) -> None:
    """A worker-style runner (following the live build) counts the events and goes live."""
    target, url = sql
    append(store, "test-1", "A", "B", "A")
    append(store, "other-1", "X")

    ProjectionRunner(store, SqlCountsByType(), target, settings=FAST).catch_up()

    assert view_counts(url) == {"A": 2, "B": 1}


def test_a_poison_event_is_parked_then_replayed(
    store: EventStore, sql: tuple[SqlTarget, str]
) -> None:
    """The failing event is parked with its error, the rest counted; after the fix a replay
    applies it and the letter is gone."""
    target, url = sql
    append(store, "test-1", "A", "A", "A", "A")
    ProjectionRunner(store, SqlCountsByType(fail_on={2}), target, settings=FAST).catch_up()
    assert view_counts(url) == {"A": 3}
    (letter,) = list_dead_letters(target)
    assert "cannot handle n=2" in letter.error

    outcome = replay(store, SqlCountsByType(), target)

    assert len(outcome.replayed) == 1
    assert view_counts(url) == {"A": 4}
    assert list_dead_letters(target) == []


def test_readers_never_see_a_half_built_model(
    store: EventStore, sql: tuple[SqlTarget, str]
) -> None:
    """While build 2 is rebuilt beside the live build 1 (a worker keeps it live), a reader on
    another connection always sees all 1,000 events counted, then build 2 takes over."""
    target, url = sql
    for n in range(10):
        append(store, f"test-{n}", *["E"] * 100)
    worker = ProjectionRunner(store, SqlCountsByType(), target, settings=FAST)
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,))
    running.start()
    seen: list[int] = []
    reading = threading.Event()
    try:
        wait_for(lambda: counts_once_created(url) == {"E": 1000})
        reading.set()

        def read() -> None:
            engine = create_engine(url)
            with engine.connect() as conn:
                while reading.is_set():
                    total = conn.execute(text("SELECT SUM(events) FROM sql_counts_by_type"))
                    seen.append(int(total.scalar_one()))
                    conn.commit()
                    time.sleep(0.001)
            engine.dispose()

        reader = threading.Thread(target=read)
        reader.start()
        result = rebuild(store, SqlCountsByType(), target, settings=FAST, handover_timeout_s=10)
        reading.clear()
        reader.join(10)

        assert (result.live, result.dropped) == (2, [1])
        assert seen, "the reader must have read during the rebuild"
        assert set(seen) == {1000}, f"a reader saw a half-built model: {sorted(set(seen))}"
        append(store, "test-late", "F")
        wait_for(lambda: view_counts(url).get("F") == 1)
    finally:
        reading.clear()
        stop.set()
        running.join(10)
