"""A small aggregate for testing the building blocks: a tally with a personal owner."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from write_side.domain import Aggregate, Command, DomainError, NotFound, Sealed, applies
from write_side.envelope import DomainEvent, EventRegistry

TALLY_EVENTS = EventRegistry()


class Owner(BaseModel):
    """Personal data of a tally's owner."""

    name: str
    email: str


@TALLY_EVENTS.event("TallyOpened")
class TallyOpened(DomainEvent):
    tally_id: UUID
    owner: Sealed[Owner]


@TALLY_EVENTS.event("TallyAdded")
class TallyAdded(DomainEvent):
    amount: int


class OpenTally(Command):
    tally_id: UUID
    name: str
    email: str


class AddToTally(Command):
    tally_id: UUID
    amount: int


class Tally(Aggregate):
    """Opened once, then counts; snapshotted every 3 events."""

    category = "tally"
    snapshot_every = 3

    total: int = 0
    additions: int = 0
    owner: Sealed[Owner] | None = None

    def open(self, command: OpenTally) -> list[DomainEvent]:
        if self.exists:
            raise DomainError("tally_exists", f"tally {self.id} is open already")
        owner = Sealed.of(command.tally_id, Owner(name=command.name, email=command.email))
        return [TallyOpened(tally_id=command.tally_id, owner=owner)]

    def add(self, command: AddToTally) -> list[DomainEvent]:
        if not self.exists:
            raise NotFound("tally_not_found", f"no tally {self.id}")
        if command.amount <= 0:
            raise DomainError("amount_positive", "amount must be > 0", field="amount")
        return [TallyAdded(amount=command.amount)]

    @applies(TallyOpened)
    def _opened(self, event: TallyOpened) -> None:
        self.owner = event.owner

    @applies(TallyAdded)
    def _added(self, event: TallyAdded) -> None:
        self.total += event.amount
        self.additions += 1
