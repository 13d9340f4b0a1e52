"""What a simulation reports: its outcome, and the events it left in the store by type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from api.settings import Settings
from api.simulator.acting import SimulationError
from api.simulator.simulation import SimulationConfig, SimulationOutcome, simulate
from api.simulator.wiring import Durability, simulation_wiring
from write_side.eventstore import EventStore


@dataclass(frozen=True)
class SimulationReport:
    """A finished simulation: what it did, the events it appended, and where."""

    config: SimulationConfig
    outcome: SimulationOutcome
    events: Counter[str]
    store_uri: str

    @property
    def event_count(self) -> int:
        """How many events the simulation appended (snapshots not counted)."""
        return sum(self.events.values())

    @property
    def events_per_s(self) -> float:
        """Events appended per second of simulation."""
        return self.event_count / self.outcome.elapsed_s if self.outcome.elapsed_s else 0.0


def events_after(store: EventStore, position: int | None) -> Counter[str]:
    """The events of `$all` after `position` (None: all of them), counted by type."""
    return Counter(event.type for event in store.read_all_after(position))


def run_simulation(
    settings: Settings,
    config: SimulationConfig,
    *,
    durability: Durability | None = None,
    advance: Callable[[float], None] | None = None,
) -> SimulationReport:
    """Simulate `config` into the configured stores and report what was appended.

    `durability` sets the embedded store's `synchronous` for the run (None: as configured).
    The store must hold no events yet: the simulation's commands decide on what they find,
    so a second run over the first one's events would not be the same simulation. Nothing
    else should write to the store meanwhile (every event in it is counted).
    """
    with simulation_wiring(settings, start=config.start, durability=durability) as wiring:
        head = wiring.store.head_position()
        if head is not None:
            raise SimulationError(
                f"{wiring.store_uri} holds events already (head position {head}): "
                "simulate into a fresh store"
            )
        outcome = simulate(
            wiring, config, settings=settings, durability=durability, advance=advance
        )
        events = events_after(wiring.store, None)
    return SimulationReport(config, outcome, events, wiring.store_uri)
