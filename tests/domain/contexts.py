"""Fixtures and givens for the bounded contexts' tests: the real repository, reservations and
command bus on every event store adapter, with the catalog's ports answered from the store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from write_side import catalog, rating
from write_side.catalog import (
    BookLookup,
    CatalogUsage,
    CreateAuthor,
    CreateBook,
    CreateCategory,
    CreatePublisher,
    EventStoreCatalogUsage,
    RepositoryBookLookup,
)
from write_side.domain import (
    CommandBus,
    Crypto,
    ManualClock,
    Repository,
    Reservations,
    Services,
)
from write_side.envelope import DomainEvent
from write_side.eventstore import EventStore, StreamNotFound
from write_side.registry import REGISTRY


@pytest.fixture
def repository(event_store: EventStore, crypto: Crypto, clock: ManualClock) -> Repository:
    """The platform's repository (every registered event) on the adapter under test."""
    return Repository(event_store, REGISTRY, crypto, clock)


@pytest.fixture
def reservations(event_store: EventStore, clock: ManualClock) -> Reservations:
    """Reservation streams on the adapter under test."""
    return Reservations(event_store, REGISTRY, clock)


@pytest.fixture
def services(
    repository: Repository,
    reservations: Reservations,
    crypto: Crypto,
    clock: ManualClock,
    event_store: EventStore,
) -> Services:
    """What handlers use, with the catalog's ports answered from the event store."""
    ports: dict[type[Any], Any] = {
        CatalogUsage: EventStoreCatalogUsage(event_store),
        BookLookup: RepositoryBookLookup(repository),
    }
    return Services(repository, reservations, crypto, clock, ports)


@pytest.fixture
def bus(services: Services) -> CommandBus:
    """The command bus of the catalog and rating handlers."""
    return CommandBus(services, {**catalog.HANDLERS, **rating.HANDLERS})


# -- givens and thens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shelf:
    """A category, a publisher and two authors a book can refer to."""

    category_id: uuid.UUID
    publisher_id: uuid.UUID
    author_ids: tuple[uuid.UUID, uuid.UUID]


def unique(label: str) -> str:
    """A name no other test uses (stores may be shared between tests)."""
    return f"{label} {uuid.uuid4().hex[:12]}"


def given_shelf(bus: CommandBus) -> Shelf:
    """Given a category, a publisher and two authors."""
    category = bus.dispatch(CreateCategory(name=unique("Poetry")))
    publisher = bus.dispatch(CreatePublisher(name=unique("Penguin")))
    first = bus.dispatch(CreateAuthor(name="Ada Lovelace"))
    second = bus.dispatch(CreateAuthor(name="Charles Babbage"))
    return Shelf(
        category.aggregate_id,
        publisher.aggregate_id,
        (first.aggregate_id, second.aggregate_id),
    )


def create_book(shelf: Shelf, **changes: Any) -> CreateBook:
    """A valid CreateBook on the shelf, with `changes`."""
    fields: dict[str, Any] = {
        "name": "Notes on the Engine",
        "description": "On the Analytical Engine.",
        "price": Decimal("25.00"),
        "discount_price": Decimal("20.00"),
        "category_id": shelf.category_id,
        "publisher_id": shelf.publisher_id,
        "author_ids": shelf.author_ids[:1],
    }
    return CreateBook(**(fields | changes))


def given_book(bus: CommandBus, shelf: Shelf | None = None, **changes: Any) -> uuid.UUID:
    """Given a book (on a new shelf unless one is given); its id."""
    return bus.dispatch(create_book(shelf or given_shelf(bus), **changes)).aggregate_id


def events_of(repository: Repository, stream: str) -> list[DomainEvent]:
    """Then: the events of `stream`, decoded and opened ([] when the stream does not exist)."""
    try:
        recorded = repository.store.read_stream(stream)
    except StreamNotFound:
        return []
    events = []
    for raw in recorded:
        event = repository.registry.decode(raw).event
        assert isinstance(event, DomainEvent)
        events.append(repository.crypto.open(event))
    return events


def types_of(events: Sequence[DomainEvent]) -> list[str]:
    """The event type names."""
    return [type(event).event_type for event in events]
