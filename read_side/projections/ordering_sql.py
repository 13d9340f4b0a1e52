"""SQL building blocks of the buyer, order and basket query models (SQLite and PostgreSQL).

Their tables are SQLAlchemy Core tables made per build (`<name>_v<N>[_<suffix>]`) for the
projections and once per stable view (`<name>[_<suffix>]`) for the queries, from one column
list each, so the writer and the reader cannot disagree on a column or its type.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Dialect,
    Index,
    MetaData,
    Table,
    TypeDecorator,
    select,
)
from sqlalchemy.sql.schema import SchemaItem

from read_side.projection import Projection
from read_side.targets.sql import SqlTx, dialect_insert
from write_side.chunking import chunks
from write_side.envelope import StoredEvent
from write_side.eventstore import RecordedEvent

_CENT = Decimal("0.01")


class MoneyCents(TypeDecorator[Decimal]):
    """Money stored as whole cents in a BIGINT: exact on SQLite (which has no decimal type)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value != value.quantize(_CENT):
            raise ValueError(f"{value} has more than 2 decimal places")
        return int(value * 100)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(_CENT)


def table_of(name: str, columns: Callable[[], Sequence[SchemaItem]]) -> Table:
    """A Core table named `name` (a build's table or a stable view) with fresh `columns`."""
    return Table(name, MetaData(), *columns())


class BuildTables:
    """One projection's table for each build (`<name>_v<N>`), made once per build."""

    def __init__(self, columns: Callable[[], Sequence[SchemaItem]]) -> None:
        self.columns = columns
        self._made: dict[int, Table] = {}

    def of(self, tx: SqlTx, projection: str, build: int) -> Table:
        """The table of `build` of `projection`."""
        if build not in self._made:
            self._made[build] = table_of(tx.table(projection, build), self.columns)
        return self._made[build]


class RowPerStream(Projection[SqlTx]):
    """A query model of one row per aggregate (per stream) in one table.

    Each batch reads the rows of the streams its events belong to, folds the events into them
    in Python (`fold`) and writes the rows back in one statement.
    """

    target_kind: ClassVar[str] = "sql"

    def __init__(self, columns: Callable[[], Sequence[SchemaItem]]) -> None:
        self._tables = BuildTables(columns)

    def table(self, tx: SqlTx, build: int) -> Table:
        """The table of `build`."""
        return self._tables.of(tx, self.name, build)

    def indexes(self, table: Table) -> Mapping[str, Sequence[Column[Any]]]:
        """The indexes the queries need besides the primary key, by name: none by default."""
        return {}

    def create(self, tx: SqlTx, build: int) -> None:
        table = self.table(tx, build)
        table.create(tx.connection)
        for name, columns in self.indexes(table).items():
            Index(f"{table.name}_{name}", *columns).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        table = self.table(tx, build)
        keys = sorted({stream_id(e.stream) for e in events})
        rows = rows_by_key(tx.connection, table, keys)
        for recorded in events:
            self.fold(rows, stream_id(recorded.stream), recorded)
        put_rows(tx.connection, table, [rows[key] for key in keys if key in rows])

    @abstractmethod
    def fold(self, rows: dict[UUID, dict[str, Any]], key: UUID, recorded: RecordedEvent) -> None:
        """Fold one event of the stream of aggregate `key` into `rows` (its row made or changed)."""


def put_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`, replacing every non-key column of rows whose primary key exists."""
    if not rows:
        return
    stmt = dialect_insert(conn.dialect.name, table)
    keys = [column.name for column in table.primary_key.columns]
    others = [column.name for column in table.columns if column.name not in keys]
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in others}
        ),
        list(rows),
    )


def rows_by_key(conn: Connection, table: Table, keys: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    """The rows of `table` whose primary key (one column) is among `keys`, as dicts by key;
    asked in chunks, so any number of keys stays within a statement's parameter limit."""
    (key,) = table.primary_key.columns
    rows: dict[UUID, dict[str, Any]] = {}
    for chunk in chunks(sorted(keys)):
        for row in conn.execute(select(table).where(key.in_(chunk))):
            values = dict(row._mapping)
            rows[values[key.name]] = values
    return rows


def add_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`, keeping the stored one where a primary key exists (a replay adds none)."""
    if rows:
        conn.execute(dialect_insert(conn.dialect.name, table).on_conflict_do_nothing(), list(rows))


def occurred_at(stored: StoredEvent) -> datetime:
    """The business time of an event (`occurred_at`), or when it was recorded if it has none."""
    metadata = stored.metadata
    return stored.recorded_at if metadata is None else metadata.occurred_at


def stream_id(stream: str) -> UUID:
    """The aggregate id in a stream name (`order-<uuid>` -> the uuid)."""
    return UUID(stream.split("-", 1)[1])


__all__ = [
    "MoneyCents",
    "RowPerStream",
    "add_rows",
    "occurred_at",
    "put_rows",
    "rows_by_key",
    "stream_id",
    "table_of",
]
