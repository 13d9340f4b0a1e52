"""Recurring jobs: given a registered job, when its timers elapse, then its function runs once per
period and the next run is scheduled; a failing run does not stop the chain; a repeated elapsed
event runs nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.domain.conftest import START
from tests.domain.contexts import events_of
from tests.domain.timers import Deliveries, Timers
from write_side.domain import (
    CommandBus,
    Crypto,
    ManualClock,
    Repository,
    Reservations,
    Services,
)
from write_side.eventstore import EventStore
from write_side.registry import REGISTRY
from write_side.scheduler import (
    JobRegistry,
    JobRun,
    RecurringJob,
    RecurringJobRan,
    RecurringJobs,
    RecurringJobScheduled,
    RecurringJobUnscheduled,
    job_id,
)

HOUR = timedelta(hours=1)


class Calls:
    """A job function that notes each run it is given, and fails when told to."""

    def __init__(self) -> None:
        self.runs: list[JobRun] = []
        self.fail = False

    def __call__(self, run: JobRun) -> None:
        self.runs.append(run)
        if self.fail:
            raise RuntimeError("the mail server is down")


@pytest.fixture
def bus(repository: Repository, crypto: Crypto, clock: ManualClock) -> CommandBus:
    """A bus with no handlers: the jobs under test send no commands."""
    reservations = Reservations(repository.store, REGISTRY, clock)
    return CommandBus(Services(repository, reservations, crypto, clock, {}), {})


class Jobs:
    """A registry with one hourly job, its runner, timers and deliveries."""

    def __init__(self, bus: CommandBus, timers: Timers, store: EventStore) -> None:
        self.calls = Calls()
        self.registry = JobRegistry()
        self.registry.register("resend_failed_emails", period=HOUR, run=self.calls)
        self.runner = RecurringJobs(bus, self.registry)
        self.timers = timers
        self.deliveries = Deliveries(store, [self.runner], store.head_position())

    def tick(self, by: timedelta) -> None:
        """The clock moves on; due timers fire; the runner sees what happened."""
        self.timers.clock.advance(by)
        self.timers.fire()
        self.deliveries.run()


@pytest.fixture
def jobs(bus: CommandBus, timers: Timers, event_store: EventStore) -> Jobs:
    """The hourly job on the store under test."""
    return Jobs(bus, timers, event_store)


def stream() -> str:
    """The job's stream."""
    return RecurringJob.stream_for(job_id("resend_failed_emails"))


def test_starting_schedules_the_first_run_one_period_ahead_once(
    jobs: Jobs, repository: Repository
) -> None:
    jobs.runner.ensure_scheduled()
    jobs.runner.ensure_scheduled()  # a second worker starting, or a restart

    [scheduled] = events_of(repository, stream())
    assert isinstance(scheduled, RecurringJobScheduled)
    assert (scheduled.name, scheduled.period, scheduled.run) == ("resend_failed_emails", HOUR, 1)
    assert scheduled.due_at == START + HOUR


def test_the_job_runs_once_each_period(jobs: Jobs, repository: Repository) -> None:
    jobs.runner.ensure_scheduled()

    jobs.tick(timedelta(minutes=59))
    before_the_hour = len(jobs.calls.runs)
    jobs.tick(timedelta(minutes=1))
    jobs.tick(HOUR)
    jobs.tick(HOUR)

    assert before_the_hour == 0
    assert [(r.run, r.due_at) for r in jobs.calls.runs] == [
        (1, START + HOUR),
        (2, START + 2 * HOUR),
        (3, START + 3 * HOUR),
    ]
    job = repository.load(RecurringJob, job_id("resend_failed_emails"))
    assert job.runs == 3
    assert job.pending_due == START + 4 * HOUR


def test_a_repeated_elapsed_event_runs_nothing_twice(jobs: Jobs, repository: Repository) -> None:
    jobs.runner.ensure_scheduled()
    jobs.tick(HOUR)
    written = len(events_of(repository, stream()))

    jobs.deliveries.redeliver_everything()

    assert len(jobs.calls.runs) == 1
    assert len(events_of(repository, stream())) == written


def test_a_failing_run_is_recorded_and_the_next_one_still_comes(
    jobs: Jobs, repository: Repository
) -> None:
    jobs.runner.ensure_scheduled()
    jobs.calls.fail = True
    jobs.tick(HOUR)
    jobs.calls.fail = False
    jobs.tick(HOUR)

    ran = [e for e in events_of(repository, stream()) if isinstance(e, RecurringJobRan)]
    assert [(e.run, e.succeeded) for e in ran] == [(1, False), (2, True)]
    assert ran[0].error == "RuntimeError('the mail server is down')"


def test_periods_missed_while_nothing_ran_are_skipped(jobs: Jobs, repository: Repository) -> None:
    jobs.runner.ensure_scheduled()

    jobs.tick(timedelta(hours=3, minutes=30))  # the worker was down for two and a half hours

    assert len(jobs.calls.runs) == 1
    job = repository.load(RecurringJob, job_id("resend_failed_emails"))
    assert job.pending_due == START + 4 * HOUR


def test_a_changed_period_moves_the_pending_run(
    jobs: Jobs, bus: CommandBus, repository: Repository
) -> None:
    jobs.runner.ensure_scheduled()
    faster = JobRegistry()
    faster.register("resend_failed_emails", period=timedelta(minutes=5), run=jobs.calls)

    RecurringJobs(bus, faster).ensure_scheduled()

    events = events_of(repository, stream())
    assert [type(e) for e in events] == [
        RecurringJobScheduled,
        RecurringJobUnscheduled,
        RecurringJobScheduled,
    ]
    first, unscheduled, second = events
    assert isinstance(first, RecurringJobScheduled)
    assert isinstance(unscheduled, RecurringJobUnscheduled)
    assert isinstance(second, RecurringJobScheduled)
    assert unscheduled.timer_id == first.timer_id
    assert second.due_at == START + timedelta(minutes=5)
    jobs.timers.clock.advance(HOUR)
    assert [t.timer_id for t in jobs.timers.fire()] == [second.timer_id]


def test_the_job_is_given_ids_that_repeat_with_the_run(jobs: Jobs) -> None:
    jobs.runner.ensure_scheduled()
    jobs.tick(HOUR)
    jobs.tick(HOUR)

    first, second = jobs.calls.runs
    assert first.command_id("resend") == first.command_id("resend")
    assert first.command_id("resend") != second.command_id("resend")
    assert first.cause.event_id != second.cause.event_id


@pytest.mark.parametrize(
    ("name", "period"),
    [("Resend", HOUR), ("resend", timedelta(0)), ("resend", -HOUR)],
)
def test_a_job_needs_a_snake_case_name_and_a_positive_period(name: str, period: timedelta) -> None:
    with pytest.raises(ValueError):
        JobRegistry().register(name, period=period, run=Calls())


def test_a_job_is_registered_once() -> None:
    registry = JobRegistry()
    registry.register("resend", period=HOUR, run=Calls())

    with pytest.raises(ValueError, match="registered already"):
        registry.register("resend", period=HOUR, run=Calls())
