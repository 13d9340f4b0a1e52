"""The group committer when SQLite itself fails: nobody in the group is told a wrong story."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.contracts.helpers import events
from write_side.eventstore import EventStoreError, StreamState
from write_side.eventstore.sqlite.group_commit import GroupCommitter, _Pending
from write_side.eventstore.sqlite.schema import connect, create_schema
from write_side.eventstore.sqlite.transaction import WriteTx, fetch_stream


class FailingCommit:
    """A real connection whose COMMIT fails, as on a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = connect(":memory:", synchronous="FULL")
    create_schema(connection)
    yield connection
    connection.close()


def test_a_failed_commit_fails_every_member_rejected_ones_too(conn: sqlite3.Connection) -> None:
    """Given a group where B was rejected because of A's write, when the commit fails,
    then A and B both get the failure (B's conflict was with a write that never happened),
    and nothing was written."""
    commits: list[int] = []

    @contextmanager
    def failing() -> Iterator[sqlite3.Connection]:
        yield FailingCommit(conn)  # type: ignore[misc]

    committer = GroupCommitter(failing, lambda c: WriteTx(c, 0), lambda: commits.append(1))
    first = _Pending(lambda tx: tx.append("s-1", events(2), StreamState.NO_STREAM), ("s-1",), None)
    second = _Pending(lambda tx: tx.append("s-1", events(1), StreamState.NO_STREAM), ("s-1",), None)

    committer._commit([first, second])

    for pending in (first, second):
        assert isinstance(pending.error, EventStoreError)
        assert "disk I/O error" in str(pending.error)
        assert isinstance(pending.error.__cause__, sqlite3.OperationalError)
    assert commits == []
    assert not conn.in_transaction
    assert fetch_stream(conn, "s-1").last_revision == -1
