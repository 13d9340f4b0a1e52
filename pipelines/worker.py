"""The worker: chosen projections and services (process managers, timers), one thread each,
in one process, until told to stop.

With `--metrics-port` it also exports the figures of every subscription group of the store.

On SIGTERM or SIGINT every runner finishes its batch, stores its checkpoint and gives its lease
up; then the process exits. Each projection runs in at most one worker at a time (its lease), so
starting a second worker gives a standby that takes over when the first dies.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

from pipelines.group_metrics import GroupCollector
from pipelines.metrics import serve_metrics
from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.status import ProjectionStatus
from read_side.projection import Projection
from read_side.targets import Target
from write_side.eventstore import EventStore
from write_side.groups import SubscriptionGroups

log = logging.getLogger(__name__)


class Service(Protocol):
    """Anything else a worker runs beside its projections: a process manager, a timer clock."""

    @property
    def name(self) -> str:
        """Its name in logs and thread names."""
        ...

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; recover from its own failures."""
        ...


@dataclass(frozen=True)
class Assignment:
    """One projection and the target it writes to."""

    projection: Projection  # type: ignore[type-arg]
    target: Target


class Worker:
    """Runs runners for its assignments, each following its projection's live build."""

    def __init__(
        self,
        store: EventStore,
        assignments: Sequence[Assignment],
        *,
        settings: RunnerSettings | None = None,
        groups: SubscriptionGroups | None = None,
        services: Sequence[Service] = (),
    ) -> None:
        self.runners = [
            ProjectionRunner(store, a.projection, a.target, settings=settings) for a in assignments
        ]
        self.groups = groups
        self.services = list(services)
        self.stop = threading.Event()

    def statuses(self) -> list[ProjectionStatus]:
        """Every runner's status, with head and lag."""
        return [runner.status() for runner in self.runners]

    def run(self, *, metrics_port: int | None = None) -> None:
        """Run until `stop` is set (by a signal, or by the caller)."""
        if metrics_port is not None:
            groups = self.groups
            extra = [] if groups is None else [GroupCollector(groups.list_subscriptions)]
            serve_metrics(metrics_port, self.statuses, extra=extra)
        runnables: list[ProjectionRunner | Service] = [*self.runners, *self.services]
        threads = [
            threading.Thread(target=r.run, args=(self.stop,), name=f"run:{r.name}")
            for r in runnables
        ]
        for thread in threads:
            thread.start()
        log.info("worker running %s", ", ".join(r.name for r in runnables))
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
        log.info("worker stopped")

    def stop_on_signals(self) -> None:
        """SIGTERM and SIGINT end the run gracefully (call from the main thread)."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "worker: %s received, finishing the current batches", signal.Signals(signum).name
            )
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
