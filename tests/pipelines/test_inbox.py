"""The inbox on SQLite and on this machine's PostgreSQL: an effect once per event id."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.pool import NullPool

from pipelines.inbox import Inbox
from tests.databases import POSTGRES_URL
from write_side.eventstore import NewEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups.sqlite import SqliteSubscriptionGroups


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str | None]]:
    """An engine and the schema to use (PostgreSQL: a schema of its own per test)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'effects.db'}", poolclass=NullPool)
        yield engine, None
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield engine, schema
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


class Emails:
    """The handler's own effect: a row per email sent, in the same database as the inbox."""

    def __init__(self, engine: Engine, schema: str | None) -> None:
        self.engine = engine
        self.table = Table(
            "emails_sent",
            MetaData(schema=schema),
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", Text, nullable=False),
        )
        self.inbox = Inbox("email_sender", schema=schema)
        with engine.begin() as conn:
            self.table.create(conn)
            self.inbox.create(conn)
            self.inbox.create(conn)  # idempotent

    def handle(self, event_id: uuid.UUID, *, fail: bool = False) -> bool:
        """Send the email once per event; True when this call sent it."""
        with self.engine.begin() as conn:
            if not self.inbox.record(conn, event_id):
                return False
            conn.execute(insert(self.table).values(event_id=str(event_id)))
            if fail:
                raise RuntimeError("the mail server hung up")
        return True

    def sent(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(self.table.c.event_id))]


def test_a_second_delivery_has_no_effect(database: tuple[Engine, str | None]) -> None:
    """Given an event handled once, handling it again records nothing and sends nothing."""
    emails = Emails(*database)
    event_id = uuid.uuid4()

    assert emails.handle(event_id) is True
    assert emails.handle(event_id) is False

    assert emails.sent() == [str(event_id)]
    with emails.engine.connect() as conn:
        assert emails.inbox.contains(conn, event_id)


def test_a_failed_effect_leaves_no_record_so_the_retry_applies(
    database: tuple[Engine, str | None],
) -> None:
    """The record shares the effect's transaction: a rollback forgets both."""
    emails = Emails(*database)
    event_id = uuid.uuid4()

    with pytest.raises(RuntimeError):
        emails.handle(event_id, fail=True)
    with emails.engine.connect() as conn:
        assert not emails.inbox.contains(conn, event_id)
    assert emails.handle(event_id) is True

    assert emails.sent() == [str(event_id)]


def test_handlers_have_inboxes_of_their_own(database: tuple[Engine, str | None]) -> None:
    """One event handled by two handlers is recorded for each."""
    engine, schema = database
    sender, auditor = Inbox("email_sender", schema=schema), Inbox("auditor", schema=schema)
    event_id = uuid.uuid4()
    with engine.begin() as conn:
        sender.create(conn)
        assert sender.record(conn, event_id)
        assert auditor.record(conn, event_id)
        assert not sender.record(conn, event_id)


def test_duplicates_handled_at_once_have_one_effect(database: tuple[Engine, str | None]) -> None:
    """Eight threads handling the same event at once: exactly one sends the email."""
    emails = Emails(*database)
    event_id = uuid.uuid4()
    barrier = threading.Barrier(8)
    outcomes: list[bool] = []

    def deliver() -> None:
        barrier.wait()
        outcomes.append(emails.handle(event_id))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == [False] * 7 + [True]
    assert emails.sent() == [str(event_id)]


def test_prune_forgets_old_ids(database: tuple[Engine, str | None]) -> None:
    """Ids handled before the cut are forgotten; later ones stay."""
    engine, schema = database
    inbox = Inbox("email_sender", schema=schema)
    kept = uuid.uuid4()
    with engine.begin() as conn:
        inbox.create(conn)
        inbox.record(conn, kept)
        assert inbox.prune(conn, datetime.now(UTC) - timedelta(hours=1)) == 0
        assert inbox.prune(conn, datetime.now(UTC) + timedelta(seconds=1)) == 1
        assert not inbox.contains(conn, kept)
        count = conn.execute(select(func.count()).select_from(inbox.table)).scalar()
    assert count == 0


def test_a_redelivered_group_event_is_applied_once(database: tuple[Engine, str | None]) -> None:
    """Given a group consumer that applied an event but failed before its acknowledgement (a
    nack with retry stands in for the crash), the redelivery finds the inbox entry and skips."""
    emails = Emails(*database)
    with SqliteEventStore() as store, SqliteSubscriptionGroups(store) as groups:
        store.append(
            "order-1", [NewEvent("OrderPlaced", b"{}")], expected_version=StreamState.NO_STREAM
        )
        groups.create_subscription_to_all("email_sender")
        with groups.read_subscription_to_all("email_sender") as consumer:
            first = consumer.receive(10)
            assert first is not None
            applied_first = emails.handle(first.id)
            consumer.nack(first, "retry")
            again = consumer.receive(10)
            assert again is not None
            applied_again = emails.handle(again.id)
            consumer.ack(again)

    assert (again.id, again.retry_count) == (first.id, 1)
    assert (applied_first, applied_again) == (True, False)
    assert emails.sent() == [str(first.id)]
