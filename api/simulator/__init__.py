"""The traffic simulator: a seeded, realistic bookstore driven through the real command handlers.

    from api.simulator import SimulationConfig, run_simulation
    report = run_simulation(settings, SimulationConfig(seed=7, books=200, buyers=500, days=10))

The same seed gives the same commands, events and answers (see `simulation` for the precise
guarantee); `bookworm simulate` runs it with a progress bar and prints the report.
"""

from api.simulator.acting import SimulationError
from api.simulator.report import SimulationReport, events_after, run_simulation
from api.simulator.simulation import SimulationConfig, SimulationOutcome, simulate
from api.simulator.wiring import Durability, simulation_wiring

__all__ = [
    "Durability",
    "SimulationConfig",
    "SimulationError",
    "SimulationOutcome",
    "SimulationReport",
    "events_after",
    "run_simulation",
    "simulate",
    "simulation_wiring",
]
