"""The process manager `recurring_jobs`: when a job's timer elapses, run the job and schedule
its next run.

The job's function is called before its run is recorded, so a crash in between calls it again
when the elapsed event comes back (at least once); once recorded, the elapsed timer is no
longer the job's pending one and a repeat of the event does nothing. A function that raises
is recorded as a failed run and the chain goes on: one bad hour never stops a recurring job.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import ClassVar
from uuid import UUID

from write_side.domain import Cause, CommandBus, CommandResult
from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter
from write_side.ids import derive_id
from write_side.scheduler.jobs import (
    JOBS,
    JobRegistry,
    JobRun,
    RecordJobRun,
    RecurringJob,
    ScheduleRecurringJob,
    job_id,
)
from write_side.scheduler.timers import TimerElapsed

log = logging.getLogger(__name__)


class RecurringJobs:
    """Runs each registered job when its timer elapses; `ensure_scheduled` starts the chains."""

    #: Its subscription group's name.
    name: ClassVar[str] = "recurring_jobs"
    #: Who its commands come from.
    actor: ClassVar[str] = f"system:{name}"
    #: Elapsed timers (those of other owners are ignored).
    filter: ClassVar[EventFilter] = EventFilter.event_types(TimerElapsed.event_type)

    def __init__(self, bus: CommandBus, jobs: JobRegistry = JOBS) -> None:
        self.bus = bus
        self.jobs = jobs

    def ensure_scheduled(self) -> list[CommandResult]:
        """Give every registered job a pending run (one period from now) unless it has one of
        its current period; safe to call at every start and from several processes."""
        return [self._schedule(job.name, job.period) for job in self.jobs]

    def _schedule(self, name: str, period: timedelta) -> CommandResult:
        services = self.bus.services
        command = ScheduleRecurringJob(name=name, period=period, actor=self.actor)
        return services.repository.execute(
            RecurringJob,
            job_id(name),
            command,
            lambda aggregate: aggregate.schedule(command, services.clock.now()),
        )

    def handle(self, stored: StoredEvent) -> CommandResult | None:
        """Run the job whose pending timer elapsed, then record the run and schedule the next;
        None when the event is not such a timer (another owner's, cancelled, seen before)."""
        event = stored.event
        if not isinstance(event, TimerElapsed) or not stored.stream.startswith("job-"):
            return None
        repository = self.bus.services.repository
        aggregate_id = UUID(stored.stream.removeprefix("job-"))
        job = repository.load(RecurringJob, aggregate_id)
        if job.pending_timer != event.timer_id:
            return None
        definition = self.jobs.get(job.name)
        if definition is None:
            log.warning("recurring job %r elapsed but is no longer registered", job.name)
            return None
        metadata = stored.metadata
        cause = Cause(
            event_id=stored.id,
            correlation_id=stored.id if metadata is None else metadata.correlation_id,
        )
        now = self.bus.services.clock.now()
        run = JobRun(job.name, job.runs + 1, event.due_at, now, self.bus, cause)
        error = None
        try:
            definition.run(run)
        except Exception as failure:
            error = repr(failure)
            log.exception("recurring job %r, run %d, failed", job.name, run.run)
        command = RecordJobRun(
            name=job.name,
            period=definition.period,
            timer_id=event.timer_id,
            due_at=event.due_at,
            succeeded=error is None,
            error=error,
            command_id=derive_id(stored.id, self.name),
            actor=self.actor,
            cause=cause,
        )
        return repository.execute(
            RecurringJob,
            aggregate_id,
            command,
            lambda aggregate: aggregate.record_run(command, now),
        )


__all__ = ["RecurringJobs"]
