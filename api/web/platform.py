"""What the API runs on: the adapters the settings name, opened once per app and closed with it."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from threading import Lock

from sqlalchemy import Engine, create_engine, event, select

from api import bootstrap
from api.settings import Settings
from api.web.auth import Authenticator
from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections.catalog_books import BookCatalogProjection
from read_side.targets.sql import live_builds
from write_side.domain import CommandBus, KeyStore
from write_side.eventstore import EventStore
from write_side.groups import SubscriptionGroups

#: How long the API trusts the live build number of `book_catalog` it read (a blue/green
#: switch is seen within this time; until then the old build's cached details are served).
LIVE_BUILD_TTL_S = 1.0


def query_engine(url: str) -> Engine:
    """The engine of the query tables, as a reader: SQLite waits on a busy writer."""
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


@dataclass
class Platform:
    """The adapters of one app: event store, keys, command bus, cache, query tables, auth."""

    settings: Settings
    store: EventStore
    keys: KeyStore
    bus: CommandBus
    cache: Cache
    queries: Engine
    auth: Authenticator
    _closing: ExitStack = field(default_factory=ExitStack)
    _build_lock: Lock = field(default_factory=Lock)
    _catalog_build: tuple[float, int | None] = (0.0, None)

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """Open every adapter the settings name."""
        with ExitStack() as stack:
            store = stack.enter_context(bootstrap.event_store(settings))
            keys = bootstrap.key_store(settings)
            stack.callback(keys.close)
            cache = bootstrap.cache(settings)
            stack.callback(cache.close)
            queries = query_engine(settings.query_db_url)
            stack.callback(queries.dispose)
            platform = cls(
                settings=settings,
                store=store,
                keys=keys,
                bus=bootstrap.bus_on(store, keys, settings, queries=queries),
                cache=cache,
                queries=queries,
                auth=Authenticator(settings),
            )
            platform._closing = stack.pop_all()
        return platform

    @cached_property
    def projections(self) -> dict[str, Projection]:  # type: ignore[type-arg]
        """Every projection by name (for what each handles, when waiting for one)."""
        return {p.name: p for p in bootstrap.projections(keys=self.keys, cache=self.cache)}

    @cached_property
    def groups(self) -> SubscriptionGroups:
        """The event store's persistent subscription groups (opened on first use)."""
        groups = bootstrap.subscription_groups(self.store)
        self._closing.callback(groups.close)
        return groups

    def catalog_build(self) -> int | None:
        """The live build of `book_catalog` (re-read at most once a second)."""
        read_at, build = self._catalog_build
        now = time.monotonic()
        if build is None or now - read_at > LIVE_BUILD_TTL_S:
            with self._build_lock, self.queries.connect() as conn:
                build = conn.scalar(
                    select(live_builds.c.build).where(
                        live_builds.c.projection == BookCatalogProjection.name
                    )
                )
            self._catalog_build = (now, build)
        return build

    def close(self) -> None:
        """Close every adapter (the app's shutdown)."""
        self._closing.close()
