"""Fixtures: the write side on the embedded store, the query database on SQLite or PostgreSQL,
and the cache port on its SQLite-file twin or Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from read_side.cache import Cache
from read_side.cache.redis import RedisCache
from read_side.cache.sqlite import SqliteCache
from read_side.targets.sql import SqlTarget
from tests.databases import sql_target_with_url
from tests.read_side.ordering.world import World
from write_side.domain import ManualClock
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.keystore import SqliteKeyStore

REDIS_URL = "redis://127.0.0.1:6379/0"
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def query_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlTarget, str]]:
    """The query database as a target, and its URL for readers (PostgreSQL: own schema)."""
    with sql_target_with_url(request.param, tmp_path) as found:
        yield found


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cache]:
    """The cache port: the SQLite-file twin, or this machine's Redis (a namespace of its own)."""
    if request.param == "sqlite":
        twin = SqliteCache(tmp_path / "cache.db")
        yield twin
        twin.close()
        return
    server = RedisCache(REDIS_URL, namespace=f"test-{uuid.uuid4().hex}")
    yield server
    server.drop()
    server.close()


def make_world(
    tmp_path: Path, query_db: tuple[SqlTarget, str], cache: Cache | None = None
) -> Iterator[World]:
    """A world on a fresh embedded store and key store."""
    target, url = query_db
    keys = SqliteKeyStore(tmp_path / "keys.db")
    with SqliteEventStore(tmp_path / "events.db") as store:
        world = World(store, keys, ManualClock(START), target, url, cache)
        yield world
        world.close()
    keys.close()


@pytest.fixture
def world(tmp_path: Path, query_db: tuple[SqlTarget, str]) -> Iterator[World]:
    """The write side, this area's projections and the query database (SQLite, PostgreSQL)."""
    yield from make_world(tmp_path, query_db)


@pytest.fixture
def cached_world(tmp_path: Path, query_db: tuple[SqlTarget, str], cache: Cache) -> Iterator[World]:
    """The same, with the cache port given to the projections."""
    yield from make_world(tmp_path, query_db, cache)
