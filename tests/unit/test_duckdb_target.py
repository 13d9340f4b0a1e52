"""DuckDB target: what the contract suite cannot say (a second process, Arrow batches, views)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from read_side.targets import Checkpoint, TargetError, TargetLocked
from read_side.targets.duckdb import DuckDBTarget, DuckTx

HOLD_THE_FILE = """
import sys
from read_side.targets.duckdb import DuckDBTarget

target = DuckDBTarget(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()  # hold the file until the test closes our stdin
target.close()
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def target(path: Path) -> Iterator[DuckDBTarget]:
    target = DuckDBTarget(path)
    yield target
    target.close()


def books(ids: range, title: str = "Dune") -> pl.DataFrame:
    return pl.DataFrame(
        {"book_id": list(ids), "title": [title] * len(ids)},
        schema={"book_id": pl.Int64, "title": pl.String},
    )


def rows(tx: DuckTx, sql: str) -> list[tuple[object, ...]]:
    return tx.connection.execute(sql).fetchall()


@pytest.mark.multiprocess
def test_a_second_process_is_refused_with_the_holders_pid(path: Path) -> None:
    """While another process has the file open, opening it raises TargetLocked naming that
    process; once it has gone, the file opens."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        with pytest.raises(TargetLocked) as refused:
            DuckDBTarget(path)
        assert refused.value.path == str(path)
        assert f"PID {child.pid}" in refused.value.holder
        assert "python" in refused.value.holder
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    DuckDBTarget(path).close()


def test_insert_frame_appends_100k_rows_in_one_statement(target: DuckDBTarget) -> None:
    """A whole polars batch goes in through Arrow as a single INSERT, columns matched by name."""
    frame = books(range(100_000)).select("title", "book_id")  # column order differs on purpose
    with target.transaction() as tx:
        tx.create_table_from_frame("books", books(range(0)))
        tx.connection.execute("CALL enable_logging('QueryLog')")
        assert tx.insert_frame("books", frame) == 100_000
        inserts = rows(
            tx,
            "SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog' AND message ILIKE 'insert%'",
        )
        tx.connection.execute("CALL disable_logging()")
    assert inserts == [(1,)]
    with target.transaction() as tx:
        assert rows(tx, "SELECT count(*), sum(book_id), min(title) FROM books") == [
            (100_000, sum(range(100_000)), "Dune")
        ]


def test_insert_frame_takes_an_arrow_table(target: DuckDBTarget) -> None:
    """A pyarrow table is a batch too."""
    with target.transaction() as tx:
        tx.create_table_from_frame("books", books(range(0)))
        tx.insert_frame("books", pa.table({"book_id": [1, 2], "title": ["Emma", "Ulysses"]}))
        assert rows(tx, "SELECT title FROM books ORDER BY book_id") == [("Emma",), ("Ulysses",)]


def test_a_batch_and_its_checkpoint_roll_back_together(target: DuckDBTarget) -> None:
    """Rows, a new table and the checkpoint written in a failing transaction are all gone."""
    with target.transaction() as tx:
        tx.create_table_from_frame("books_v1", books(range(0)))
        tx.insert_frame("books_v1", books(range(10)))
        tx.save_checkpoint("books", 1, Checkpoint(10))

    def fail_midway() -> None:
        with target.transaction() as tx:
            tx.insert_frame("books_v1", books(range(10, 20)))
            tx.create_table_from_frame("books_v1_authors", books(range(0)))
            tx.save_checkpoint("books", 1, Checkpoint(20))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()

    with target.transaction() as tx:
        assert rows(tx, "SELECT count(*) FROM books_v1") == [(10,)]
        assert rows(tx, "SELECT count(*) FROM duckdb_tables() WHERE table_name <> 'books_v1'") == [
            (4,)  # the bookkeeping tables only
        ]
        assert tx.checkpoint("books", 1) == Checkpoint(10)


def test_a_transaction_aborted_by_a_caught_error_does_not_pretend_to_commit(
    target: DuckDBTarget,
) -> None:
    """DuckDB would silently drop the batch on COMMIT; the target raises instead."""
    with target.transaction() as tx:
        tx.connection.execute("CREATE TABLE books_v1 (book_id INTEGER PRIMARY KEY)")
        tx.connection.execute("INSERT INTO books_v1 VALUES (1)")

    def swallow_an_error() -> None:
        with target.transaction() as tx:
            tx.save_checkpoint("books", 1, Checkpoint(5))
            with pytest.raises(duckdb.ConstraintException):
                tx.connection.execute("INSERT INTO books_v1 VALUES (1)")

    with pytest.raises(TargetError, match="aborted"):
        swallow_an_error()

    with target.transaction() as tx:
        assert tx.checkpoint("books", 1) is None


def test_switch_points_the_stable_views_at_the_live_build(target: DuckDBTarget) -> None:
    """Views `<projection>[_<suffix>]` read the live build; a rolled-back switch changes nothing;
    a suffix the build lacks has no view."""
    with target.transaction() as tx:
        for build, title in ((1, "old"), (2, "new")):
            tx.create_table_from_frame(tx.table("books", build), books(range(0)))
            tx.insert_frame(tx.table("books", build), books(range(3), title))
        tx.create_table_from_frame(tx.table("books", 1, "authors"), books(range(0)))
        tx.switch("books", 1, ("", "authors"))
    with target.transaction() as tx:
        assert rows(tx, "SELECT DISTINCT title FROM books") == [("old",)]
        assert rows(tx, "SELECT count(*) FROM books_authors") == [(0,)]

    def crash_before_commit() -> None:
        with target.transaction() as tx:
            tx.switch("books", 2, ("", "authors"))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    with target.transaction() as tx:
        assert tx.live_build("books") == 1
        assert rows(tx, "SELECT DISTINCT title FROM books") == [("old",)]

    with target.transaction() as tx:
        tx.switch("books", 2, ("", "authors"))
    with target.transaction() as tx:
        assert tx.live_build("books") == 2
        assert rows(tx, "SELECT DISTINCT title FROM books") == [("new",)]
        assert rows(
            tx, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'books_authors'"
        ) == [(0,)]
        tx.drop_build("books", 1, ("", "authors"))
        assert rows(
            tx, "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'books_v1%'"
        ) == [(0,)]


@pytest.mark.parametrize("name", ["Books", "books-v1", "1books", 'books"; DROP TABLE x; --', ""])
def test_names_that_are_not_snake_case_are_refused(target: DuckDBTarget, name: str) -> None:
    """Nothing but a snake_case name is ever put into SQL text."""
    with target.transaction() as tx:
        with pytest.raises(ValueError, match="snake_case"):
            tx.table(name, 1)
        with pytest.raises(ValueError, match="snake_case"):
            tx.insert_frame(name, books(range(1)))
        with pytest.raises(ValueError, match="snake_case"):
            tx.create_table_from_frame(name, books(range(0)))


def test_bookkeeping_survives_a_reopen_with_utc_timestamps(path: Path) -> None:
    """What one target committed, the next one on the file reads back, in UTC."""
    recorded = datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=UTC)
    target = DuckDBTarget(path)
    with target.transaction() as tx:
        tx.save_checkpoint("books", 1, Checkpoint(42, recorded))
    target.acquire_lease("books", "worker-a", ttl_s=60)
    target.report("books", "worker-a", {"state": "live", "lag": [1, 2.5]})
    target.close()

    target = DuckDBTarget(path)
    try:
        with target.transaction() as tx:
            stored = tx.checkpoint("books", 1)
        assert stored == Checkpoint(42, recorded)
        assert stored.recorded_at is not None
        assert stored.recorded_at.tzinfo is UTC
        (lease,) = target.leases()
        assert (lease.holder, lease.status) == ("worker-a", {"state": "live", "lag": [1, 2.5]})
        assert lease.expires_at.tzinfo is UTC
    finally:
        target.close()


def test_threads_take_turns(target: DuckDBTarget) -> None:
    """Transactions from several threads of one process all commit, one at a time."""
    with target.transaction() as tx:
        tx.connection.execute("CREATE TABLE hits (thread INTEGER, n INTEGER)")

    def work(thread: int) -> None:
        for n in range(25):
            with target.transaction() as tx:
                tx.insert_frame("hits", pl.DataFrame({"thread": [thread], "n": [n]}))
                tx.save_checkpoint(f"p{thread}", 1, Checkpoint(n))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with target.transaction() as tx:
        assert rows(tx, "SELECT count(*) FROM hits") == [(200,)]
        assert all(tx.checkpoint(f"p{i}", 1) == Checkpoint(24) for i in range(8))
