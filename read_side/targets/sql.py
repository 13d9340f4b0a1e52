"""`SqlTarget`: read models in SQLite or PostgreSQL, through one SQLAlchemy Core code path.

The bookkeeping (checkpoints, dead letters, live builds, leases) lives in `projection_*` tables
beside the read models, so a batch, its checkpoint and its dead letters commit together. A
build's tables are `<projection>_v<N>[_<suffix>]`; queries read the live build through stable
views `<projection>[_<suffix>]`, which `switch` recreates in the same transaction as the
pointer row (both stores have transactional DDL, so no query sees half a switch).

SQLite files run in WAL mode and every transaction starts with `BEGIN IMMEDIATE`, so two
writers queue on the busy timeout instead of failing when a reader upgrades to a writer.
PostgreSQL may be given a schema of its own, which every connection puts on its `search_path`.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Table,
    Text,
    TextClause,
    TypeDecorator,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from read_side.targets.base import (
    Checkpoint,
    DeadLetter,
    Effects,
    Lease,
    Target,
    TargetTx,
    iter_suffixes,
)
from read_side.targets.errors import CheckpointMovedBack

_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_MAX_IDENTIFIER = 63  # PostgreSQL silently truncates longer names, which could make two collide
_SETUP_LOCK = 0x626F6F6B776F726D  # "bookworm": serialises concurrent schema and table creation
_DIALECTS = ("sqlite", "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both stores (SQLite keeps naive text: UTC, re-attached on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: bookkeeping times must be aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("build", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

dead_letters = Table(
    "projection_dead_letters",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("build", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("stream", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("traceback", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("parked_at", UtcDateTime, nullable=False),
)

live_builds = Table(
    "projection_live_builds",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("build", Integer, nullable=False),
    Column("switched_at", UtcDateTime, nullable=False),
)

leases = Table(
    "projection_leases",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", Text, nullable=False),
)


def snake_case(name: str, what: str = "name") -> str:
    """`name` if it is a safe snake_case identifier; ValueError otherwise."""
    if not _SNAKE.fullmatch(name) or len(name) > _MAX_IDENTIFIER:
        raise ValueError(f"{what} {name!r} must be snake_case ([a-z][a-z0-9_]*), at most 63 long")
    return name


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, in the dialect's own spelling (the read models run
    on SQLite and PostgreSQL only)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no INSERT … ON CONFLICT for {dialect!r} (SQLite and PostgreSQL only)")


def _shared_sql(statement: str, *times: str) -> TextClause:
    """SQL that SQLite and PostgreSQL share, built and compiled once, its `times` parameters
    bound as UTC timestamps. For the bookkeeping every batch of every projection runs:
    SQLAlchemy cannot cache the compiled form of its upsert construct, and building a construct
    per commit cost the worker dearly."""
    return text(statement).bindparams(*(bindparam(name, type_=UtcDateTime()) for name in times))


#: Insert or move forward a checkpoint (never back).
_SAVE_CHECKPOINT = _shared_sql(
    "INSERT INTO projection_checkpoints (projection, build, position, recorded_at, updated_at) "
    "VALUES (:projection, :build, :position, :recorded_at, :updated_at) "
    "ON CONFLICT (projection, build) DO UPDATE SET position = excluded.position, "
    "recorded_at = excluded.recorded_at, updated_at = excluded.updated_at "
    "WHERE projection_checkpoints.position <= excluded.position "
    "RETURNING position",
    "recorded_at",
    "updated_at",
)

#: Renew the holder's lease if it still holds it.
_FENCE = _shared_sql(
    "UPDATE projection_leases SET expires_at = :until "
    "WHERE projection = :projection AND holder = :holder AND expires_at > :now "
    "RETURNING projection",
    "until",
    "now",
)


class SqlTx(TargetTx):
    """One transaction of a `SqlTarget`; projections run their SQL on `connection`."""

    def __init__(
        self, connection: Connection, effects: Effects, clock: Callable[[], datetime]
    ) -> None:
        self.connection = connection
        self.dialect: str = connection.dialect.name
        self.effects = effects
        self._clock = clock

    def quote(self, name: str) -> str:
        """`name` quoted for this dialect (after checking it is snake_case)."""
        return self.connection.dialect.identifier_preparer.quote(snake_case(name))

    def table(self, projection: str, build: int, suffix: str = "") -> str:
        snake_case(projection, "projection")
        if suffix:
            snake_case(suffix, "suffix")
        if isinstance(build, bool) or not isinstance(build, int) or build < 0:
            raise ValueError(f"build must be a non-negative int, not {build!r}")
        return snake_case(f"{projection}_v{build}{f'_{suffix}' if suffix else ''}", "table")

    def checkpoint(self, projection: str, build: int) -> Checkpoint | None:
        row = self.connection.execute(
            select(checkpoints.c.position, checkpoints.c.recorded_at).where(
                checkpoints.c.projection == projection, checkpoints.c.build == build
            )
        ).one_or_none()
        return None if row is None else Checkpoint(row.position, row.recorded_at)

    def save_checkpoint(self, projection: str, build: int, checkpoint: Checkpoint) -> None:
        # One statement, so a concurrent writer cannot slip between the check and the write.
        moved = self.connection.execute(
            _SAVE_CHECKPOINT,
            {
                "projection": projection,
                "build": build,
                "position": checkpoint.position,
                "recorded_at": checkpoint.recorded_at,
                "updated_at": self._clock(),
            },
        ).first()
        if moved is None:  # the WHERE refused the update
            stored = self.checkpoint(projection, build)
            assert stored is not None
            raise CheckpointMovedBack(projection, build, stored.position, checkpoint.position)

    def park(self, letter: DeadLetter) -> None:
        values = {
            "projection": letter.projection,
            "event_id": str(letter.event_id),
            "build": letter.build,
            "position": letter.position,
            "stream": letter.stream,
            "event_type": letter.event_type,
            "error": letter.error,
            "traceback": letter.traceback,
            "attempts": letter.attempts,
            "parked_at": letter.parked_at,
        }
        stmt = dialect_insert(self.dialect, dead_letters).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[dead_letters.c.projection, dead_letters.c.event_id],
            set_={
                name: stmt.excluded[name]
                for name in values
                if name not in ("projection", "event_id")
            },
        )
        self.connection.execute(stmt)

    def dead_letters(self, projection: str | None = None) -> list[DeadLetter]:
        query = select(dead_letters).order_by(dead_letters.c.position, dead_letters.c.parked_at)
        if projection is not None:
            query = query.where(dead_letters.c.projection == projection)
        return [
            DeadLetter(
                projection=row.projection,
                build=row.build,
                event_id=UUID(row.event_id),
                position=row.position,
                stream=row.stream,
                event_type=row.event_type,
                error=row.error,
                traceback=row.traceback,
                attempts=row.attempts,
                parked_at=row.parked_at,
            )
            for row in self.connection.execute(query)
        ]

    def discard(self, projection: str, event_id: UUID) -> bool:
        result = self.connection.execute(
            delete(dead_letters).where(
                dead_letters.c.projection == projection,
                dead_letters.c.event_id == str(event_id),
            )
        )
        return result.rowcount > 0

    def live_build(self, projection: str) -> int | None:
        build: int | None = self.connection.scalar(
            select(live_builds.c.build).where(live_builds.c.projection == projection)
        )
        return build

    def switch(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        for suffix, tail in iter_suffixes(suffixes):
            source = self.table(projection, build, suffix)
            view = self.quote(f"{projection}{tail}")
            self.connection.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
            # A build without this table yet (or ever) leaves no view rather than a stale one.
            if inspect(self.connection).has_table(source):
                self.connection.exec_driver_sql(
                    f"CREATE VIEW {view} AS SELECT * FROM {self.quote(source)}"
                )
        stmt = dialect_insert(self.dialect, live_builds).values(
            projection=projection, build=build, switched_at=self._clock()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[live_builds.c.projection],
            set_={"build": stmt.excluded.build, "switched_at": stmt.excluded.switched_at},
        )
        self.connection.execute(stmt)

    def drop_build(self, projection: str, build: int, suffixes: Sequence[str]) -> None:
        if self.live_build(projection) == build:
            raise ValueError(f"build {build} of {projection} is live; switch away from it first")
        for suffix, _ in iter_suffixes(suffixes):
            name = self.quote(self.table(projection, build, suffix))
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        self.connection.execute(
            delete(checkpoints).where(
                checkpoints.c.projection == projection, checkpoints.c.build == build
            )
        )

    def builds(self, projection: str) -> list[int]:
        query = (
            select(checkpoints.c.build)
            .where(checkpoints.c.projection == projection)
            .order_by(checkpoints.c.build)
        )
        return list(self.connection.scalars(query))

    def fence(self, projection: str, holder: str, *, ttl_s: float) -> bool:
        now = self._clock()
        # One statement, inside the batch's transaction: on PostgreSQL the row lock makes a
        # rival's takeover wait for this commit (and then see the renewed expiry).
        renewed = self.connection.execute(
            _FENCE,
            {
                "projection": projection,
                "holder": holder,
                "now": now,
                "until": now + timedelta(seconds=ttl_s),
            },
        ).first()
        return renewed is not None


class SqlTarget(Target):
    """Read models in SQLite (`sqlite:///path`) or PostgreSQL (`postgresql+psycopg://...`)."""

    kind: ClassVar[str] = "sql"

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        parsed = make_url(url)
        dialect = parsed.get_backend_name()
        if dialect not in _DIALECTS:
            shown = parsed.render_as_string(hide_password=True)
            raise ValueError(f"{shown!r}: SqlTarget supports SQLite and PostgreSQL only")
        if schema is not None and dialect != "postgresql":
            raise ValueError("schema is for PostgreSQL only")
        self.url = url
        self.schema = None if schema is None else snake_case(schema, "schema")
        self._clock = clock or (lambda: datetime.now(UTC))
        if self.schema is not None:
            self._create_schema()
        self._engine = create_engine(url)
        self._file_lock = _writer_lock(parsed.database) if dialect == "sqlite" else None
        if dialect == "sqlite":
            self._configure_sqlite()
        elif self.schema is not None:
            self._configure_search_path(self.schema)
        with self._begin() as conn:
            self._setup_lock(conn)
            metadata.create_all(conn)

    # -- engine set-up ---------------------------------------------------------------------

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A write transaction; on a SQLite file, the process's writers take turns in Python
        first (`_file_lock`), so a waiting writer starts the moment the lock is free instead
        of sleeping in SQLite's busy handler (1 to 100 ms a try)."""
        if self._file_lock is None:
            with self._engine.begin() as conn:
                yield conn
            return
        with self._file_lock, self._engine.begin() as conn:
            yield conn

    def _configure_sqlite(self) -> None:
        @event.listens_for(self._engine, "connect")
        def connect(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own BEGIN is deferred; we emit BEGIN IMMEDIATE ourselves below.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # query tables can be rebuilt
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(self._engine, "begin")
        def begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def _configure_search_path(self, schema: str) -> None:
        quoted = self._engine.dialect.identifier_preparer.quote(schema)

        # insert=True: before the dialect's first-connect queries, which read current_schema().
        @event.listens_for(self._engine, "connect", insert=True)
        def connect(dbapi_connection: Any, _record: Any) -> None:
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET SESSION search_path TO {quoted}")
            cursor.close()
            dbapi_connection.autocommit = autocommit

    def _create_schema(self) -> None:
        # A throwaway engine: the main one must first connect when the schema already exists.
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                self._setup_lock(conn)
                quoted = conn.dialect.identifier_preparer.quote(str(self.schema))
                conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
        finally:
            engine.dispose()

    @staticmethod
    def _setup_lock(conn: Connection) -> None:
        # PostgreSQL's IF NOT EXISTS races between sessions; SQLite's BEGIN IMMEDIATE already
        # serialises them.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})

    # -- the port --------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, effects: Effects | None = None) -> Iterator[SqlTx]:
        with self._begin() as conn:
            yield SqlTx(conn, effects or Effects(), self._clock)

    def acquire_lease(self, projection: str, holder: str, *, ttl_s: float) -> Lease | None:
        now = self._clock()
        dialect = self._engine.dialect.name
        with self._begin() as conn:
            stmt = dialect_insert(dialect, leases).values(
                projection=projection,
                holder=holder,
                expires_at=now + timedelta(seconds=ttl_s),
                status="{}",
            )
            # Taken when free, expired or already ours; the status survives only a renewal.
            stmt = stmt.on_conflict_do_update(
                index_elements=[leases.c.projection],
                set_={
                    "holder": stmt.excluded.holder,
                    "expires_at": stmt.excluded.expires_at,
                    "status": case(
                        (leases.c.holder == stmt.excluded.holder, leases.c.status),
                        else_=stmt.excluded.status,
                    ),
                },
                where=or_(leases.c.expires_at <= now, leases.c.holder == holder),
            )
            conn.execute(stmt)
            row = conn.execute(select(leases).where(leases.c.projection == projection)).one()
        if row.holder != holder:
            return None
        return Lease(projection, holder, row.expires_at, json.loads(row.status))

    def report(self, projection: str, holder: str, status: dict[str, Any]) -> None:
        with self._begin() as conn:
            conn.execute(
                update(leases)
                .where(leases.c.projection == projection, leases.c.holder == holder)
                .values(status=json.dumps(status))
            )

    def release_lease(self, projection: str, holder: str) -> None:
        with self._begin() as conn:
            conn.execute(
                delete(leases).where(leases.c.projection == projection, leases.c.holder == holder)
            )

    def leases(self) -> list[Lease]:
        with self._begin() as conn:
            rows = conn.execute(select(leases).order_by(leases.c.projection)).all()
        return [
            Lease(row.projection, row.holder, row.expires_at, json.loads(row.status))
            for row in rows
        ]

    def drop_schema(self) -> None:
        """Drop this target's PostgreSQL schema with everything in it (for tests)."""
        if self.schema is None:
            raise ValueError("this target has no schema of its own to drop")
        with self._begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote(self.schema)
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        url = make_url(self.url).render_as_string(hide_password=True)
        return f"SqlTarget({url!r}{f', schema={self.schema!r}' if self.schema else ''})"


_WRITER_LOCKS: dict[str, threading.RLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(database: str | None) -> threading.RLock | None:
    """The lock this process's writers of one SQLite file share (None in memory, where the
    pool's one connection serialises them already)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = os.path.realpath(database)
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(key, threading.RLock())
