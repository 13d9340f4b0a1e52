"""The query databases tests run on: a SQLite file, or a schema of its own in this machine's
PostgreSQL (the `test` database is shared by every run, so each test gets a fresh schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from read_side.targets.sql import SqlTarget

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def sql_target_with_url(kind: str, tmp_path: Path) -> Iterator[tuple[SqlTarget, str]]:
    """A SQL target and a URL that reads its tables from other connections: `kind` "sqlite"
    (a file in `tmp_path`) or "postgres" (a new schema, dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'query.db'}"
        target = SqlTarget(url)
        try:
            yield target, url
        finally:
            target.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    target = SqlTarget(POSTGRES_URL, schema=schema)
    try:
        yield target, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        target.drop_schema()
        target.close()
