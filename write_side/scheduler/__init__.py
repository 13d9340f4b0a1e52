"""The Scheduler: durable timers kept as events of their owners' streams, and recurring jobs.

- A context declares the event types that schedule (`timer_id`, `due_at`) and cancel
  (`timer_id`) its timers with `TIMERS.schedules` / `TIMERS.cancels`; the projection
  `due_timers` keeps the due-time table and the timer service appends `TimerElapsed` to the
  owner's stream when a timer is due. Its owner applies `TimerElapsed` and ignores one it
  cancelled or has seen.
- A recurring job is registered with `JOBS.register(name, period=..., run=...)`; the process
  manager `RecurringJobs` runs it each period (`ensure_scheduled` starts it).
"""

from write_side.scheduler.jobs import (
    JOBS,
    JobDefinition,
    JobFunction,
    JobRegistry,
    JobRun,
    RecurringJob,
    RecurringJobRan,
    RecurringJobScheduled,
    RecurringJobUnscheduled,
    job_id,
)
from write_side.scheduler.recurring import RecurringJobs
from write_side.scheduler.timers import (
    TIMER_ACTOR,
    TIMERS,
    DueTimer,
    TimerElapsed,
    TimerEventKind,
    TimerRegistry,
    append_elapsed,
    elapsed_event_id,
    timer_fields,
)

__all__ = [
    "JOBS",
    "TIMERS",
    "TIMER_ACTOR",
    "DueTimer",
    "JobDefinition",
    "JobFunction",
    "JobRegistry",
    "JobRun",
    "RecurringJob",
    "RecurringJobRan",
    "RecurringJobScheduled",
    "RecurringJobUnscheduled",
    "RecurringJobs",
    "TimerElapsed",
    "TimerEventKind",
    "TimerRegistry",
    "append_elapsed",
    "elapsed_event_id",
    "job_id",
    "timer_fields",
]
