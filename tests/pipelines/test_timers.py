"""The timer service in a worker, beside the `due_timers` projection: a timer fires when the
domain clock (a test clock here) reaches its due time, once; the recurring jobs are scheduled
when the service starts; a failing poll is retried; the order saga runs beside them."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.process_managers import ProcessManagerRunner
from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.timers import TimerService, timer_service
from pipelines.worker import Assignment, Worker
from read_side.projections.due_timers import CANCELLED, DueTimers, find_timer
from read_side.targets.sql import SqlTarget
from tests.domain.contexts import events_of
from tests.domain.scheduler.alarm import ALARM_TIMERS, Alarm, set_alarm
from tests.domain.shop import Books, lines
from write_side import finance, notification, ordering
from write_side.basket import UpdateBasket
from write_side.bootstrap import HANDLERS
from write_side.catalog import (
    BookLookup,
    CatalogUsage,
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
from write_side.eventstore import EventStore, StreamNotFound
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups.factory import open_subscription_groups
from write_side.keystore import SqlKeyStore
from write_side.registry import REGISTRY
from write_side.scheduler import JobRegistry, RecurringJob, TimerElapsed, job_id

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[SqlTarget]:
    query_store = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    yield query_store
    query_store.close()


@pytest.fixture
def bus(store: EventStore, clock: ManualClock, tmp_path: Path) -> Iterator[CommandBus]:
    keys = SqlKeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    crypto = Crypto(keys)
    repository = Repository(store, REGISTRY, crypto, clock)
    services = Services(repository, Reservations(store, REGISTRY, clock), crypto, clock, {})
    yield CommandBus(services, {})
    keys.close()


def elapsed_in(store: EventStore, stream: str) -> list[uuid.UUID]:
    """The ids of the `TimerElapsed` events of `stream`."""
    try:
        recorded = store.read_stream(stream)
    except StreamNotFound:
        return []
    return [r.id for r in recorded if r.type == TimerElapsed.event_type]


def timer_state(target: SqlTarget, timer_id: uuid.UUID) -> str | None:
    """The timer's state in the due-time table (None: the table has not seen it yet)."""
    with target.transaction() as tx:
        row = find_timer(tx, timer_id)
    return None if row is None else row.state


def saga_timer(repository: Repository, order_id: uuid.UUID) -> uuid.UUID:
    """The id of the first timeout the order's saga scheduled."""
    stream = finance.OrderSaga.stream_for(order_id)
    scheduled = [
        e for e in events_of(repository, stream) if isinstance(e, finance.SagaTimeoutScheduled)
    ]
    assert scheduled, f"the saga of {order_id} scheduled no timeout"
    return scheduled[0].timer_id


def wait_for(condition: Callable[[], bool], *, within_s: float = 20.0) -> bool:
    """Whether `condition` came true within a generous bound (a wait, not a timing check)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Running:
    """A worker running the due-time projection and the service, in a thread."""

    def __init__(self, store: EventStore, target: SqlTarget, service: TimerService) -> None:
        self.worker = Worker(
            store,
            [Assignment(DueTimers(ALARM_TIMERS), target)],
            settings=RunnerSettings(idle_s=0.05),
            services=[service],
        )
        self.thread = threading.Thread(target=self.worker.run, name="test-worker")

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.worker.stop.set()
        self.thread.join(timeout=30)


def test_the_worker_fires_a_timer_when_the_clock_reaches_it_once(
    store: EventStore, target: SqlTarget, bus: CommandBus, clock: ManualClock
) -> None:
    repository = bus.services.repository
    alarm_id = uuid.uuid4()
    timer_id = set_alarm(repository, alarm_id, START + timedelta(minutes=30))
    service = TimerService(store, target, clock=clock, poll_s=0.02)

    with Running(store, target, service):
        polled_before_due = wait_for(lambda: service.stats.polls >= 5)
        before_due = elapsed_in(store, Alarm.stream_for(alarm_id))
        clock.advance(timedelta(minutes=30))
        fired = wait_for(lambda: bool(elapsed_in(store, Alarm.stream_for(alarm_id))))
        polls = service.stats.polls
        wait_for(lambda: service.stats.polls >= polls + 5)  # more polls: nothing more fires

    assert polled_before_due
    assert before_due == []
    assert fired
    assert len(elapsed_in(store, Alarm.stream_for(alarm_id))) == 1
    assert repository.load(Alarm, alarm_id).rang == [timer_id]


def test_the_service_schedules_the_recurring_jobs_when_it_starts(
    store: EventStore, target: SqlTarget, bus: CommandBus
) -> None:
    jobs = JobRegistry()
    jobs.register("nightly_report", period=timedelta(days=1), run=lambda run: None)
    service = timer_service(bus, target, jobs=jobs, poll_s=0.02)

    with Running(store, target, service):
        started = wait_for(lambda: service.stats.started)

    job = bus.services.repository.load(RecurringJob, job_id("nightly_report"))
    assert started
    assert job.pending_due == START + timedelta(days=1)


def test_a_failing_start_is_tried_again(
    store: EventStore, target: SqlTarget, clock: ManualClock
) -> None:
    attempts: list[int] = []

    def flaky_start() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("the store is not there yet")

    service = TimerService(store, target, clock=clock, poll_s=0.02, on_start=flaky_start)
    with Running(store, target, service):
        started = wait_for(lambda: service.stats.started)

    assert started
    assert len(attempts) == 2
    assert service.stats.failures == 1
    assert service.stats.last_error == "ConnectionError('the store is not there yet')"


def test_fire_due_fires_everything_due_in_batches(
    store: EventStore, target: SqlTarget, bus: CommandBus, clock: ManualClock
) -> None:
    repository = bus.services.repository
    alarms = [uuid.uuid4() for _ in range(25)]
    for n, alarm_id in enumerate(alarms):
        set_alarm(repository, alarm_id, START + timedelta(seconds=n))
    projection = DueTimers(ALARM_TIMERS)
    ProjectionRunner(store, projection, target).catch_up()
    service = TimerService(store, target, clock=clock, batch_size=4)

    fired = service.fire_due(START + timedelta(seconds=19))

    assert len(fired) == 20
    assert all(len(elapsed_in(store, Alarm.stream_for(a))) == 1 for a in alarms[:20])
    assert all(elapsed_in(store, Alarm.stream_for(a)) == [] for a in alarms[20:])


def shop_bus(store: EventStore, keys: SqlKeyStore, clock: ManualClock) -> CommandBus:
    """The write side's handlers and Notification's, with the catalog's ports on the store."""
    crypto = Crypto(keys)
    repository = Repository(store, REGISTRY, crypto, clock)
    ports = {
        BookLookup: RepositoryBookLookup(repository),
        CatalogUsage: EventStoreCatalogUsage(store),
    }
    services = Services(repository, Reservations(store, REGISTRY, clock), crypto, clock, ports)
    return CommandBus(services, {**HANDLERS, **notification.HANDLERS})


