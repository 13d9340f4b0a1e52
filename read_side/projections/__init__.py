"""The platform's projections, by name: what the worker runs and operators rebuild."""

from __future__ import annotations

from read_side.projection import Projection
from read_side.projections.event_counts import EventCounts


def all_projections() -> dict[str, Projection]:  # type: ignore[type-arg]
    """A fresh instance of every projection, by name."""
    found: list[Projection] = [EventCounts()]  # type: ignore[type-arg]
    return {p.name: p for p in found}
