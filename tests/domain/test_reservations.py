"""Reservation streams: one holder per value, retries find their own claim, orphans swept."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from write_side.domain import Command, DomainError, ManualClock, Reservations
from write_side.domain.reservations import normalize
from write_side.eventstore import EventStore, NewEvent, StreamState
from write_side.registry import REGISTRY


@pytest.fixture
def reservations(event_store: EventStore, clock: ManualClock) -> Reservations:
    return Reservations(event_store, REGISTRY, clock)


def claim(reservations: Reservations, value: str, owner: uuid.UUID, command: Command) -> None:
    reservations.reserve(
        "categoryname",
        value,
        owner_id=owner,
        owner_stream=f"category-{owner}",
        command=command,
        rule="category_name_taken",
        field="name",
    )


def test_values_are_judged_normalised() -> None:
    assert normalize("  Science   Fiction ") == normalize("science fiction")
    assert normalize("\uff33\uff23\uff29\uff26\uff29") == "scifi"  # full-width letters fold
    assert Reservations.stream("categoryname", " Poetry") == Reservations.stream(
        "categoryname", "POETRY "
    )


def test_a_value_has_one_holder(reservations: Reservations) -> None:
    name = f"Poetry {uuid.uuid4().hex}"
    first, second = uuid.uuid4(), uuid.uuid4()
    claim(reservations, name, first, Command())

    with pytest.raises(DomainError) as raised:
        claim(reservations, name.upper(), second, Command())

    assert (raised.value.rule, raised.value.field) == ("category_name_taken", "name")
    holder = reservations.current("categoryname", name).holder
    assert holder is not None
    assert holder.owner_id == first


def test_a_retry_or_the_same_owner_finds_its_own_claim(reservations: Reservations) -> None:
    name = f"Drama {uuid.uuid4().hex}"
    owner, command = uuid.uuid4(), Command()
    claim(reservations, name, owner, command)

    claim(reservations, name, owner, command)
    claim(reservations, name, owner, Command())

    assert reservations.current("categoryname", name).revision == 0


def test_a_released_value_can_be_claimed_again(reservations: Reservations) -> None:
    name = f"History {uuid.uuid4().hex}"
    first, second = uuid.uuid4(), uuid.uuid4()
    claim(reservations, name, first, Command())

    assert not reservations.release(
        "categoryname", name, owner_id=second, command=Command(), reason="renamed"
    )
    assert reservations.release(
        "categoryname", name, owner_id=first, command=Command(), reason="renamed"
    )
    claim(reservations, name, second, Command())

    holder = reservations.current("categoryname", name).holder
    assert holder is not None
    assert holder.owner_id == second


def test_of_twenty_concurrent_claims_exactly_one_wins(reservations: Reservations) -> None:
    name = f"Travel {uuid.uuid4().hex}"
    owners = [uuid.uuid4() for _ in range(20)]
    start = threading.Barrier(len(owners))
    won: list[uuid.UUID] = []
    refused: list[uuid.UUID] = []

    def try_claim(owner: uuid.UUID) -> None:
        start.wait()
        try:
            claim(reservations, name, owner, Command())
            won.append(owner)
        except DomainError:
            refused.append(owner)

    threads = [threading.Thread(target=try_claim, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1
    assert len(refused) == 19
    holder = reservations.current("categoryname", name).holder
    assert holder is not None
    assert holder.owner_id == won[0]


def test_the_sweeper_frees_claims_whose_owner_never_appeared(
    reservations: Reservations, event_store: EventStore, clock: ManualClock
) -> None:
    orphan_name, kept_name, young_name = (f"{w} {uuid.uuid4().hex}" for w in "abc")
    orphan, kept, young = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    claim(reservations, orphan_name, orphan, Command())
    claim(reservations, kept_name, kept, Command())
    event_store.append(
        f"category-{kept}",
        [NewEvent(type="Made", data=b"{}")],
        expected_version=StreamState.NO_STREAM,
    )
    clock.advance(timedelta(minutes=20))
    claim(reservations, young_name, young, Command())

    released = reservations.sweep(older_than=timedelta(minutes=10), command=Command())

    assert released >= 1
    assert reservations.current("categoryname", orphan_name).holder is None
    assert reservations.current("categoryname", kept_name).holder is not None
    assert reservations.current("categoryname", young_name).holder is not None


def test_personal_values_are_not_written_in_the_clear(
    reservations: Reservations, event_store: EventStore
) -> None:
    book, reviewer = uuid.uuid4(), uuid.uuid4()
    value = f"{book}:Ada:Lovelace"
    reservations.reserve(
        "feedbackreviewer",
        value,
        owner_id=reviewer,
        owner_stream=f"feedback-{reviewer}",
        command=Command(),
        rule="feedback_exists",
        personal=True,
    )

    [recorded] = event_store.read_stream(Reservations.stream("feedbackreviewer", value))

    assert b"Lovelace" not in recorded.data
    assert "Lovelace" not in recorded.stream
