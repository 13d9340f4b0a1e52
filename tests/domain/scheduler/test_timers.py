"""Durable timers: given a timer scheduled by an event of its owner's stream, when the clock
reaches its due time, then `TimerElapsed` is appended to that stream once (not before, never
for a cancelled timer), in the flow of the event that scheduled it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import BaseModel

from pipelines.timers import TimerService
from read_side.projections.due_timers import DueTimers
from read_side.targets.sql import SqlTarget
from tests.domain.conftest import START
from tests.domain.contexts import events_of, types_of
from tests.domain.scheduler.alarm import (
    ALARM_TIMERS,
    Alarm,
    AlarmCleared,
    AlarmSet,
    clear_alarm,
    set_alarm,
)
from tests.domain.timers import Timers
from write_side.domain import ManualClock, Repository
from write_side.envelope import DomainEvent
from write_side.eventstore import EventStore
from write_side.registry import REGISTRY
from write_side.scheduler import (
    TIMER_ACTOR,
    TimerElapsed,
    TimerEventKind,
    TimerRegistry,
    elapsed_event_id,
)


@pytest.fixture
def alarms(event_store: EventStore, query_store: SqlTarget, clock: ManualClock) -> Timers:
    """The due-time table of the alarm's declarations, and the timer service."""
    return Timers.on(event_store, query_store, clock, ALARM_TIMERS)


def test_a_timer_elapses_at_its_due_time_not_before(
    repository: Repository, alarms: Timers, clock: ManualClock
) -> None:
    alarm_id = uuid.uuid4()
    timer_id = set_alarm(repository, alarm_id, START + timedelta(minutes=10))

    clock.advance(timedelta(minutes=9, seconds=59))
    early = alarms.fire()
    clock.advance(timedelta(seconds=1))
    on_time = alarms.fire()

    assert early == []
    assert [timer.timer_id for timer in on_time] == [timer_id]
    assert events_of(repository, Alarm.stream_for(alarm_id))[1:] == [
        TimerElapsed(timer_id=timer_id, due_at=START + timedelta(minutes=10))
    ]
    assert repository.load(Alarm, alarm_id).rang == [timer_id]
    row = alarms.find(timer_id)
    assert row is not None
    assert row.state == "elapsed"


def test_an_elapsed_timer_elapses_once(
    repository: Repository, alarms: Timers, clock: ManualClock
) -> None:
    alarm_id = uuid.uuid4()
    set_alarm(repository, alarm_id, START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))

    first = alarms.fire()
    clock.advance(timedelta(hours=5))
    later = alarms.fire()

    assert len(first) == 1
    assert later == []
    assert types_of(events_of(repository, Alarm.stream_for(alarm_id))) == [
        "TestAlarmSet",
        "TimerElapsed",
    ]


def test_a_cancelled_timer_never_elapses(
    repository: Repository, alarms: Timers, clock: ManualClock
) -> None:
    alarm_id = uuid.uuid4()
    timer_id = set_alarm(repository, alarm_id, START + timedelta(minutes=10))
    alarms.catch_up()
    clear_alarm(repository, alarm_id)

    clock.advance(timedelta(days=1))
    fired = alarms.fire()

    assert fired == []
    assert types_of(events_of(repository, Alarm.stream_for(alarm_id))) == [
        "TestAlarmSet",
        "TestAlarmCleared",
    ]
    row = alarms.find(timer_id)
    assert row is not None
    assert row.state == "cancelled"


def test_a_timer_fired_again_before_the_table_saw_it_is_one_elapsed_event(
    repository: Repository,
    alarms: Timers,
    event_store: EventStore,
    query_store: SqlTarget,
    clock: ManualClock,
) -> None:
    alarm_id = uuid.uuid4()
    timer_id = set_alarm(repository, alarm_id, START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))
    alarms.catch_up()
    other_worker = TimerService(event_store, query_store, clock=clock)

    first = alarms.service.fire_due()
    again = alarms.service.fire_due()  # the same service remembers it fired the timer
    elsewhere = other_worker.fire_due()  # another one does not: it appends the same event
    alarms.catch_up()

    assert [t.timer_id for t in first] == [timer_id]
    assert again == []
    assert [t.timer_id for t in elsewhere] == [timer_id]
    elapsed = [
        recorded
        for recorded in event_store.read_stream(Alarm.stream_for(alarm_id))
        if recorded.type == TimerElapsed.event_type
    ]
    assert {recorded.id for recorded in elapsed} == {elapsed_event_id(timer_id)}
    assert repository.load(Alarm, alarm_id).rang == [timer_id]  # the owner ignores a repeat


