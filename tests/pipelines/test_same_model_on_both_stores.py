"""The same history gives the same read model on the embedded store and over EventStoreDB."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.projections.event_counts import EventCounts
from read_side.targets.sql import SqlTarget
from tests.esdb_server.server import EsdbTestServer
from write_side.eventstore import EventStore, NewEvent, StreamState
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.sqlite import SqliteEventStore

CATEGORIES = ("book", "basket", "order", "feedback")
TYPES = ("Created", "Changed", "Deleted", "Noted")


def history(seed: int, streams: int) -> list[tuple[str, list[NewEvent]]]:
    """Appends of 1-5 events to `streams` streams, interleaved, with fixed ids and data."""
    rng = random.Random(seed)
    names = [
        f"{rng.choice(CATEGORIES)}-{uuid.UUID(int=rng.getrandbits(128))}" for _ in range(streams)
    ]
    appends = []
    for _ in range(streams * 3):
        events = [
            NewEvent(
                type=rng.choice(TYPES),
                data=b'{"n": %d}' % rng.randrange(1000),
                id=uuid.UUID(int=rng.getrandbits(128)),
            )
            for _ in range(rng.randint(1, 5))
        ]
        appends.append((rng.choice(names), events))
    return appends


def write(store: EventStore, appends: list[tuple[str, list[NewEvent]]]) -> None:
    for stream, events in appends:
        store.append(stream, events, expected_version=StreamState.ANY)


def model(store: EventStore, url: str) -> set[tuple[str, str, int, tuple[str, int]]]:
    """The event counts read model built over `store`, with each row's last event named by
    (stream, revision) rather than by position, which is the store's own business."""
    target = SqlTarget(url)
    ProjectionRunner(
        store, EventCounts(), target, build=1, settings=RunnerSettings(batch_size=97)
    ).catch_up()
    target.close()
    where = {e.position: (e.stream, e.revision) for e in store.read_all()}
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT category, event_type, events, last_position FROM event_counts_v1")
        ).all()
    engine.dispose()
    return {(c, t, int(n), where[p]) for c, t, n, p in rows}


def test_the_event_counts_model_is_the_same_row_for_row(
    fresh_esdb_server: EsdbTestServer, tmp_path: Path
) -> None:
    appends = history(seed=7, streams=150)
    with SqliteEventStore(tmp_path / "embedded.db") as embedded:
        write(embedded, appends)
        expected = model(embedded, f"sqlite:///{tmp_path / 'embedded-query.db'}")
    with EsdbEventStore(fresh_esdb_server.uri) as adapter:
        write(adapter, appends)
        found = model(adapter, f"sqlite:///{tmp_path / 'esdb-query.db'}")

    assert sum(len(events) for _, events in appends) == sum(row[2] for row in expected)
    assert found == expected
