"""The people of a simulation, or one share of them, acting day by day.

A simulation's people are split into `parts` shares by index (`index % parts`); each share is a
`Crowd`, run in the simulation's own process or in a worker process. Every share works out the
whole cast from the seed alone (who comes, and when) and keeps its own members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from api.simulator.acting import Actor, Stage, Tally, rng_for, waking_minute
from api.simulator.buyers import Buyer
from api.simulator.people import people
from api.simulator.readers import Reader
from api.simulator.shelf import Shelf


@dataclass(frozen=True)
class Cast:
    """How many people come, over how many days, from which seed."""

    seed: int
    buyers: int
    readers: int
    days: int
    start: datetime


@dataclass
class CrowdReport:
    """What a crowd did: its tally, its buyers' orders by status, and some counts."""

    tally: Tally = field(default_factory=Tally)
    orders: Counter[str] = field(default_factory=Counter)
    buyers: int = 0
    readers: int = 0
    abandoned_baskets: int = 0
    forgotten_buyers: int = 0

    def add(self, other: CrowdReport) -> None:
        """Add another crowd's report to this one."""
        self.tally.add(other.tally)
        self.orders.update(other.orders)
        self.buyers += other.buyers
        self.readers += other.readers
        self.abandoned_baskets += other.abandoned_baskets
        self.forgotten_buyers += other.forgotten_buyers


class Crowd:
    """The members of one share of the cast, with their agenda by day."""

    def __init__(self, cast: Cast, shelf: Shelf, part: int = 0, parts: int = 1) -> None:
        self.cast = cast
        self.shelf = shelf
        self.buyers: list[Buyer] = []
        self.readers: list[Reader] = []
        self._due: dict[int, list[Actor]] = {}
        everyone = people(rng_for(cast.seed, "people"), cast.buyers + cast.readers)
        rng = rng_for(cast.seed, "arrivals")
        for index, person in enumerate(everyone):
            day, minute = rng.randrange(cast.days), waking_minute(rng)
            if index % parts != part:
                continue
            actor: Buyer | Reader
            if index < cast.buyers:
                actor = Buyer(index, person, shelf, day, minute)
                self.buyers.append(actor)
            else:
                actor = Reader(index, person, shelf, day, minute)
                self.readers.append(actor)
            self._due.setdefault(day, []).append(actor)

    def due(self, day: int) -> int:
        """How many members act on `day`."""
        return len(self._due.get(day, ()))

    def act(self, stage: Stage, day: int, acted: Callable[[int], None]) -> None:
        """Every member due on `day` does the day's tasks; `acted(n)` is told as they go."""
        members = self._due.pop(day, [])
        done = 0
        for member in members:
            member.act(stage, self.cast.seed, day)
            upcoming = member.next_day
            if upcoming is not None and upcoming < self.cast.days:
                self._due.setdefault(upcoming, []).append(member)
            done += 1
            if done % 50 == 0:
                acted(50)
        acted(done % 50)

    def report(self, tally: Tally) -> CrowdReport:
        """The crowd's report, with the tally of the stage it acted on."""
        return CrowdReport(
            tally=tally,
            orders=Counter(b.order.status for b in self.buyers if b.order is not None),
            buyers=len(self.buyers),
            readers=len(self.readers),
            abandoned_baskets=sum(1 for b in self.buyers if b.basket and b.order is None),
            forgotten_buyers=sum(1 for b in self.buyers if b.forgotten),
        )
