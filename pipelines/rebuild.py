"""Blue/green rebuilds: build N+1 beside the live build N, catch up, switch, drop N.

Queries read a projection through stable views that point at the live build, so they see build
N, complete, until the one transaction that repoints the views to build N+1, complete too. The
live build keeps being updated by its worker meanwhile; that worker moves to the new build after
the switch, from the new build's own checkpoint, so no event is lost or counted twice. A rebuild
silences side effects: they were carried out when the events first happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.status import ProjectionStatus, utcnow
from read_side.projection import Projection
from read_side.targets import Target
from write_side.eventstore import EventStore


@dataclass(frozen=True)
class RebuildProgress:
    """How far a rebuild is: its checkpoint against the head, rate and time left."""

    projection: str
    build: int
    checkpoint: int
    head: int
    events_per_s: float
    eta_s: float | None

    @property
    def percent(self) -> float:
        """Share of `$all` positions covered (positions are not contiguous: an estimate)."""
        return 100.0 if self.head <= 0 else min(100.0, 100.0 * self.checkpoint / self.head)


@dataclass(frozen=True)
class RebuildResult:
    """The build that went live, the one it replaced, and the builds dropped."""

    projection: str
    live: int
    replaced: int | None
    dropped: list[int]
    events: int
    seconds: float


def next_build(target: Target, projection: str) -> int:
    """One more than any build the target knows of the projection."""
    with target.transaction() as tx:
        known = [*tx.builds(projection), tx.live_build(projection) or 0]
    return max(known) + 1


def rebuild(
    store: EventStore,
    projection: Projection,  # type: ignore[type-arg]
    target: Target,
    *,
    build: int | None = None,
    settings: RunnerSettings | None = None,
    on_progress: Callable[[RebuildProgress], None] | None = None,
    handover_timeout_s: float = 30.0,
) -> RebuildResult:
    """Build `projection` again from position 0 into a new build, then make it live."""
    started = time.monotonic()
    name = projection.name
    build = build or next_build(target, name)
    runner = ProjectionRunner(
        store, projection, target, build=build, rebuilding=True, settings=settings
    )
    # Catch up until a pass finds nothing new: the new build is then at the live tail.
    while True:
        before = runner.status(with_head=False).checkpoint
        runner.catch_up()
        status = runner.status(with_head=False)
        if on_progress is not None:
            on_progress(_progress(status, store.head_position() or 0, started))
        if status.checkpoint == before:
            break
    with target.transaction() as tx:
        replaced = tx.live_build(name)
        tx.switch(name, build, projection.tables())
        old = [b for b in tx.builds(name) if b != build]
    _wait_for_handover(target, name, build, handover_timeout_s)
    with target.transaction() as tx:
        for stale in old:
            tx.drop_build(name, stale, projection.tables())
    return RebuildResult(
        name,
        build,
        replaced,
        old,
        runner.status(with_head=False).handled,
        time.monotonic() - started,
    )


def _progress(status: ProjectionStatus, head: int, started: float) -> RebuildProgress:
    rate = status.handled / max(time.monotonic() - started, 1e-6)
    left = max(head - status.checkpoint, 0)
    elapsed = time.monotonic() - started
    eta = None if status.checkpoint <= 0 else left * elapsed / status.checkpoint
    return RebuildProgress(status.projection, status.build, status.checkpoint, head, rate, eta)


def _wait_for_handover(target: Target, name: str, build: int, timeout_s: float) -> None:
    """Wait (bounded) until the projection's worker reports the new build, before dropping."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lease = next((lease for lease in target.leases() if lease.projection == name), None)
        if lease is None or lease.expires_at < utcnow() or lease.status.get("build") == build:
            return
        time.sleep(0.1)
