"""SqlTarget beyond the contract: stable views, identifiers, SQLite's engine settings, leases
under an injected clock and between workers, and one transaction for rows and checkpoint."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, StatementError

from read_side.targets import Checkpoint, CheckpointMovedBack
from read_side.targets.sql import SqlTarget, SqlTx, dialect_insert
from tests.databases import POSTGRES_URL


@dataclass(frozen=True)
class Store:
    """Where targets of one test live: a SQLite file, or a PostgreSQL schema of its own."""

    url: str
    schema: str | None = None

    def open(self, **kwargs: Any) -> SqlTarget:
        return SqlTarget(self.url, schema=self.schema, **kwargs)

    def reader(self) -> Engine:
        """A plain engine, as a query service would have, apart from the target's."""
        if self.schema is None:
            return create_engine(self.url)
        return create_engine(self.url, connect_args={"options": f"-csearch_path={self.schema}"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'query.db'}")
        return
    found = Store(POSTGRES_URL, f"t_{uuid.uuid4().hex[:12]}")
    yield found
    target = found.open()
    target.drop_schema()
    target.close()


@pytest.fixture
def target(store: Store) -> Iterator[SqlTarget]:
    """A target on the store, closed afterwards."""
    opened = store.open()
    yield opened
    opened.close()


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def create_build(tx: SqlTx, projection: str, build: int, titles: list[str]) -> None:
    """What a projection's `create` and `apply` would do: a table of this build, with rows."""
    name = tx.quote(tx.table(projection, build))
    tx.connection.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, title TEXT)")
    for number, title in enumerate(titles):
        tx.connection.execute(
            text(f"INSERT INTO {name} (id, title) VALUES (:id, :title)"),
            {"id": number, "title": title},
        )


def titles(reader: Engine, view: str) -> list[str]:
    with reader.connect() as conn:
        return list(conn.scalars(text(f"SELECT title FROM {view} ORDER BY id")))


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    """Readers never wait for the writer, and writers queue rather than fail at once."""
    target = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    try:
        with target.transaction() as tx:
            assert tx.dialect == "sqlite"
            assert tx.connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert tx.connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        target.close()


@pytest.mark.parametrize(
    ("projection", "suffix"),
    [("Books", ""), ("books-v2", ""), ("books; DROP TABLE x", ""), ("books", "Items"),
     ("books", "items; --"), ("9books", ""), ("b" * 64, "")],
)  # fmt: skip
def test_names_must_be_snake_case(tmp_path: Path, projection: str, suffix: str) -> None:
    """No text reaches SQL as an identifier unless it is snake_case (and fits PostgreSQL)."""
    target = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    try:
        with target.transaction() as tx:
            with pytest.raises(ValueError, match="snake_case"):
                tx.table(projection, 1, suffix)
            with pytest.raises(ValueError, match="snake_case"):
                tx.switch(projection, 1, (suffix,))
            with pytest.raises(ValueError, match="snake_case"):
                tx.drop_build(projection, 1, (suffix,))
    finally:
        target.close()
    with pytest.raises(ValueError, match="snake_case"):
        SqlTarget(POSTGRES_URL, schema="public; DROP SCHEMA x")


def test_a_schema_is_for_postgresql_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        SqlTarget(f"sqlite:///{tmp_path / 'query.db'}", schema="mine")


def test_reserved_words_are_quoted(target: SqlTarget) -> None:
    """A projection named `order` gets a view `order`, quoted by the dialect."""
    with target.transaction() as tx:
        create_build(tx, "order", 1, ["Dune"])
        tx.switch("order", 1, ("",))
    with target.transaction() as tx:
        rows = tx.connection.exec_driver_sql(f"SELECT title FROM {tx.quote('order')}").all()
        assert [row.title for row in rows] == ["Dune"]


def test_a_reader_sees_the_old_build_until_the_switch_commits(
    store: Store, target: SqlTarget
) -> None:
    """Given builds 1 (live) and 2, when build 2 is switched in, then a reader on another
    connection sees build 1 until the switch commits (SQLite), or waits for it (PostgreSQL),
    and build 2 afterwards; build 1 can then be dropped."""
    with target.transaction() as tx:
        create_build(tx, "catalog", 1, ["old"])
        create_build(tx, "catalog", 2, ["new", "newer"])
        tx.switch("catalog", 1, ("",))
    reader = store.reader()
    try:
        assert titles(reader, "catalog") == ["old"]
        with target.transaction() as tx:
            tx.switch("catalog", 2, ("",))
            if tx.dialect == "sqlite":
                assert titles(reader, "catalog") == ["old"]
            else:
                with reader.connect() as conn:
                    conn.exec_driver_sql("SET lock_timeout = '200ms'")
                    with pytest.raises(OperationalError, match="lock timeout"):
                        conn.exec_driver_sql("SELECT title FROM catalog")
        assert titles(reader, "catalog") == ["new", "newer"]
    finally:
        reader.dispose()
    with target.transaction() as tx:
        tx.drop_build("catalog", 1, ("",))
        assert not tx.connection.dialect.has_table(tx.connection, "catalog_v1")


