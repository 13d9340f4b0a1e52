"""Recurring jobs: timers that schedule their next run.

A job is registered in code (`JOBS.register(name, period=..., run=...)`) and lives in the
stream `job-{uuid5 of its name}`: `RecurringJobScheduled` sets its next run's timer; when that
timer elapses the process manager `recurring_jobs` calls the job's function, then records
`RecurringJobRan` and schedules the run after (one period after the elapsed one, skipping
periods that passed meanwhile). `ensure_scheduled` starts the chain of a job that has no
pending run (and moves one whose period changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from write_side.domain import Aggregate, Cause, Command, CommandBus, applies
from write_side.envelope import DomainEvent, UtcDateTime
from write_side.ids import BOOKWORM_NAMESPACE, derive_id
from write_side.registry import REGISTRY
from write_side.scheduler.timers import TIMERS, TimerElapsed

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@TIMERS.schedules
@REGISTRY.event("RecurringJobScheduled")
class RecurringJobScheduled(DomainEvent):
    """Run number `run` of job `name` is due at `due_at` (timer `timer_id`)."""

    name: str
    period: timedelta
    run: int
    timer_id: UUID
    due_at: UtcDateTime


@TIMERS.cancels
@REGISTRY.event("RecurringJobUnscheduled")
class RecurringJobUnscheduled(DomainEvent):
    """The pending run's timer was cancelled (the job's period changed)."""

    timer_id: UUID


@REGISTRY.event("RecurringJobRan")
class RecurringJobRan(DomainEvent):
    """Run number `run` of the job was carried out; `error` says why it failed, if it did."""

    run: int
    timer_id: UUID
    succeeded: bool
    error: str | None = None


class ScheduleRecurringJob(Command):
    """Make sure job `name` has a pending run with this `period` (sent at start-up)."""

    name: str
    period: timedelta


class RecordJobRun(Command):
    """Record that the run of timer `timer_id` was carried out, and schedule the next one."""

    name: str
    period: timedelta
    timer_id: UUID
    due_at: UtcDateTime
    succeeded: bool
    error: str | None = None


def job_id(name: str) -> UUID:
    """The id of job `name` (its stream is `job-{id}`)."""
    return derive_id(BOOKWORM_NAMESPACE, "job", name)


class RecurringJob(Aggregate):
    """A recurring job: its period, how many runs it had, and the pending run's timer."""

    category = "job"

    name: str = ""
    period: timedelta | None = None
    runs: int = 0
    pending_timer: UUID | None = None
    pending_due: datetime | None = None

    def schedule(self, command: ScheduleRecurringJob, now: datetime) -> list[DomainEvent]:
        """A first run one period from `now`; nothing while a run of this period is pending."""
        events: list[DomainEvent] = []
        if self.pending_timer is not None:
            if self.period == command.period:
                return []
            events.append(RecurringJobUnscheduled(timer_id=self.pending_timer))
        first = self._next(command, now + command.period, run=self.runs + 1)
        return [*events, first]

    def record_run(self, command: RecordJobRun, now: datetime) -> list[DomainEvent]:
        """The run of the pending timer, and the next run; nothing for any other timer."""
        if self.pending_timer != command.timer_id:
            return []
        due = command.due_at + command.period
        if due <= now:  # periods missed while nothing ran: the next run is the next one ahead
            due += command.period * ((now - due) // command.period + 1)
        return [
            RecurringJobRan(
                run=self.runs + 1,
                timer_id=command.timer_id,
                succeeded=command.succeeded,
                error=command.error,
            ),
            self._next(command, due, run=self.runs + 2),
        ]

    @staticmethod
    def _next(
        command: ScheduleRecurringJob | RecordJobRun, due: datetime, *, run: int
    ) -> RecurringJobScheduled:
        return RecurringJobScheduled(
            name=command.name,
            period=command.period,
            run=run,
            timer_id=derive_id(command.command_id, "job-timer"),
            due_at=due,
        )

    @applies(RecurringJobScheduled)
    def _scheduled(self, event: RecurringJobScheduled) -> None:
        self.name, self.period = event.name, event.period
        self.pending_timer, self.pending_due = event.timer_id, event.due_at

    @applies(RecurringJobUnscheduled)
    def _unscheduled(self, event: RecurringJobUnscheduled) -> None:
        if self.pending_timer == event.timer_id:
            self.pending_timer = self.pending_due = None

    @applies(RecurringJobRan)
    def _ran(self, event: RecurringJobRan) -> None:
        self.runs = event.run
        if self.pending_timer == event.timer_id:
            self.pending_timer = self.pending_due = None

    @applies(TimerElapsed)
    def _elapsed(self, event: TimerElapsed) -> None:
        """Nothing yet: the run is recorded by `RecordJobRun`, which an elapsed timer asks for
        (a repeated or cancelled one then finds it is not the pending timer)."""


@dataclass(frozen=True, slots=True)
class JobRun:
    """What a job's function is given: which run, when it was due, the bus to send commands.

    Commands a job sends should take their ids from `command_id(...)` and their `cause` from
    `cause`, so a run repeated after a crash (delivery is at least once) is answered once.
    """

    name: str
    run: int
    due_at: datetime
    now: datetime
    bus: CommandBus
    cause: Cause

    def command_id(self, *parts: str) -> UUID:
        """A command id for this run, the same when the run is repeated."""
        return derive_id(self.cause.event_id, self.name, *parts)


#: A job's function: called once per run (at least once: make it safe to repeat).
JobFunction = Callable[[JobRun], object]


@dataclass(frozen=True, slots=True)
class JobDefinition:
    """A recurring job as registered: its name, its period and its function."""

    name: str
    period: timedelta
    run: JobFunction


class JobRegistry:
    """The recurring jobs of the platform, registered in code by the contexts that own them."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobDefinition] = {}

    def register(self, name: str, *, period: timedelta, run: JobFunction) -> JobDefinition:
        """Run `run` every `period` (snake_case `name`, unique; period > 0)."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"job name {name!r} must be snake_case")
        if period <= timedelta(0):
            raise ValueError(f"job {name!r}: the period must be positive, not {period}")
        if name in self._jobs:
            raise ValueError(f"job {name!r} is registered already")
        definition = JobDefinition(name, period, run)
        self._jobs[name] = definition
        return definition

    def get(self, name: str) -> JobDefinition | None:
        """The job registered as `name`, or None."""
        return self._jobs.get(name)

    def __iter__(self) -> Iterator[JobDefinition]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)


#: The platform's recurring jobs (the email context registers its hourly resend here).
JOBS = JobRegistry()


__all__ = [
    "JOBS",
    "JobDefinition",
    "JobFunction",
    "JobRegistry",
    "JobRun",
    "RecordJobRun",
    "RecurringJob",
    "RecurringJobRan",
    "RecurringJobScheduled",
    "RecurringJobUnscheduled",
    "ScheduleRecurringJob",
    "job_id",
]
