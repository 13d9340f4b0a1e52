"""Unique names across two appends: a claim is released when its append fails, kept when only
the answer was lost, and swept when a crash left it unwanted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.domain.contexts import events_of, unique
from tests.domain.faults import FailsOnce, services_with
from write_side import catalog
from write_side.catalog import (
    CATEGORY_NAMES,
    Category,
    CreateCategory,
    CreatePublisher,
    DeleteCategory,
    RenameCategory,
    reservation_checks,
)
from write_side.domain import (
    Command,
    CommandBus,
    DomainError,
    ManualClock,
    Repository,
    Reservations,
    Services,
)
from write_side.eventstore import EventStore, EventStoreUnavailable


def faulty_bus(
    services: Services, event_store: EventStore, prefix: str, *, written: bool
) -> CommandBus:
    return CommandBus(
        services_with(services, FailsOnce(event_store, prefix, written=written)), catalog.HANDLERS
    )


def holder(reservations: Reservations, name: str) -> object:
    found = reservations.current(CATEGORY_NAMES.kind, name).holder
    return None if found is None else found.owner_id


def test_a_create_whose_append_failed_frees_its_name(
    bus: CommandBus, services: Services, event_store: EventStore, reservations: Reservations
) -> None:
    name = unique("Poetry")
    flaky = faulty_bus(services, event_store, "category-", written=False)

    with pytest.raises(EventStoreUnavailable):
        flaky.dispatch(CreateCategory(name=name))
    again = bus.dispatch(CreateCategory(name=name))

    assert again.events == ("CategoryCreated",)
    assert holder(reservations, name) == again.aggregate_id


def test_a_failed_create_retried_with_the_same_command_claims_its_name_again(
    services: Services, event_store: EventStore, reservations: Reservations
) -> None:
    name = unique("Poetry")
    flaky = faulty_bus(services, event_store, "category-", written=False)
    command = CreateCategory(name=name)

    with pytest.raises(EventStoreUnavailable):
        flaky.dispatch(command)
    retried = flaky.dispatch(command)  # a client retrying with the same Idempotency-Key

    assert retried.events == ("CategoryCreated",)
    assert holder(reservations, name) == retried.aggregate_id
    claim = reservations.current(CATEGORY_NAMES.kind, name)
    assert claim.revision == 2  # made, released, made again


def test_a_claim_that_cannot_be_released_leaves_the_error_of_the_command(
    services: Services, event_store: EventStore, reservations: Reservations
) -> None:
    name = unique("Poetry")
    flaky = CommandBus(
        services_with(
            services, FailsOnce(event_store, "category-", "categoryname-", written=False)
        ),
        catalog.HANDLERS,
    )

    with pytest.raises(EventStoreUnavailable, match="writing to category-"):
        flaky.dispatch(CreateCategory(name=name))  # the append fails, then the release

    assert holder(reservations, name) is not None  # left to the sweeper


def test_a_create_whose_answer_was_lost_keeps_its_name_and_its_retry_writes_nothing(
    bus: CommandBus,
    services: Services,
    event_store: EventStore,
    repository: Repository,
    reservations: Reservations,
) -> None:
    name = unique("Poetry")
    flaky = faulty_bus(services, event_store, "category-", written=True)
    command = CreateCategory(name=name)

    with pytest.raises(ConnectionResetError):
        flaky.dispatch(command)
    retried = flaky.dispatch(command)
    with pytest.raises(DomainError) as taken:
        bus.dispatch(CreateCategory(name=name))

    assert retried.replayed
    assert taken.value.rule == "category_name_taken"
    assert holder(reservations, name) == retried.aggregate_id
    assert len(events_of(repository, retried.stream)) == 1


def test_a_rename_whose_append_failed_keeps_the_old_name_and_frees_the_new(
    bus: CommandBus, services: Services, event_store: EventStore, reservations: Reservations
) -> None:
    old, new = unique("Old"), unique("New")
    id = bus.dispatch(CreateCategory(name=old)).aggregate_id
    flaky = faulty_bus(services, event_store, "category-", written=False)

    with pytest.raises(EventStoreUnavailable):
        flaky.dispatch(RenameCategory(category_id=id, name=new))

    assert holder(reservations, old) == id
    assert holder(reservations, new) is None


def test_a_delete_that_could_not_free_its_name_frees_it_when_retried(
    bus: CommandBus, services: Services, event_store: EventStore, reservations: Reservations
) -> None:
    name = unique("Drama")
    id = bus.dispatch(CreateCategory(name=name)).aggregate_id
    flaky = faulty_bus(services, event_store, "categoryname-", written=False)
    command = DeleteCategory(category_id=id)

    with pytest.raises(EventStoreUnavailable):
        flaky.dispatch(command)  # the delete landed, the release did not
    assert holder(reservations, name) == id
    retried = flaky.dispatch(command)

    assert retried.replayed
    assert holder(reservations, name) is None


def test_the_sweeper_frees_claims_their_owner_no_longer_bears(
    bus: CommandBus,
    services: Services,
    event_store: EventStore,
    reservations: Reservations,
    repository: Repository,
    clock: ManualClock,
) -> None:
    # A rename whose answer was lost: retried, it is answered from the stream, and the old
    # name it never released stays claimed until the sweeper sees nobody bears it.
    old, new, kept = unique("Old"), unique("New"), unique("Kept")
    renamed = bus.dispatch(CreateCategory(name=old)).aggregate_id
    untouched = bus.dispatch(CreateCategory(name=kept)).aggregate_id
    publisher = bus.dispatch(CreatePublisher(name=unique("Faber"))).aggregate_id
    flaky = faulty_bus(services, event_store, "category-", written=True)
    command = RenameCategory(category_id=renamed, name=new)
    with pytest.raises(ConnectionResetError):
        flaky.dispatch(command)
    assert flaky.dispatch(command).replayed
    assert holder(reservations, old) == renamed
    clock.advance(timedelta(minutes=20))

    reservations.sweep(
        older_than=timedelta(minutes=10),
        still_wanted=reservation_checks(repository),
        command=Command(actor="system:sweeper"),
    )

    assert holder(reservations, old) is None
    assert holder(reservations, new) == renamed
    assert holder(reservations, kept) == untouched
    assert repository.load(Category, renamed).name == new
    publisher_claim = reservations.current(
        "publishername", repository.load(catalog.Publisher, publisher).name
    ).holder
    assert publisher_claim is not None