def test_a_switch_to_a_build_without_tables_leaves_no_stale_view(target: SqlTarget) -> None:
    """The views always show the live build: none at all rather than an older one."""
    with target.transaction() as tx:
        create_build(tx, "catalog", 1, ["old"])
        tx.switch("catalog", 1, ("",))
    with target.transaction() as tx:
        tx.switch("catalog", 2, ("",))
    with target.transaction() as tx:
        assert tx.live_build("catalog") == 2
        assert not tx.connection.dialect.has_table(tx.connection, "catalog")
        tx.drop_build("catalog", 1, ("",))


def test_rows_and_checkpoint_roll_back_together(target: SqlTarget) -> None:
    """Given a build at checkpoint 10, when a batch writes rows and checkpoint 20 and then
    fails (or its checkpoint moves back), then neither its rows nor its checkpoint are kept."""
    with target.transaction() as tx:
        create_build(tx, "catalog", 1, [])
        tx.save_checkpoint("catalog", 1, Checkpoint(10, None))

    def batch(position: int) -> None:
        with target.transaction() as tx:
            tx.connection.exec_driver_sql("INSERT INTO catalog_v1 (id, title) VALUES (1, 'x')")
            tx.save_checkpoint("catalog", 1, Checkpoint(position, None))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        batch(20)
    with pytest.raises(CheckpointMovedBack):
        batch(5)
    with target.transaction() as tx:
        assert tx.checkpoint("catalog", 1) == Checkpoint(10, None)
        assert tx.connection.exec_driver_sql("SELECT count(*) FROM catalog_v1").scalar() == 0


def test_checkpoint_times_read_back_in_utc(target: SqlTarget) -> None:
    """Any aware time is stored as the same instant and reads back in UTC; naive is refused."""
    paris = datetime(2026, 11, 26, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    with target.transaction() as tx:
        tx.save_checkpoint("catalog", 1, Checkpoint(1, paris))
    with target.transaction() as tx:
        stored = tx.checkpoint("catalog", 1)
        assert stored is not None
        assert stored.recorded_at == paris
        assert stored.recorded_at.tzinfo is UTC
        with pytest.raises(StatementError, match="naive"):
            tx.save_checkpoint("catalog", 1, Checkpoint(2, datetime(2026, 1, 1)))  # noqa: DTZ001


def test_a_lease_follows_the_injected_clock(store: Store) -> None:
    """A lease is another's until the instant it expires; a renewal keeps the status, a
    takeover starts with none, and the lost holder can neither report nor release."""
    clock = Clock()
    target = store.open(clock=clock)
    try:
        taken = target.acquire_lease("catalog", "worker-a", ttl_s=10)
        assert taken is not None
        assert taken.expires_at == clock.now + timedelta(seconds=10)
        target.report("catalog", "worker-a", {"state": "live"})
        clock.now += timedelta(seconds=9)
        assert target.acquire_lease("catalog", "worker-b", ttl_s=10) is None
        renewed = target.acquire_lease("catalog", "worker-a", ttl_s=10)
        assert renewed is not None
        assert renewed.status == {"state": "live"}

        clock.now += timedelta(seconds=10)  # exactly the expiry, as MemoryTarget counts it
        lost = target.acquire_lease("catalog", "worker-b", ttl_s=10)
        assert lost is not None
        assert lost.status == {}
        target.report("catalog", "worker-a", {"state": "stale"})
        target.release_lease("catalog", "worker-a")
        (lease,) = target.leases()
        assert (lease.holder, lease.status) == ("worker-b", {})
    finally:
        target.close()


def test_one_of_many_workers_gets_the_lease(store: Store) -> None:
    """Workers with engines of their own race for one lease: exactly one wins."""
    workers = 6
    start = threading.Barrier(workers)
    won: list[str] = []

    def work(holder: str) -> None:
        target = store.open()
        try:
            start.wait()
            if target.acquire_lease("catalog", holder, ttl_s=30) is not None:
                won.append(holder)
        finally:
            target.close()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_an_upsert_is_spelled_for_the_two_dialects_and_refused_for_others() -> None:
    """`dialect_insert`: the one place the read side picks SQLite's or PostgreSQL's INSERT …
    ON CONFLICT; a third dialect is refused rather than given SQLite's spelling."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    assert isinstance(dialect_insert("sqlite", table), sqlite.Insert)
    assert isinstance(dialect_insert("postgresql", table), postgresql.Insert)
    with pytest.raises(ValueError, match="no INSERT … ON CONFLICT for 'mysql'"):
        dialect_insert("mysql", table)
