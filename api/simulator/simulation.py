"""The simulation: a seeded bookstore run day by day through the real command handlers.

Each simulated day has two phases. First the staff change the catalog, alone, in this process
(`Staff.night`). Then every person with something to do that day acts: in this process, or
split over `workers` processes (a person's whole day runs in one of them), and all are done
before the next day begins. What a person does depends on the seed, the person, the day, the
answers to its own commands and the catalog of the day only, and people never write to each
other's streams; so a seed gives the same commands, the same events (ids, data, metadata,
business times, stream revisions) and the same answers, whatever the number of workers and
however their appends interleave. Only the order of `$all` (so commit positions) and the
store's `recorded_at` change from run to run, and the ciphertext of personal data, which is
sealed with fresh random keys and nonces (opened, it is the same). With one worker the order
of `$all` is the same too (every event at the same position, on a fresh store).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.settings import Settings
from api.simulator.acting import Stage, Tally
from api.simulator.crew import Cast
from api.simulator.shelf import Shelf
from api.simulator.staff import Staff
from api.simulator.wiring import Durability, Wiring
from api.simulator.workers import Crew, LocalCrew, ProcessCrew

#: The first simulated day (a Monday); the staff open the catalog the day before.
START = datetime(2025, 3, 3, tzinfo=UTC)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. `readers` (anonymous reviewers) defaults to a quarter of the buyers;
    `workers` is the number of processes people act in (1: this process only)."""

    seed: int = 7
    books: int = 2_000
    buyers: int = 17_000
    days: int = 60
    readers: int | None = None
    workers: int = 1
    start: datetime = START

    @property
    def reader_count(self) -> int:
        """How many anonymous readers visit."""
        return self.buyers // 4 if self.readers is None else self.readers

    @property
    def cast(self) -> Cast:
        """Who comes, from the seed."""
        return Cast(self.seed, self.buyers, self.reader_count, self.days, self.start)


@dataclass
class SimulationOutcome:
    """What the simulation did: commands sent and refused, orders by status, people, time."""

    tally: Tally
    orders: Counter[str]
    buyers: int
    readers: int
    abandoned_baskets: int
    forgotten_buyers: int
    elapsed_s: float
    #: Business time of the first and last simulated day.
    first_day: datetime
    last_day: datetime


def simulate(
    wiring: Wiring,
    config: SimulationConfig,
    *,
    settings: Settings | None = None,
    durability: Durability | None = None,
    advance: Callable[[float], None] | None = None,
) -> SimulationOutcome:
    """Run `config` on `wiring` (the staff's bus; also the people's with one worker).

    With several workers each process opens the stores of `settings` itself (with
    `durability`). `advance` is told of progress: one step for the opening, one per day.
    """
    if config.days < 1 or config.books < 1 or config.workers < 1:
        raise ValueError("simulate at least one day, one book and one worker")
    step = advance or (lambda _: None)
    started = time.perf_counter()
    shelf = Shelf()
    staff = Staff(shelf, config.seed, config.books, config.days)
    staff_stage = Stage(wiring.bus, wiring.clock, config.start)
    staff.open_shop(staff_stage)
    crew: Crew
    if config.workers == 1:
        crew = LocalCrew(wiring, config.cast, shelf)
    elif settings is None:
        raise ValueError("several workers open the stores themselves: pass the settings")
    else:
        crew = ProcessCrew(settings, durability, config.cast, shelf, config.workers)
    try:
        shelf.changes()  # the workers' copies start from the shelf as it is now
        step(1)
        for day in range(config.days):
            staff.night(staff_stage, day)
            changes = shelf.changes()
            wiring.books.forget(book.id for book in changes)
            crew.day(day, changes, step)
        people = crew.finish()
    finally:
        crew.close()
    people.tally.add(staff_stage.tally)
    return SimulationOutcome(
        tally=people.tally,
        orders=people.orders,
        buyers=people.buyers,
        readers=people.readers,
        abandoned_baskets=people.abandoned_baskets,
        forgotten_buyers=people.forgotten_buyers,
        elapsed_s=time.perf_counter() - started,
        first_day=config.start,
        last_day=config.start + timedelta(days=config.days - 1),
    )
