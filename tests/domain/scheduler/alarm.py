"""A small timer owner for the scheduler's tests: an alarm that is set (a timer), may be cleared
(cancelled), and rings when its timer elapses, once, however often `TimerElapsed` comes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from write_side.domain import Aggregate, Command, Repository, applies
from write_side.envelope import DomainEvent, UtcDateTime
from write_side.ids import derive_id
from write_side.registry import REGISTRY
from write_side.scheduler import TimerElapsed, TimerRegistry

#: The alarm's timer declarations (kept apart from the platform's `TIMERS`).
ALARM_TIMERS = TimerRegistry()


@ALARM_TIMERS.schedules
@REGISTRY.event("TestAlarmSet")
class AlarmSet(DomainEvent):
    timer_id: UUID
    due_at: UtcDateTime


@ALARM_TIMERS.cancels
@REGISTRY.event("TestAlarmCleared")
class AlarmCleared(DomainEvent):
    timer_id: UUID


class SetAlarm(Command):
    due_at: UtcDateTime


class ClearAlarm(Command):
    pass


class Alarm(Aggregate):
    """Rings (records the timer) for its pending timer only."""

    category = "testalarm"

    pending: UUID | None = None
    rang: list[UUID] = Field(default_factory=list)

    @applies(AlarmSet)
    def _set(self, event: AlarmSet) -> None:
        self.pending = event.timer_id

    @applies(AlarmCleared)
    def _cleared(self, event: AlarmCleared) -> None:
        self.pending = None

    @applies(TimerElapsed)
    def _elapsed(self, event: TimerElapsed) -> None:
        if event.timer_id == self.pending:  # ignore a cancelled timer, or one seen before
            self.rang.append(event.timer_id)
            self.pending = None


def set_alarm(repository: Repository, alarm_id: UUID, due_at: datetime) -> UUID:
    """Set the alarm for `due_at`; the timer's id."""
    command = SetAlarm(due_at=due_at)
    timer_id = derive_id(command.command_id, "alarm")
    repository.execute(
        Alarm, alarm_id, command, lambda _: [AlarmSet(timer_id=timer_id, due_at=due_at)]
    )
    return timer_id


def clear_alarm(repository: Repository, alarm_id: UUID) -> None:
    """Clear the pending alarm."""

    def decide(alarm: Alarm) -> list[DomainEvent]:
        return [] if alarm.pending is None else [AlarmCleared(timer_id=alarm.pending)]

    repository.execute(Alarm, alarm_id, ClearAlarm(), decide)
