"""Fixtures of the catalog and rating query models: the real write side on the embedded event
store, the five projections on a SQL target (a SQLite file, or PostgreSQL in a schema of its
own), and the query functions reading the stable views on a connection of their own."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.cache.sqlite import SqliteCache
from read_side.projection import Projection
from read_side.projections.catalog_books import BookCatalogProjection
from read_side.projections.catalog_references import (
    AuthorsProjection,
    CategoriesProjection,
    PublishersProjection,
)
from read_side.projections.feedbacks import FeedbacksProjection
from read_side.targets.sql import SqlTarget
from tests.databases import sql_target_with_url
from tests.domain.contexts import Shelf, create_book, given_shelf
from write_side.bootstrap import bootstrap
from write_side.catalog import ChangeBookPrice
from write_side.domain import CommandBus, ManualClock
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.keystore import SqliteKeyStore
from write_side.rating import CreateFeedback

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
#: Small batches, so a history spans many and every fold meets rows written by an earlier one.
SMALL_BATCHES = RunnerSettings(batch_size=3)

T = TypeVar("T")


@dataclass
class QueryDb:
    """A SQL target for the projections and an engine for the queries, on the same database."""

    kind: str
    target: SqlTarget
    engine: Engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def query_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueryDb]:
    """The query database: a SQLite file, or a fresh PostgreSQL schema."""
    with sql_target_with_url(request.param, tmp_path) as (target, url):
        db = QueryDb(request.param, target, create_engine(url))
        yield db
        db.engine.dispose()


@dataclass
class World:
    """The write side and the catalog's query models, for given/when/then."""

    bus: CommandBus
    clock: ManualClock
    store: SqliteEventStore
    keys: SqliteKeyStore
    cache: SqliteCache
    db: QueryDb
    projections: dict[str, Projection] = field(default_factory=dict)  # type: ignore[type-arg]

    def project(self, settings: RunnerSettings = SMALL_BATCHES) -> None:
        """Bring every catalog query model up to the head (their live builds)."""
        for projection in self.projections.values():
            ProjectionRunner(self.store, projection, self.db.target, settings=settings).catch_up()

    def ask(self, question: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Project, then run a query function on a connection of its own."""
        self.project()
        with self.db.engine.connect() as conn:
            return question(conn, *args, **kwargs)

    # -- givens --------------------------------------------------------------------------------

    def shelf(self) -> Shelf:
        """Given a category, a publisher and two authors."""
        return given_shelf(self.bus)

    def book(self, shelf: Shelf, **changes: Any) -> uuid.UUID:
        """Given a book on `shelf` (one minute after the previous one)."""
        self.clock.advance(timedelta(minutes=1))
        return self.bus.dispatch(create_book(shelf, **changes)).aggregate_id

    def feedback(self, book_id: uuid.UUID, rating: int, **changes: Any) -> uuid.UUID:
        """Given a feedback on a book (one minute after the previous event)."""
        self.clock.advance(timedelta(minutes=1))
        fields: dict[str, Any] = {
            "book_id": book_id,
            "first_name": "Grace",
            "last_name": f"Hopper {uuid.uuid4().hex[:8]}",
            "comment": "Worth reading.",
            "rating": rating,
        }
        return self.bus.dispatch(CreateFeedback(**(fields | changes))).aggregate_id

    def reprice(self, book_id: uuid.UUID, price: str, discount: str | None = None) -> None:
        """When the book's price changes."""
        self.bus.dispatch(
            ChangeBookPrice(
                book_id=book_id,
                price=Decimal(price),
                discount_price=None if discount is None else Decimal(discount),
            )
        )

    # -- reading the tables as they are --------------------------------------------------------

    def rows(self, table: str) -> list[tuple[Any, ...]] | None:
        """Every row of a table or view, in a stable order (None when there is no such table)."""
        with self.db.engine.connect() as conn:
            if not inspect(conn).has_table(table) and table not in inspect(conn).get_view_names():
                return None
            # An FTS5 table's rowid is part of its content (a view has none to show).
            physical_search = re.search(r"_v\d+_search$", table) is not None
            columns = "rowid, *" if physical_search and self.db.kind == "sqlite" else "*"
            rows = conn.execute(text(f"SELECT {columns} FROM {table}")).all()
        return sorted((tuple(str(v) for v in row) for row in rows), key=repr)


def catalog_projections(cache: SqliteCache | None) -> dict[str, Projection]:  # type: ignore[type-arg]
    """The five projections of this part, by name."""
    found: list[Projection] = [  # type: ignore[type-arg]
        BookCatalogProjection(cache),
        AuthorsProjection(),
        CategoriesProjection(),
        PublishersProjection(),
        FeedbacksProjection(),
    ]
    return {p.name: p for p in found}


@pytest.fixture
def world(query_db: QueryDb, tmp_path: Path) -> Iterator[World]:
    """An empty shop: event store in memory, key store and cache on files, query models."""
    clock = ManualClock(START)
    keys = SqliteKeyStore(tmp_path / "keys.db")
    cache = SqliteCache(tmp_path / "cache.db")
    with SqliteEventStore() as store:
        bus = bootstrap(store, keys, clock=clock)
        yield World(bus, clock, store, keys, cache, query_db, catalog_projections(cache))
    cache.close()
    keys.close()
