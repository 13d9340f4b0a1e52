"""How far the live build of each query model has read the event store (read-your-writes)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, select

from read_side.targets.sql import checkpoints, live_builds


def live_checkpoints(conn: Connection, projections: Iterable[str]) -> dict[str, int]:
    """The checkpoint (commit position) of each projection's live build; a projection that was
    never built is left out."""
    names = list(projections)
    rows = conn.execute(
        select(live_builds.c.projection, checkpoints.c.position)
        .join(
            checkpoints,
            and_(
                checkpoints.c.projection == live_builds.c.projection,
                checkpoints.c.build == live_builds.c.build,
            ),
        )
        .where(live_builds.c.projection.in_(names))
    ).all()
    return {row.projection: int(row.position) for row in rows}
