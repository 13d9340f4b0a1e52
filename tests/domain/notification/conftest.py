"""Notification tests: the real command bus (catalog, basket, ordering, notification) over every
event store adapter, real orders to write about, and the outbox folder transport."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from tests.domain.shop import HANDLERS, Shop, repository, shop
from write_side import notification
from write_side.domain import CommandBus, CommandResult, ManualClock, Repository
from write_side.envelope import DomainEvent
from write_side.mailer import OutboxFolderTransport
from write_side.notification import (
    Email,
    EmailKind,
    EmailSender,
    EventStoreFailedEmails,
    QueueEmail,
)

__all__ = ["repository", "shop"]


@dataclass
class Mail:
    """The shop with Notification's handlers, an order to write about, and helpers."""

    shop: Shop
    bus: CommandBus
    buyer_id: UUID
    order_id: UUID
    name: str
    address: str

    @property
    def repository(self) -> Repository:
        """The repository behind the bus."""
        return self.bus.services.repository

    def queue_command(
        self, kind: EmailKind = EmailKind.ORDER_RECEIVED, **changes: object
    ) -> QueueEmail:
        """A valid QueueEmail about the order, with `changes`."""
        fields: dict[str, object] = {
            "email_id": uuid4(),
            "buyer_id": self.buyer_id,
            "to_name": self.name,
            "to_address": self.address,
            "kind": kind,
            "order_id": self.order_id,
            "actor": "system:order_saga",
        }
        return QueueEmail.model_validate(fields | changes)

    def queue(self, kind: EmailKind = EmailKind.ORDER_RECEIVED, **changes: object) -> UUID:
        """Queue an email (QueueEmail); its id."""
        command = self.queue_command(kind, **changes)
        self.bus.dispatch(command)
        return command.email_id

    def send(self, command: QueueEmail) -> CommandResult:
        """Dispatch a command through the bus."""
        return self.bus.dispatch(command)

    def events(self, email_id: UUID) -> list[DomainEvent]:
        """The email's events, opened ([] when it was never queued)."""
        stream = Email.stream_for(email_id)
        return self.shop.events(stream) if self.shop.revision(stream) >= 0 else []

    def email(self, email_id: UUID) -> Email:
        """The email as its stream says now."""
        return self.repository.load(Email, email_id)


@pytest.fixture
def mail(shop: Shop) -> Mail:
    """A buyer with a placed order of two books, and the bus that queues emails about it."""
    services = shop.bus.services
    bus = CommandBus(services, {**HANDLERS, **notification.HANDLERS})
    tag = uuid4().hex[:8]
    name, address = f"Ada{tag} Lovelace", f"ada.{tag}@example.org"
    buyer_id = shop.buyer(name=name, email=address)
    dune = shop.books.create("Dune", "9.99")
    emma = shop.books.create("Emma <& Co>", "12.50", discount="10.00")
    shop.fill_basket(buyer_id, {dune: 2, emma: 1})
    order_id = shop.order(buyer_id)
    return Mail(shop, bus, buyer_id, order_id, name, address)


@pytest.fixture
def outbox(tmp_path: Path, clock: ManualClock) -> OutboxFolderTransport:
    """The embedded transport, writing into a fresh folder."""
    return OutboxFolderTransport(tmp_path / "outbox", clock=clock)


@pytest.fixture
def sleeps() -> list[float]:
    """The pauses the sender asked for, in order (it never really waits in these tests)."""
    return []


@pytest.fixture
def sender(mail: Mail, outbox: OutboxFolderTransport, sleeps: list[float]) -> EmailSender:
    """The email sender over the outbox folder."""
    return EmailSender(
        mail.bus,
        outbox,
        failed=EventStoreFailedEmails(mail.repository.store),
        sleep=sleeps.append,
    )
