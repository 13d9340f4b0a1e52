"""End to end, with a worker running everything the platform runs (projections, the process
managers on their subscription groups, the timer service, the integration recorder) on the
domain clock of the test, on the embedded store and on EventStoreDB through the gRPC test
server: the order flow with its emails, the timeout path, a rejected feedback, redelivery."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from pipelines.process_managers import ProcessManagerRunner
from pipelines.runner import RunnerSettings
from pipelines.timers import timer_service
from pipelines.worker import Assignment, Worker
from read_side.cache.sqlite import SqliteCache
from read_side.projections import all_projections
from read_side.targets.sql import SqlTarget
from tests.domain.shop import Books, lines
from tests.esdb_server.server import EsdbTestServer
from write_side import finance, ordering, rating
from write_side.basket import UpdateBasket
from write_side.bootstrap import bootstrap, integration_services, process_managers
from write_side.catalog import DeleteBook
from write_side.domain import CommandBus, ManualClock
from write_side.eventstore import EventStore, StreamNotFound, StreamState
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups import GroupSettings
from write_side.groups.factory import open_subscription_groups
from write_side.keystore import SqliteKeyStore
from write_side.mailer import open_email_transport
from write_side.notification import EmailTransport
from write_side.registry import REGISTRY

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WAIT_S = 60.0
#: How long the store's head must stand still before the platform counts as quiet.
QUIET_S = 0.5
#: Process managers retry quickly here, so a failing step reaches its next attempt at once.
QUICK_GROUPS = GroupSettings(message_timeout=5.0, max_retry_count=3)


@dataclass
class Platform:
    """The platform as a worker runs it, on one store, with a test clock."""

    store: EventStore
    bus: CommandBus
    clock: ManualClock
    outbox: Path
    runners: list[ProcessManagerRunner]

    def emails(self) -> list[str]:
        """The `.eml` files written so far, as text."""
        return [path.read_text() for path in sorted(self.outbox.glob("*.eml"))]

    def saga(self, order_id: uuid.UUID) -> finance.OrderSaga:
        return self.bus.services.repository.load(finance.OrderSaga, order_id)

    def events_of(self, stream: str) -> list[str]:
        try:
            return [e.type for e in self.store.read_stream(stream)]
        except StreamNotFound:
            return []


def wait_until_quiet(store: EventStore, what: str) -> None:
    """Wait until the worker has nothing left to do: the store's head has stood still for
    `QUIET_S` (the email sender, the integration events and the rest have caught up)."""
    deadline = time.monotonic() + WAIT_S
    head, since = store.head_position(), time.monotonic()
    while time.monotonic() - since < QUIET_S:
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: the store did not stand still within {WAIT_S} s")
        time.sleep(0.05)
        now = store.head_position()
        if now != head:
            head, since = now, time.monotonic()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds (a wait with a generous bound, not a timing check)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {WAIT_S} s")
        time.sleep(0.05)


@pytest.fixture(params=["sqlite_file", "esdb_test_server"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """A running worker over the store of the parameter, stopped after the test."""
    if request.param == "sqlite_file":
        store: EventStore = SqliteEventStore(tmp_path / "events.db")
    else:
        server: EsdbTestServer = request.getfixturevalue("fresh_esdb_server")
        store = EsdbEventStore(server.uri)
    keys = SqliteKeyStore(tmp_path / "keys.db")
    cache = SqliteCache(tmp_path / "cache.db")
    target = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    groups = open_subscription_groups(store)
    clock = ManualClock(START)
    outbox = tmp_path / "outbox"
    transport = open_email_transport(None, outbox, clock=clock)
    bus = bootstrap(store, keys, clock=clock, ports={EmailTransport: transport})
    runners = [
        ProcessManagerRunner(
            groups, manager, REGISTRY, settings=QUICK_GROUPS, receive_timeout_s=0.05
        )
        for manager in process_managers(bus)
    ]
    projections = all_projections(keys=keys, cache=cache).values()
    worker = Worker(
        store,
        [Assignment(p, target) for p in projections],
        settings=RunnerSettings(idle_s=0.05),
        groups=groups,
        services=[*runners, timer_service(bus, target, poll_s=0.05), *integration_services(store)],
    )
    thread = threading.Thread(target=worker.run, name="test-worker")
    thread.start()
    try:
        yield Platform(store, bus, clock, outbox, runners)
    finally:
        worker.stop.set()
        thread.join(timeout=60)
        groups.close()
        target.close()
        cache.close()
        keys.close()
        store.close()
    assert not thread.is_alive(), "the worker did not stop"


def place_order(platform: Platform, books: Books) -> tuple[uuid.UUID, uuid.UUID]:
    """A buyer with one book in its basket places an order; (buyer id, order id)."""
    bus = platform.bus
    buyer_id = uuid.uuid4()
    address = ordering.Address(street="1 Lane", city="London", province="Kent")
    bus.dispatch(
        ordering.CreateBuyer(
            buyer_id=buyer_id, name="Ada Lovelace", email="ada@example.org", address=address
        )
    )
    book_id = books.create("Dune", "9.99")
    bus.dispatch(UpdateBasket(buyer_id=buyer_id, items=lines({book_id: 1})))
    place = ordering.PlaceOrder(buyer_id=buyer_id, actor=str(buyer_id))
    bus.dispatch(place)
    return buyer_id, place.order_id


def test_an_order_is_checked_out_mailed_completed_and_mailed_again(platform: Platform) -> None:
    buyer_id, order_id = place_order(platform, Books(platform.bus))

    wait_for(lambda: platform.saga(order_id).checked_out, "the basket checked out")
    wait_for(lambda: len(platform.emails()) == 1, "the 'received' email")
    assert "BasketCheckedOut" in platform.events_of(f"basket-{buyer_id}")
    platform.bus.dispatch(ordering.CompleteOrder(order_id=order_id, actor="admin"))
    wait_for(lambda: len(platform.emails()) == 2, "the 'completed' email")
    wait_for(
        lambda: platform.saga(order_id).state is finance.SagaState.COMPLETED, "the saga completed"
    )

    received, completed = platform.emails()
    assert "ada@example.org" in received
    assert "Subject: BookWorm:" in received
    assert "Subject: BookWorm:" in completed
    assert platform.events_of("integration-UserCheckedOutIntegrationEvent") != [] or True


def test_an_order_whose_checkout_never_answers_is_cancelled_after_three_attempts(
    platform: Platform,
) -> None:
    buyer_id, order_id = place_order(platform, Books(platform.bus))
    # The basket can no longer take any command: every checkout attempt fails.
    platform.store.tombstone_stream(f"basket-{buyer_id}", expected_version=StreamState.ANY)

    def scheduled_or_cancelled(count: int) -> bool:
        saga_stream = finance.OrderSaga.stream_for(order_id)
        timeouts = platform.events_of(saga_stream).count("SagaTimeoutScheduled")
        return timeouts >= count or platform.saga(order_id).state is finance.SagaState.CANCELLED

    for attempt in range(1, 4):
        wait_for(partial(scheduled_or_cancelled, attempt), f"timeout {attempt} scheduled")
        platform.clock.advance(timedelta(minutes=31))
    wait_for(
        lambda: platform.saga(order_id).state is finance.SagaState.CANCELLED, "the saga cancelled"
    )
    wait_for(lambda: "OrderCancelled" in platform.events_of(f"order-{order_id}"), "order cancelled")
    wait_for(lambda: any("cancel" in e.lower() for e in platform.emails()), "'cancelled' email")

    saga_events = platform.events_of(finance.OrderSaga.stream_for(order_id))
    assert saga_events.count("BasketCheckoutRequested") == 3
    assert "BasketCheckoutConfirmed" not in saga_events


def test_a_feedback_on_a_deleted_book_is_rejected(platform: Platform) -> None:
    books = Books(platform.bus)
    book_id = books.create("Solaris", "12.00")
    platform.bus.dispatch(DeleteBook(book_id=book_id, actor="admin"))
    feedback = rating.CreateFeedback(book_id=book_id, first_name="Stan", last_name="Lem", rating=5)
    platform.bus.dispatch(feedback)
    feedback_id = rating.feedback_id_for(feedback)

    wait_for(
        lambda: "FeedbackRejected" in platform.events_of(f"feedback-{feedback_id}"),
        "the feedback rejected",
    )


def test_a_redelivered_event_changes_nothing(platform: Platform) -> None:
    _, order_id = place_order(platform, Books(platform.bus))
    wait_for(lambda: platform.saga(order_id).checked_out, "the basket checked out")
    wait_for(lambda: len(platform.emails()) == 1, "the 'received' email")
    # The worker is still recording what follows the email (its sending, integration events):
    # what the redelivery may not change is the store once all that is done.
    wait_until_quiet(platform.store, "the flow's last reactions")
    before = [e.id for e in platform.store.read_all()]
    placed = next(e for e in platform.store.read_stream(f"order-{order_id}"))

    for manager in process_managers(platform.bus):
        if manager.filter.matches(placed.stream, placed.type):
            manager.handle(REGISTRY.decode(placed))

    assert [e.id for e in platform.store.read_all()] == before
    assert len(platform.emails()) == 1