def test_a_timer_cancelled_after_the_service_read_the_table_is_ignored_by_its_owner(
    repository: Repository, alarms: Timers, clock: ManualClock
) -> None:
    alarm_id = uuid.uuid4()
    timer_id = set_alarm(repository, alarm_id, START + timedelta(minutes=1))
    alarms.catch_up()
    clear_alarm(repository, alarm_id)  # the table has not seen this yet
    clock.advance(timedelta(minutes=1))

    fired = alarms.service.fire_due()
    alarms.catch_up()

    assert [t.timer_id for t in fired] == [timer_id]
    assert types_of(events_of(repository, Alarm.stream_for(alarm_id))) == [
        "TestAlarmSet",
        "TestAlarmCleared",
        "TimerElapsed",
    ]
    assert repository.load(Alarm, alarm_id).rang == []
    row = alarms.find(timer_id)
    assert row is not None
    assert row.state == "cancelled"  # a late elapsed event does not change a cancelled timer


def test_the_elapsed_event_joins_the_flow_of_the_event_that_scheduled_it(
    repository: Repository, alarms: Timers, event_store: EventStore, clock: ManualClock
) -> None:
    alarm_id = uuid.uuid4()
    set_alarm(repository, alarm_id, START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=3))

    alarms.fire()

    scheduled, elapsed = (
        REGISTRY.decode(recorded)
        for recorded in event_store.read_stream(Alarm.stream_for(alarm_id))
    )
    assert scheduled.metadata is not None
    assert elapsed.metadata is not None
    assert elapsed.metadata.correlation_id == scheduled.metadata.correlation_id
    assert elapsed.metadata.causation_id == scheduled.id
    assert elapsed.metadata.actor == TIMER_ACTOR
    assert elapsed.metadata.occurred_at == START + timedelta(minutes=3)


def test_timers_fire_earliest_first_in_batches(
    repository: Repository, alarms: Timers, clock: ManualClock
) -> None:
    alarms.service.batch_size = 7
    due = {set_alarm(repository, uuid.uuid4(), START + timedelta(seconds=n)): n for n in range(20)}
    clock.advance(timedelta(seconds=30))

    fired = alarms.fire()

    assert [timer.timer_id for timer in fired] == sorted(due, key=due.__getitem__)


# -- declarations ------------------------------------------------------------------------------


def test_declared_event_types_are_what_the_table_follows() -> None:
    assert ALARM_TIMERS.kind_of("TestAlarmSet") is TimerEventKind.SCHEDULES
    assert ALARM_TIMERS.kind_of("TestAlarmCleared") is TimerEventKind.CANCELS
    assert ALARM_TIMERS.kind_of("TimerElapsed") is TimerEventKind.ELAPSES
    assert ALARM_TIMERS.kind_of("OrderPlaced") is None
    assert ALARM_TIMERS.event_types() == ("TestAlarmCleared", "TestAlarmSet", "TimerElapsed")


def test_an_event_without_timer_fields_cannot_schedule() -> None:
    registry = TimerRegistry()

    with pytest.raises(TypeError, match="due_at"):
        registry.schedules(AlarmCleared)


def test_an_unregistered_event_cannot_be_declared() -> None:
    class Unregistered(DomainEvent):
        timer_id: uuid.UUID

    with pytest.raises(TypeError, match="register the event"):
        TimerRegistry().cancels(Unregistered)


def test_an_event_cannot_both_schedule_and_cancel() -> None:
    registry = TimerRegistry()
    registry.schedules(AlarmSet)

    with pytest.raises(ValueError, match="schedules a timer"):
        registry.cancels(AlarmSet)


def test_a_plain_model_is_no_event() -> None:
    class NotAnEvent(BaseModel):
        timer_id: uuid.UUID

    with pytest.raises(TypeError):
        TimerRegistry().cancels(NotAnEvent)  # type: ignore[type-var]


def test_the_platform_table_follows_every_declared_timer_event() -> None:
    follows = DueTimers().handles

    for event_type in (
        "SagaTimeoutScheduled",
        "SagaTimeoutCancelled",
        "RecurringJobScheduled",
        "RecurringJobUnscheduled",
        "TimerElapsed",
    ):
        assert follows.matches("any-1", event_type)
    assert not follows.matches("any-1", "OrderPlaced")