def place_an_order(bus: CommandBus) -> uuid.UUID:
    """A buyer orders one book from its basket; the order id."""
    buyer_id = uuid.uuid4()
    address = ordering.Address(street="1 Lane", city="London", province="Kent")
    bus.dispatch(
        ordering.CreateBuyer(
            buyer_id=buyer_id, name="Ada Lovelace", email="ada@example.org", address=address
        )
    )
    book_id = Books(bus).create("Dune", "9.99")
    bus.dispatch(UpdateBasket(buyer_id=buyer_id, items=lines({book_id: 1})))
    place = ordering.PlaceOrder(buyer_id=buyer_id, actor=str(buyer_id))
    bus.dispatch(place)
    return place.order_id


def test_the_order_saga_runs_in_a_worker_beside_the_timers(
    target: SqlTarget, clock: ManualClock, tmp_path: Path
) -> None:
    """Embedded store only: the EventStoreDB adapter's groups are not part of this build yet."""
    keys = SqlKeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    with SqliteEventStore() as store, open_subscription_groups(store) as groups:
        bus = shop_bus(store, keys, clock)
        order_id = place_an_order(bus)
        saga = ProcessManagerRunner(groups, finance.OrderSagaManager(bus), REGISTRY)
        timers = TimerService(store, target, clock=clock, poll_s=0.02)
        worker = Worker(
            store,
            [Assignment(DueTimers(), target)],
            settings=RunnerSettings(idle_s=0.05),
            groups=groups,
            services=[saga, timers],
        )
        thread = threading.Thread(target=worker.run, name="test-worker")

        def state() -> finance.OrderSaga:
            return bus.services.repository.load(finance.OrderSaga, order_id)

        thread.start()
        try:
            confirmed = wait_for(lambda: state().checked_out)
            # Timers fire at least once: one the due-time table still holds as pending when it
            # comes due may elapse (and its owner ignores it). Once the table has the
            # cancellation, it must never fire.
            timer_id = saga_timer(bus.services.repository, order_id)
            projected = wait_for(lambda: timer_state(target, timer_id) == CANCELLED)
            clock.advance(timedelta(hours=2))  # past the timeout, which was cancelled
            polls = timers.stats.polls
            polled = wait_for(lambda: timers.stats.polls >= polls + 5)
            bus.dispatch(ordering.CompleteOrder(order_id=order_id, actor="admin"))
            completed = wait_for(lambda: state().state is finance.SagaState.COMPLETED)
        finally:
            worker.stop.set()
            thread.join(timeout=30)
        saga_events = [r.type for r in store.read_stream(finance.OrderSaga.stream_for(order_id))]
        emails = [r for r in store.read_all() if r.type == notification.EmailQueued.event_type]
    keys.close()

    assert (confirmed, projected, polled, completed) == (True, True, True, True)
    assert saga_events == [
        "OrderSagaStarted",
        "BasketCheckoutRequested",
        "SagaTimeoutScheduled",
        "BasketCheckoutConfirmed",
        "SagaTimeoutCancelled",
        "OrderSagaCompleted",
    ]
    assert len(emails) == 2
