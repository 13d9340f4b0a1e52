"""After a simulated bookstore, a rebuild of every query model from position 0 (big batches)
equals the model built live (small batches, as the worker follows the store), row for row, on
the embedded query store and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from api.settings import load_settings
from api.simulator import SimulationConfig, run_simulation
from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.projections import all_projections
from read_side.targets.sql import SqlTarget
from tests.databases import sql_target_with_url
from write_side.eventstore.factory import open_event_store
from write_side.keystore import open_key_store

SMALL = SimulationConfig(seed=11, books=40, buyers=150, days=4, workers=1)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding a small simulated bookstore (events and keys)."""
    data_dir = tmp_path_factory.mktemp("simulated") / "var"
    settings = load_settings(data_dir=data_dir)
    report = run_simulation(settings, SMALL)
    assert report.event_count > 1_000
    return data_dir


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def query_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlTarget, str]]:
    """A query store and a URL that reads its tables."""
    with sql_target_with_url(request.param, tmp_path) as found:
        yield found


def rows_of(url: str, table: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f'SELECT * FROM "{table}"')).all()
    finally:
        engine.dispose()
    return sorted((tuple(row) for row in found), key=repr)


def tables_of(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_every_query_model_rebuilt_equals_the_live_one(
    simulated: Path, query_store: tuple[SqlTarget, str]
) -> None:
    target, url = query_store
    settings = load_settings(data_dir=simulated)
    keys = open_key_store(settings.key_store_url)
    compared = rows = 0
    with open_event_store(settings.event_store) as store:
        for projection in all_projections(keys=keys).values():
            if projection.target_kind != "sql":
                continue
            live = RunnerSettings(batch_size=37)
            ProjectionRunner(store, projection, target, build=1, settings=live).catch_up()
            ProjectionRunner(
                store,
                projection,
                target,
                build=2,
                rebuilding=True,
                settings=RunnerSettings(batch_size=5_000),
            ).catch_up()
            for suffix in projection.tables():
                first, second = (
                    f"{projection.name}_v{build}{f'_{suffix}' if suffix else ''}"
                    for build in (1, 2)
                )
                if first not in tables_of(url):
                    continue  # a virtual companion (FTS5) is compared through its base table
                live_rows = rows_of(url, first)
                assert live_rows == rows_of(url, second), (projection.name, suffix)
                compared += 1
                rows += len(live_rows)
    keys.close()
    assert compared >= 15
    assert rows > 1_000  # the models hold the bookstore, not just empty tables
