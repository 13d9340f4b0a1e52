"""The composition root: the one place where settings become adapters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url

from api.settings import Settings, embedded_urls
from pipelines.process_managers import ProcessManagerRunner
from pipelines.timers import TimerService, timer_service
from pipelines.worker import Service
from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections import all_projections
from read_side.targets import Target
from write_side.bootstrap import bootstrap as bootstrap_write_side
from write_side.bootstrap import integration_services as write_side_integration
from write_side.bootstrap import process_managers
from write_side.domain import CommandBus, KeyStore
from write_side.eventstore import EventStore
from write_side.eventstore.factory import embedded_store_file, open_event_store
from write_side.groups import SubscriptionGroups
from write_side.groups.factory import open_subscription_groups
from write_side.keystore import open_key_store
from write_side.registry import REGISTRY


def event_store(settings: Settings, *, live_window_s: float | None = None) -> EventStore:
    """The event store the settings name (the embedded SQLite file by default).

    `live_window_s`: the least time between two reads of a live subscription of the embedded
    store (its default when None); a worker passes `settings.worker_live_window_s`.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_event_store(settings.event_store, live_batch_window_s=live_window_s)


class UnknownName(ValueError):
    """A projection or process manager asked for by a name that none has."""


class NoEventStore(Exception):
    """A read asked for an embedded event store whose file does not exist."""


def existing_event_store(settings: Settings) -> EventStore:
    """The event store the settings name, for a read: an embedded store's file must exist
    already (`NoEventStore` otherwise), since a read that created an empty store would only
    hide a mistyped data directory."""
    require_event_store(settings)
    return open_event_store(settings.event_store)


def require_event_store(settings: Settings) -> None:
    """`NoEventStore` unless the event store the settings name exists (a server always does)."""
    path = embedded_store_file(settings.event_store)
    if path is not None and not path.exists():
        raise NoEventStore(f"no event store at {path}: {_where_the_events_are(settings)}")


def _where_the_events_are(settings: Settings) -> str:
    demo = settings.demo_path
    demo_events = embedded_store_file(embedded_urls(demo)["event_store"])
    if demo_events is not None and demo_events.exists():
        return f"the demo's store is in {demo} (set BOOKWORM_DATA_DIR={demo})"
    return (
        f"nothing has been written there yet (`bookworm demo` writes its store into {demo}, "
        "`bookworm events sample` a small sample into the data directory)"
    )


def key_store(settings: Settings) -> KeyStore:
    """The personal-data key store the settings name (a SQLite file by default)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_key_store(settings.key_store_url)


def bus_on(
    store: EventStore,
    keys: KeyStore,
    settings: Settings | None = None,
    *,
    queries: Engine | None = None,
) -> CommandBus:
    """The write side's command bus on an open store and key store.

    With `settings`, the catalog's usage questions are answered by the `book_catalog` query
    model (the event-store scan answers until that model is first built) through `queries`
    (an engine of its own when none is given), and emails go out through the configured
    transport (SMTP, or `.eml` files in the outbox folder).
    """
    ports: dict[type[Any], Any] = {}
    if settings is not None:
        from read_side.queries.catalog_usage import BookCatalogUsage
        from write_side.catalog import EventStoreCatalogUsage
        from write_side.catalog.ports import CatalogUsage
        from write_side.mailer import open_email_transport
        from write_side.notification import EmailTransport

        engine = queries or create_engine(settings.query_db_url)
        ports[CatalogUsage] = BookCatalogUsage(engine, until_built=EventStoreCatalogUsage(store))
        ports[EmailTransport] = open_email_transport(settings.smtp_url, settings.outbox_path)
    return bootstrap_write_side(store, keys, ports=ports)


@contextmanager
def command_bus(settings: Settings) -> Iterator[CommandBus]:
    """The write side's command bus on the configured stores, closed afterwards."""
    with event_store(settings) as store:
        keys = key_store(settings)
        try:
            yield bus_on(store, keys, settings)
        finally:
            keys.close()


