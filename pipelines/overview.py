"""Status of a projection as seen from outside its worker (for `bookworm projections status`)."""

from __future__ import annotations

import itertools

from pipelines.status import ProjectionStatus, RunnerState, utcnow
from read_side.projection import Projection
from read_side.targets import Target
from write_side.eventstore import EventStore

#: Lag in events is counted by reading; past this many it is reported as this many.
LAG_COUNT_LIMIT = 1_000_000


def projection_status(
    store: EventStore,
    projection: Projection,  # type: ignore[type-arg]
    target: Target | None,
) -> ProjectionStatus:
    """Checkpoint and bookkeeping from the target, head and lag from the store, and the state
    and rate its worker last reported (stopped when no live worker holds its lease).

    `target` None: a target never written (no embedded file yet), so nothing is built there.
    """
    name = projection.name
    build, stored, parked, lease = 0, None, 0, None
    if target is not None:
        with target.transaction() as tx:
            build = tx.live_build(name) or 0
            stored = tx.checkpoint(name, build) if build else None
            parked = len(tx.dead_letters(name))
        lease = next((lease for lease in target.leases() if lease.projection == name), None)
    checkpoint = 0 if stored is None else stored.position
    head = store.head_position(projection.handles)
    behind = store.read_all_after(checkpoint, filter=projection.handles)
    lag_events = sum(1 for _ in itertools.islice(behind, LAG_COUNT_LIMIT))
    now = utcnow()
    reported = lease.status if lease is not None and lease.expires_at > now else {}
    lag_seconds = None
    if lag_events == 0:
        lag_seconds = 0.0
    elif stored is not None and stored.recorded_at is not None:
        lag_seconds = (now - stored.recorded_at).total_seconds()
    return ProjectionStatus(
        projection=name,
        build=build,
        state=RunnerState(reported.get("state", RunnerState.STOPPED.value)),
        checkpoint=checkpoint,
        head=head,
        lag_events=lag_events,
        lag_seconds=lag_seconds,
        events_per_s=float(reported.get("events_per_s", 0.0)),
        handled=int(reported.get("handled", 0)),
        parked=parked,
        last_error=reported.get("last_error"),
        updated_at=now,
    )
