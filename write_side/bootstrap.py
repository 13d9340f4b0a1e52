"""`bootstrap()`: the one place where the write side's adapters and handlers are put together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from write_side import basket, catalog, finance, integration, notification, ordering, rating
from write_side.catalog.lookup import BookLookup
from write_side.catalog.ports import CatalogUsage
from write_side.domain import (
    Clock,
    Command,
    CommandBus,
    Crypto,
    KeyStore,
    ProcessManager,
    Repository,
    Reservations,
    Services,
    SystemClock,
)
from write_side.eventstore import EventStore
from write_side.registry import REGISTRY

#: Every command of the write side, by type, to its handler.
HANDLERS = {
    **catalog.HANDLERS,
    **rating.HANDLERS,
    **basket.HANDLERS,
    **ordering.HANDLERS,
    **notification.HANDLERS,
}


def bootstrap(
    store: EventStore,
    keys: KeyStore,
    *,
    clock: Clock | None = None,
    ports: Mapping[type[Any], Any] | None = None,
) -> CommandBus:
    """The command bus over `store`, with personal data keyed in `keys`.

    `ports` answers what the write side asks of read models; the defaults answer from the
    event store itself (always current, slower): the catalog usage by folding the book
    streams, book lookups by loading the Book aggregate. The read side wires its query models
    in their place once they exist.
    """
    REGISTRY.check()
    clock = clock or SystemClock()
    crypto = Crypto(keys)
    repository = Repository(store, REGISTRY, crypto, clock)
    wired: dict[type[Any], Any] = {
        CatalogUsage: catalog.EventStoreCatalogUsage(store),
        BookLookup: catalog.RepositoryBookLookup(repository),
        notification.FailedEmails: notification.EventStoreFailedEmails(store),
    }
    wired.update(ports or {})
    services = Services(repository, Reservations(store, REGISTRY, clock), crypto, clock, wired)
    return CommandBus(services, HANDLERS)


#: How old an unowned reservation must be before the sweeper frees it: longer than any command
#: takes between claiming a value and appending its aggregate's event.
SWEEP_AFTER = timedelta(minutes=10)


def sweep_reservations(bus: CommandBus, *, older_than: timedelta = SWEEP_AFTER) -> int:
    """Free reservations whose owner never came to exist or no longer wants them (a crash
    between a claim and the owner's own event); how many were freed."""
    services = bus.services
    checks = {
        **catalog.reservation_checks(services.repository),
        **rating.reservation_checks(services.repository),
    }
    return services.reservations.sweep(
        older_than=older_than, still_wanted=checks, command=Command(actor="system:sweeper")
    )


def process_managers(bus: CommandBus) -> list[ProcessManager]:
    """Every process manager of the write side, sending its commands through `bus`: the
    catalog rating update, the order saga, the recurring jobs, and the email sender when an
    email transport is wired."""
    managers: list[ProcessManager] = [
        rating.CatalogRatingUpdate(bus.services.port(BookLookup), bus.dispatch),
        *finance.process_managers(bus),
    ]
    if notification.EmailTransport in bus.services.ports:
        managers += notification.process_managers(bus)
    return managers


def integration_services(store: EventStore) -> list[integration.IntegrationEventRecorder]:
    """The integration event recorder: DOMAIN.md's contracts into `integration-{type}` streams."""
    return integration.services(store)