def process_runners(
    bus: CommandBus, groups: SubscriptionGroups, names: list[str] | None = None
) -> list[ProcessManagerRunner]:
    """Runners of the process managers asked for by group name (all of them when empty)."""
    known = {manager.name: manager for manager in process_managers(bus)}
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise UnknownName(f"unknown process managers {unknown}; known: {sorted(known)}")
    chosen = [known[name] for name in (names or sorted(known))]
    return [ProcessManagerRunner(groups, manager, REGISTRY) for manager in chosen]


def timer_services(bus: CommandBus, targets: Mapping[str, Target]) -> list[TimerService]:
    """The timer service: fires due timers (from `due_timers` in the SQL target) by the bus's
    domain clock, and starts every recurring job's chain when it starts."""
    return [timer_service(bus, targets["sql"])]


def integration_services(
    store: EventStore, settings: Settings, targets: Mapping[str, Target]
) -> list[Service]:
    """The integration event recorder, and the RabbitMQ publisher when BOOKWORM_AMQP_URL is set."""
    found: list[Service] = [*write_side_integration(store)]
    if settings.amqp_url:
        from pipelines.amqp import RabbitMqPublisher
        from pipelines.integration_publisher import IntegrationPublisher

        publisher = RabbitMqPublisher(settings.amqp_url)
        found.append(IntegrationPublisher(store, targets["sql"], publisher))
    return found


def subscription_groups(store: EventStore) -> SubscriptionGroups:
    """The persistent subscription groups of `store` (their state lives with its events)."""
    return open_subscription_groups(store)


def open_target(settings: Settings, kind: str) -> Target:
    """The read-model target of a kind: "sql" (query tables) or "duckdb" (the warehouse)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "sql":
        from read_side.targets.sql import SqlTarget

        return SqlTarget(settings.query_db_url)
    if kind == "duckdb":
        from read_side.targets.duckdb import DuckDBTarget

        settings.warehouse_path.mkdir(parents=True, exist_ok=True)
        return DuckDBTarget(_warehouse_file(settings))
    raise ValueError(f"no target of kind {kind!r}")


def _warehouse_file(settings: Settings) -> Path:
    return settings.warehouse_path / "warehouse.duckdb"


def target_file(settings: Settings, kind: str) -> Path | None:
    """The file of an embedded target of a kind; None for a database server's."""
    if kind == "duckdb":
        return _warehouse_file(settings)
    if kind == "sql":
        url = make_url(settings.query_db_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database)
        return None
    raise ValueError(f"no target of kind {kind!r}")


def cache(settings: Settings) -> Cache:
    """The cache port the settings name: Redis, or the SQLite file every local process shares."""
    if settings.redis_url:
        from read_side.cache.redis import RedisCache

        return RedisCache(settings.redis_url, namespace=settings.redis_namespace)
    from read_side.cache.sqlite import SqliteCache

    return SqliteCache(settings.cache_path)


def projections(
    names: list[str] | None = None,
    *,
    keys: KeyStore | None = None,
    cache: Cache | None = None,
) -> list[Projection]:  # type: ignore[type-arg]
    """The projections asked for by name (all of them when `names` is empty).

    `keys` lets the projections that show personal data open it; `cache` is where projections
    keep cached answers or evict them. Listing needs neither; running does.
    """
    known = all_projections(keys=keys, cache=cache)
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise UnknownName(f"unknown projections {unknown}; known: {sorted(known)}")
    return [known[n] for n in (names or sorted(known))]


@contextmanager
def targets(settings: Settings, kinds: set[str]) -> Iterator[dict[str, Target]]:
    """One open target per kind, closed afterwards (one per file: DuckDB wants that)."""
    with ExitStack() as stack:
        opened: dict[str, Target] = {}
        for kind in sorted(kinds):
            opened[kind] = open_target(settings, kind)
            stack.callback(opened[kind].close)
        yield opened


@contextmanager
def written_targets(settings: Settings, kinds: set[str]) -> Iterator[dict[str, Target]]:
    """The targets of these kinds that a projection has written, for a read or a clean-up.

    `NoEventStore` when there is no event store (a mistyped data directory, say); an embedded
    target whose file does not exist yet holds nothing and is left out, not created.
    """
    require_event_store(settings)
    present = {k for k in kinds if (path := target_file(settings, k)) is None or path.exists()}
    with targets(settings, present) as opened:
        yield opened
