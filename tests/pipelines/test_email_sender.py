"""The email sender on its persistent subscription group: each queued email becomes one `.eml`
file, and a group that delivers every event again (a second group from the start, as after a
lost checkpoint) writes no second file and no event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from uuid import uuid4

import pytest

from pipelines.process_managers import ProcessManagerRunner
from tests.domain.conftest import START
from tests.domain.shop import HANDLERS, make_shop
from write_side import notification
from write_side.domain import CommandBus, Crypto, ManualClock, Repository
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups import SubscriptionGroups
from write_side.groups.factory import open_subscription_groups
from write_side.keystore import SqliteKeyStore
from write_side.mailer import OutboxFolderTransport
from write_side.notification import Email, EmailKind, EmailSender, EmailStatus, QueueEmail
from write_side.registry import REGISTRY


class RedeliveringSender(EmailSender):
    """The same sender on a second group: it is handed every EmailQueued once more."""

    name: ClassVar[str] = "email_sender_again"


@pytest.fixture
def store() -> Iterator[SqliteEventStore]:
    with SqliteEventStore() as memory:
        yield memory


@pytest.fixture
def groups(store: SqliteEventStore) -> Iterator[SubscriptionGroups]:
    opened = open_subscription_groups(store)
    yield opened
    opened.close()


@pytest.fixture
def bus(store: SqliteEventStore, tmp_path: Path) -> Iterator[CommandBus]:
    keys = SqliteKeyStore(tmp_path / "keys.db")
    repository = Repository(store, REGISTRY, Crypto(keys), ManualClock(START))
    shop = make_shop(repository)
    yield CommandBus(shop.bus.services, {**HANDLERS, **notification.HANDLERS})
    keys.close()


def test_each_email_is_one_file_however_often_its_event_is_delivered(
    bus: CommandBus, groups: SubscriptionGroups, tmp_path: Path
) -> None:
    shop = make_shop(bus.services.repository)
    buyer = shop.buyer()
    shop.fill_basket(buyer, {shop.books.create(): 1})
    order = shop.order(buyer)
    email_ids = [uuid4() for _ in EmailKind]
    for email_id, kind in zip(email_ids, EmailKind, strict=True):
        bus.dispatch(
            QueueEmail(
                email_id=email_id,
                buyer_id=buyer,
                to_name="Ada Lovelace",
                to_address="ada@example.org",
                kind=kind,
                order_id=order,
            )
        )
    outbox = OutboxFolderTransport(tmp_path / "outbox")
    sleeps: list[float] = []
    first = ProcessManagerRunner(groups, EmailSender(bus, outbox, sleep=sleeps.append), REGISTRY)
    again = ProcessManagerRunner(
        groups, RedeliveringSender(bus, outbox, sleep=sleeps.append), REGISTRY
    )

    assert first.drain(idle_s=0.3) == 3
    files = sorted(path.name for path in outbox.folder.iterdir())
    assert again.drain(idle_s=0.3) == 3

    assert files == sorted(f"{email_id}.eml" for email_id in email_ids)
    assert sorted(path.name for path in outbox.folder.iterdir()) == files
    repository = bus.services.repository
    for email_id in email_ids:
        email = repository.load(Email, email_id)
        assert (email.status, email.version) == (EmailStatus.SENT, 2)
    assert sleeps == []
