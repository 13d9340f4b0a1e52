"""How simulated people act: an agenda of timed tasks, a stage to send commands from, and a tally.

Everything a person does on a day is decided by a random generator seeded from the simulation
seed, the person and the day (`rng_for`), and by what the person saw happen (the answers to its
own commands, the catalog as it stands that day). Nothing depends on other people's progress, so
a day's people can act in any order, in any process, with the same outcome.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from api.simulator.clock import ActorClock
from write_side.domain import Command, CommandBus, CommandResult, DomainError

MINUTES_A_DAY = 24 * 60


class SimulationError(RuntimeError):
    """The simulation cannot go on: a command its script expected to pass was refused (a bug
    of the script or of the domain, never a refusal provoked on purpose), a worker process
    failed, or the store is not fresh."""


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded from the simulation seed and `parts` (who, which day): independent
    of every other person's and day's, and the same in every run."""
    key = "/".join(str(part) for part in (seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))


@dataclass
class Tally:
    """What was sent: commands by type, and those refused by a rule, by type and rule."""

    sent: Counter[str] = field(default_factory=Counter)
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.sent.update(other.sent)
        self.refused.update(other.refused)

    @property
    def commands(self) -> int:
        """How many commands were sent."""
        return sum(self.sent.values())


class Stage:
    """Where one thread acts: the command bus, the thread's business time, a tally, and the
    current person's random generator (set for each person and day)."""

    def __init__(self, bus: CommandBus, clock: ActorClock, start: datetime) -> None:
        self.bus = bus
        self.clock = clock
        self.start = start
        self.tally = Tally()
        self.rng = random.Random(0)

    def new_id(self) -> uuid.UUID:
        """A fresh id from the current person's generator (never from the wall clock)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, day: int, minute: int, *, not_before: datetime | None = None) -> None:
        """Set the thread's business time to `minute` past midnight of `day`, plus seconds
        (or just after `not_before`, when that is later)."""
        seconds = self.rng.randrange(60)
        at = self.start + timedelta(days=day, minutes=minute, seconds=seconds)
        if not_before is not None and at <= not_before:
            at = not_before + timedelta(seconds=1 + seconds)
        self.clock.set(at)

    def pause(self, low_s: int = 15, high_s: int = 240) -> None:
        """Let some business time pass between two commands of one person."""
        self.clock.advance(timedelta(seconds=self.rng.randint(low_s, high_s)))

    def require(self, command: Command) -> CommandResult:
        """Dispatch a command the script expects to pass; a refusal is a `SimulationError`."""
        result = self.send(command)
        if result is None:
            raise SimulationError(f"{type(command).__name__} was refused: {command!r}")
        return result

    def send(self, command: Command) -> CommandResult | None:
        """Dispatch `command`; None when a rule refused it (counted by rule, not a failure)."""
        name = type(command).__name__
        self.tally.sent[name] += 1
        try:
            return self.bus.dispatch(command)
        except DomainError as refused:
            self.tally.refused[(name, refused.rule)] += 1
            return None


Task = Callable[[Stage, int, int, Any], None]


class Actor:
    """A simulated person: a kind and an index (its place in the simulation), and an agenda of
    tasks, each at a day and a minute of that day."""

    def __init__(self, kind: str, index: int) -> None:
        self.kind = kind
        self.index = index
        self.agenda: list[tuple[int, int, int, Task, Any]] = []
        self._seq = 0
        #: The business time of the end of the person's last task: the next one starts later.
        self._last: datetime | None = None

    def plan(self, day: int, minute: int, task: Task, payload: Any = None) -> None:
        """Put `task` on the agenda at `minute` (clamped to the day) of `day`."""
        self._seq += 1
        minute = max(0, min(MINUTES_A_DAY - 1, minute))
        heapq.heappush(self.agenda, (day, minute, self._seq, task, payload))

    @property
    def next_day(self) -> int | None:
        """The day of the next task (None when the agenda is empty)."""
        return self.agenda[0][0] if self.agenda else None

    def act(self, stage: Stage, seed: int, day: int) -> None:
        """Do every task of `day`, in time order (tasks may plan further tasks)."""
        stage.rng = rng_for(seed, self.kind, self.index, day)
        while self.agenda and self.agenda[0][0] == day:
            _, minute, _, task, payload = heapq.heappop(self.agenda)
            stage.at(day, minute, not_before=self._last)
            task(stage, day, minute, payload)
            self._last = stage.clock.now()
        self.day_done(stage, day)

    def day_done(self, stage: Stage, day: int) -> None:
        """Called after the day's tasks (a person may plan something for after its last one)."""


def waking_minute(rng: random.Random) -> int:
    """When a shopper comes by: mostly lunchtime and evenings, some at any hour but the first
    (the staff's maintenance window)."""
    hour = rng.choices(range(24), weights=_HOURLY)[0]
    return hour * 60 + rng.randrange(60)


def office_minute(rng: random.Random) -> int:
    """When the shop's staff act: office hours."""
    return rng.randint(9 * 60, 17 * 60)


#: Relative traffic per hour of the day (UTC), midnight first; none while the staff work.
_HOURLY = (0, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 12, 12, 9, 8, 8, 9, 11, 14, 15, 13, 8, 3)
