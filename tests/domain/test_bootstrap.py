"""`bootstrap()` wires every context; the sweeper frees what a crash left claimed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from write_side.bootstrap import HANDLERS, bootstrap, sweep_reservations
from write_side.catalog import CreateCategory
from write_side.domain import Command, DomainError, ManualClock
from write_side.eventstore import EventStore
from write_side.keystore import SqliteKeyStore


def test_every_context_is_wired(event_store: EventStore, keys: SqliteKeyStore) -> None:
    bus = bootstrap(event_store, keys)

    names = {command.__name__ for command in bus.commands}

    assert set(HANDLERS) == set(bus.commands)
    assert {"CreateBook", "CreateFeedback", "UpdateBasket", "PlaceOrder", "ForgetBuyer"} <= names


def test_the_sweeper_frees_a_name_whose_owner_never_appeared(
    event_store: EventStore, keys: SqliteKeyStore, clock: ManualClock
) -> None:
    bus = bootstrap(event_store, keys, clock=clock)
    name = f"Orphaned {uuid.uuid4().hex}"
    never_created = uuid.uuid4()
    # A crash right after the claim: the category's own event was never appended.
    bus.services.reservations.reserve(
        "categoryname",
        name,
        owner_id=never_created,
        owner_stream=f"category-{never_created}",
        command=Command(),
        rule="category_name_taken",
    )
    with pytest.raises(DomainError) as refused:
        bus.dispatch(CreateCategory(name=name))
    assert refused.value.rule == "category_name_taken"

    assert sweep_reservations(bus) == 0  # too young to be an orphan
    clock.advance(timedelta(minutes=11))
    assert sweep_reservations(bus) >= 1

    created = bus.dispatch(CreateCategory(name=name))
    assert created.events == ("CategoryCreated",)
