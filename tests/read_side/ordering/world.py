"""A harness for the ordering query models: the real write side (commands through
`bootstrap()`), the real projection runtime, and a SQL target on SQLite or PostgreSQL.

Given commands (through `shop`, the write side's test helpers), when the projections catch up
(or rebuild), then a query on a connection of its own answers from the stable views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from pipelines.rebuild import rebuild
from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections import all_projections
from read_side.targets.sql import SqlTarget
from tests.domain.shop import Books, Shop
from write_side.bootstrap import bootstrap
from write_side.domain import KeyStore, ManualClock
from write_side.eventstore import EventStore

T = TypeVar("T")

#: The query models of this area.
ORDERING_MODELS = ("buyers", "order_history", "baskets", "order_sagas", "emails")
#: Small batches, so a history spans several of them.
SETTINGS = RunnerSettings(batch_size=7, retry_backoff_s=0.001)


@dataclass
class World:
    """The write side, the projections of this area, and the query database."""

    store: EventStore
    keys: KeyStore
    clock: ManualClock
    target: SqlTarget
    url: str
    """The query database for readers (on PostgreSQL with the test's schema on its path)."""
    cache: Cache | None = None
    shop: Shop = field(init=False)
    _engine: Engine | None = None

    def __post_init__(self) -> None:
        bus = bootstrap(self.store, self.keys, clock=self.clock)
        self.shop = Shop(bus, Books(bus))

    def projections(self, keys: KeyStore | None = None) -> list[Projection]:  # type: ignore[type-arg]
        """Fresh instances of this area's projections (opening with `keys`, ours by default)."""
        known = all_projections(keys=keys or self.keys, cache=self.cache)
        return [known[name] for name in ORDERING_MODELS]

    def catch_up(self, keys: KeyStore | None = None) -> None:
        """Every projection follows its live build up to the head (creating build 1 first)."""
        for projection in self.projections(keys):
            ProjectionRunner(self.store, projection, self.target, settings=SETTINGS).catch_up()

    def rebuild(self, keys: KeyStore | None = None) -> None:
        """Rebuild every projection blue/green from position 0 and switch to it."""
        for projection in self.projections(keys):
            rebuild(self.store, projection, self.target, settings=SETTINGS, handover_timeout_s=0)

    def later(self, minutes: int = 1) -> None:
        """Business time moves on."""
        self.clock.advance(timedelta(minutes=minutes))

    @property
    def engine(self) -> Engine:
        """The readers' engine on the query database."""
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A reader's connection."""
        with self.engine.connect() as conn:
            yield conn

    def ask(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a query function on a reader's connection of its own."""
        with self.connection() as conn:
            return query(conn, *args, **kwargs)

    def rows(self, view: str) -> list[tuple[Any, ...]]:
        """Every row of a stable view, sorted, for row-for-row comparisons."""
        with self.connection() as conn:
            found = conn.execute(text(f"SELECT * FROM {view}")).all()
        return sorted((tuple(row) for row in found), key=repr)

    def every_cell(self) -> list[str]:
        """The text of every cell of every table and view of the query database."""
        with self.connection() as conn:
            inspector = inspect(conn)
            names = [*inspector.get_table_names(), *inspector.get_view_names()]
            cells: list[str] = []
            for name in names:
                for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                    cells.extend(str(value) for value in row)
        return cells

    def close(self) -> None:
        """Release the readers' engine."""
        if self._engine is not None:
            self._engine.dispose()
