"""The composition root wires what `bookworm worker` runs: every process manager (the email
sender with the configured transport), the timer service and the integration recorder."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from api import bootstrap
from api.settings import load_settings
from pipelines.worker import Service
from read_side.cache.redis import RedisCache
from write_side.bootstrap import process_managers

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_the_worker_gets_every_process_manager_and_service(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var")
    with (
        bootstrap.event_store(settings) as store,
        closing(bootstrap.key_store(settings)) as keys,
        bootstrap.subscription_groups(store) as groups,
        bootstrap.targets(settings, {"sql"}) as targets,
    ):
        bus = bootstrap.bus_on(store, keys, settings)
        managers = {manager.name for manager in process_managers(bus)}
        services: list[Service] = [
            *bootstrap.process_runners(bus, groups),
            *bootstrap.timer_services(bus, targets),
            *bootstrap.integration_services(store, settings, targets),
        ]

    assert managers == {"catalog_rating_update", "order_saga", "recurring_jobs", "email_sender"}
    assert {s.name for s in services} == managers | {"timers", "integration_events"}


@pytest.mark.redis
def test_deployments_sharing_a_redis_keep_apart_by_namespace(tmp_path: Path) -> None:
    """`BOOKWORM_REDIS_NAMESPACE`: the same key written by two deployments on one Redis is two
    entries, and deleting one deployment's leaves the other's."""
    run = uuid.uuid4().hex[:12]
    caches = {
        name: bootstrap.cache(
            load_settings(
                data_dir=tmp_path / name, redis_url=REDIS_URL, redis_namespace=f"{name}-{run}"
            )
        )
        for name in ("staging", "production")
    }
    staging, production = caches["staging"], caches["production"]
    try:
        assert [repr(c) for c in caches.values()] == [
            f"RedisCache(namespace='staging-{run}')",
            f"RedisCache(namespace='production-{run}')",
        ]
        staging.set("book:1", b"staging's", ttl=timedelta(minutes=1))
        production.set("book:1", b"production's", ttl=timedelta(minutes=1))
        assert (staging.get("book:1"), production.get("book:1")) == (b"staging's", b"production's")
        assert staging.delete("book:1") == 1
        assert (staging.get("book:1"), production.get("book:1")) == (None, b"production's")
    finally:
        for cache in caches.values():
            assert isinstance(cache, RedisCache)
            cache.drop()
            cache.close()


def test_the_files_of_the_embedded_targets(tmp_path: Path) -> None:
    """What `written_targets` looks for: the query tables' SQLite file (none on a server) and
    the warehouse's DuckDB file, where `open_target` makes them."""
    settings = load_settings(data_dir=tmp_path / "var")
    files = {kind: bootstrap.target_file(settings, kind) for kind in ("sql", "duckdb")}
    assert files == {
        "sql": tmp_path / "var" / "query.db",
        "duckdb": tmp_path / "var" / "warehouse" / "warehouse.duckdb",
    }
    with bootstrap.targets(settings, set(files)):
        pass
    assert all(path is not None and path.exists() for path in files.values())

    on_a_server = load_settings(query_db_url="postgresql+psycopg://127.0.0.1/test")
    assert bootstrap.target_file(on_a_server, "sql") is None
    in_memory = load_settings(query_db_url="sqlite://")
    assert bootstrap.target_file(in_memory, "sql") is None
    with pytest.raises(ValueError, match="no target of kind 'qdrant'"):
        bootstrap.target_file(settings, "qdrant")
