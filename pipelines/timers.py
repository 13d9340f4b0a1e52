"""The timer service: appends `TimerElapsed` to the owner's stream of every pending timer that is
due by the domain clock, polling the `due_timers` table.

It only reads the table; the projection runner of `due_timers` keeps it (the worker runs both).
Delivery is at least once: a timer fired but not yet marked elapsed by the projection is not
fired again by this service for `refire_after_s` (then it is, in case the append was lost), the
elapsed event's id is derived from the timer id, and its owner ignores a repeat. `fire_due`
fires what is due once, for tests and one-off runs; `run` polls until stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from read_side.projections.due_timers import pending_due
from read_side.targets import Target
from read_side.targets.sql import SqlTx
from write_side.domain import Clock, CommandBus
from write_side.envelope import EventRegistry
from write_side.eventstore import EventStore, StreamDeleted, StreamNotFound, WrongExpectedVersion
from write_side.registry import REGISTRY
from write_side.scheduler import JOBS, DueTimer, JobRegistry, RecurringJobs, append_elapsed

log = logging.getLogger(__name__)


@dataclass
class TimerStats:
    """What the service did since it started."""

    fired: int = 0
    polls: int = 0
    failures: int = 0
    last_error: str | None = None
    started: bool = False


class TimerService:
    """Fires due timers by the domain clock; a worker service (`name`, `run(stop)`)."""

    name: ClassVar[str] = "timers"

    def __init__(
        self,
        store: EventStore,
        target: Target,
        *,
        clock: Clock,
        registry: EventRegistry = REGISTRY,
        poll_s: float = 1.0,
        batch_size: int = 100,
        refire_after_s: float = 60.0,
        on_start: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.target = target
        self.clock = clock
        self.registry = registry
        self.poll_s = poll_s
        self.batch_size = batch_size
        self.refire_after_s = refire_after_s
        self.on_start = on_start
        self.stats = TimerStats()
        self._fired_at: dict[UUID, float] = {}

    def fire_due(self, now: datetime | None = None) -> list[DueTimer]:
        """Append `TimerElapsed` for every pending timer due at `now` (default: the clock's
        time) that this service has not just fired; the timers fired, earliest first."""
        now = self.clock.now() if now is None else now
        self._forget_old()
        fired: list[DueTimer] = []
        while True:
            limit = self.batch_size + len(self._fired_at)
            due = self._pending(now, limit)
            fresh = [timer for timer in due if timer.timer_id not in self._fired_at]
            for timer in fresh[: self.batch_size]:
                self._fire(timer, now)
                fired.append(timer)
            if not fresh or len(due) < limit:
                return fired

    def run(self, stop: threading.Event) -> None:
        """Poll every `poll_s` until `stop` is set; failures are logged and the next poll
        tries again. `on_start` (the recurring jobs' first schedule) runs once, first."""
        while not stop.is_set():
            try:
                if not self.stats.started:
                    if self.on_start is not None:
                        self.on_start()
                    self.stats.started = True
                self.fire_due()
                self.stats.polls += 1
            except Exception as error:
                self.stats.failures += 1
                self.stats.last_error = repr(error)
                log.exception("timers: poll failed; trying again in %.1f s", self.poll_s)
            stop.wait(self.poll_s)

    def _pending(self, now: datetime, limit: int) -> list[DueTimer]:
        with self.target.transaction() as tx:
            if not isinstance(tx, SqlTx):
                raise TypeError(f"the due-time table lives in a SQL target, not {self.target!r}")
            return pending_due(tx, now, limit=limit)

    def _fire(self, timer: DueTimer, now: datetime) -> None:
        try:
            append_elapsed(self.store, timer, now=now, registry=self.registry)
        except (StreamNotFound, StreamDeleted, WrongExpectedVersion) as gone:
            # The owner's stream was deleted: nobody is left to tell. Retried after a while.
            log.warning(
                "timer %s of %s: its owner is gone (%r)", timer.timer_id, timer.stream, gone
            )
        else:
            self.stats.fired += 1
        self._fired_at[timer.timer_id] = time.monotonic()

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self.refire_after_s
        for timer_id in [t for t, at in self._fired_at.items() if at < cutoff]:
            del self._fired_at[timer_id]


def timer_service(
    bus: CommandBus, target: Target, *, jobs: JobRegistry = JOBS, poll_s: float = 1.0
) -> TimerService:
    """The timer service of a worker: the bus's store and domain clock, the `due_timers` table in
    `target` (the SQL query store), and the recurring jobs of `jobs` scheduled at its start."""
    services = bus.services
    return TimerService(
        services.repository.store,
        target,
        clock=services.clock,
        registry=services.repository.registry,
        poll_s=poll_s,
        on_start=RecurringJobs(bus, jobs).ensure_scheduled,
    )
