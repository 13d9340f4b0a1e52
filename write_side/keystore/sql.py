"""The key store on SQL: a SQLite file embedded (`<data dir>/keys.db`), PostgreSQL in production.

Keys live apart from the events (a key in the same file as the data it protects would be
copied with it). A forgotten subject keeps a row without a key, so its key is never made again
and the erasure cannot be undone by accident.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from write_side.domain.personal import KeyStore

KEY_BYTES = 32

_metadata = MetaData()
personal_keys = Table(
    "personal_keys",
    _metadata,
    Column("subject", String(36), primary_key=True),
    Column("key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("forgotten_at", DateTime(timezone=True), nullable=True),
)


class SubjectForgotten(Exception):
    """A key was asked for a subject that has been forgotten: its data may not come back."""

    def __init__(self, subject: UUID) -> None:
        self.subject = subject
        super().__init__(f"subject {subject} was forgotten; no new personal data for it")


class SqlKeyStore(KeyStore):
    """Keys in one SQL table, by SQLAlchemy URL (`sqlite:///…/keys.db`, `postgresql+psycopg://…`).

    `schema` puts the table in a PostgreSQL schema of its own (tests use one per run).
    """

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self._engine: Engine = create_engine(url, pool_pre_ping=True)
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_wal)
        self._schema = schema
        self._table = (
            personal_keys.to_metadata(MetaData())
            if schema is None
            else personal_keys.to_metadata(MetaData(), schema=schema)
        )
        with self._engine.begin() as conn:
            if schema is not None:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._table.create(conn, checkfirst=True)

    def __repr__(self) -> str:
        return f"SqlKeyStore({self._engine.url.render_as_string(hide_password=True)!r})"

    def key(self, subject: UUID) -> bytes:
        found = self._row(subject)
        if found is not None:
            key, forgotten = found
            if forgotten or key is None:
                raise SubjectForgotten(subject)
            return key
        fresh = ssl.RAND_bytes(KEY_BYTES)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(self._table).values(
                        subject=str(subject), key=fresh, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            # Another writer made it first: everyone uses the stored one.
            return self.key(subject)
        return fresh

    def find(self, subject: UUID) -> bytes | None:
        found = self._row(subject)
        return None if found is None else found[0]

    def forget(self, subject: UUID) -> bool:
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(self._table)
                .where(self._table.c.subject == str(subject), self._table.c.key.is_not(None))
                .values(key=None, forgotten_at=now)
            ).rowcount
            if changed:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(self._table).values(
                            subject=str(subject), key=None, created_at=now, forgotten_at=now
                        )
                    )
            except IntegrityError:
                pass  # forgotten already
        return False

    def close(self) -> None:
        self._engine.dispose()

    def drop(self) -> None:
        """Drop the table (and the schema, when the store has one): for tests."""
        with self._engine.begin() as conn:
            if self._schema is not None:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')
            else:
                self._table.drop(conn, checkfirst=True)

    def _row(self, subject: UUID) -> tuple[bytes | None, bool] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(self._table.c.key, self._table.c.forgotten_at).where(
                    self._table.c.subject == str(subject)
                )
            ).first()
        if row is None:
            return None
        return row[0], row[1] is not None


def _sqlite_wal(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()
