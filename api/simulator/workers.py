"""Where the people act: in the simulation's own process, or split over worker processes.

Python runs one thread at a time, and the command handlers are mostly Python: on this
machine's two cores, threads dispatching commands went slower than one thread. Worker
processes each open the store themselves (the embedded store is shared by processes), hold
one share of the people (`index % workers`) and a copy of the shelf, kept up to date with the
staff's changes of each day before anyone acts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from api.settings import Settings
from api.simulator.acting import SimulationError, Stage
from api.simulator.crew import Cast, Crowd, CrowdReport
from api.simulator.shelf import Shelf, ShelfBook
from api.simulator.wiring import Durability, Wiring, simulation_wiring

#: Told how much of a day is done (a fraction of it), as people act.
Advance = Callable[[float], None]


class Crew(Protocol):
    """Whoever makes the people act, day by day."""

    def day(self, day: int, changes: list[ShelfBook], advance: Advance) -> None:
        """Everyone due on `day` acts, on the shelf as the staff left it (`changes`)."""

    def finish(self) -> CrowdReport:
        """What the people did."""

    def close(self) -> None:
        """Release what the crew holds (processes)."""


class _Fractions:
    """Turns counts of people who acted into fractions of the day, once the day's total is known."""

    def __init__(self, advance: Advance, shares: int) -> None:
        self.advance = advance
        self.shares = shares
        self.total = 0
        self.known = 0
        self.waiting = 0

    def due(self, count: int) -> None:
        """One share's number of people due today (a day with nobody due is done at once)."""
        self.total += count
        self.known += 1
        if self.known == self.shares:
            if self.total:
                self.acted(0)
            else:
                self.advance(1.0)

    def acted(self, count: int) -> None:
        """`count` more people are done."""
        self.waiting += count
        if self.known == self.shares and self.total and self.waiting:
            self.advance(self.waiting / self.total)
            self.waiting = 0


class LocalCrew:
    """All the people, acting in this process on the simulation's own bus and shelf."""

    def __init__(self, wiring: Wiring, cast: Cast, shelf: Shelf) -> None:
        self.crowd = Crowd(cast, shelf)
        self.stage = Stage(wiring.bus, wiring.clock, cast.start)

    def day(self, day: int, changes: list[ShelfBook], advance: Advance) -> None:
        """Everyone due acts (the shelf is the staff's own: `changes` are in it already)."""
        fractions = _Fractions(advance, 1)
        fractions.due(self.crowd.due(day))
        self.crowd.act(self.stage, day, fractions.acted)

    def finish(self) -> CrowdReport:
        """What the people did."""
        return self.crowd.report(self.stage.tally)

    def close(self) -> None:
        """Nothing to release."""


class ProcessCrew:
    """The people split over `parts` worker processes (started here, stopped by `close`)."""

    def __init__(
        self,
        settings: Settings,
        durability: Durability | None,
        cast: Cast,
        shelf: Shelf,
        parts: int,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._connections: list[Connection] = []
        for part in range(parts):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_work,
                args=(theirs, settings, durability, cast, shelf, part, parts),
                name=f"simulate-{part}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._processes.append(process)
            self._connections.append(ours)
        try:
            self._until_all("ready")
        except BaseException:
            self.close()
            raise

    def day(self, day: int, changes: list[ShelfBook], advance: Advance) -> None:
        """Send the day and the staff's changes to every worker; wait until all are done."""
        for connection in self._connections:
            connection.send(("day", day, changes))
        fractions = _Fractions(advance, len(self._connections))

        def heard(kind: str, body: list[Any]) -> None:
            if kind == "due":
                fractions.due(body[0])
            elif kind == "acted":
                fractions.acted(body[0])

        self._until_all("done", heard)

    def finish(self) -> CrowdReport:
        """Collect the workers' reports, added up."""
        report = CrowdReport()
        for connection in self._connections:
            connection.send(("finish",))
        self._until_all("report", lambda _, body: report.add(body[0]))
        return report

    def close(self) -> None:
        """Stop the workers: a worker still waiting for a day ends when its pipe closes."""
        for connection in self._connections:
            connection.close()
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()

    def _until_all(
        self, last: str, heard: Callable[[str, list[Any]], None] = lambda _, __: None
    ) -> None:
        """Hand every worker's messages to `heard` until each has sent `last`."""
        pending = set(self._connections)
        while pending:
            for ready in wait(list(pending)):
                connection = ready
                if not isinstance(connection, Connection):
                    continue
                try:
                    kind, *body = connection.recv()
                except EOFError:
                    raise SimulationError("a worker process ended without a word") from None
                if kind == "error":
                    raise SimulationError(f"a worker process failed:\n{body[0]}")
                heard(kind, body)
                if kind == last:
                    pending.discard(connection)


def _work(
    connection: Connection,
    settings: Settings,
    durability: Durability | None,
    cast: Cast,
    shelf: Shelf,
    part: int,
    parts: int,
) -> None:
    """A worker process: act for share `part` of the people, day by day, as told."""
    try:
        with simulation_wiring(settings, start=cast.start, durability=durability) as wiring:
            crowd = Crowd(cast, shelf, part, parts)
            stage = Stage(wiring.bus, wiring.clock, cast.start)
            connection.send(("ready",))
            while True:
                kind, *body = connection.recv()
                if kind == "finish":
                    connection.send(("report", crowd.report(stage.tally)))
                    return
                day, changes = body
                shelf.apply(changes)
                shelf.refresh(day)
                wiring.books.forget(book.id for book in changes)
                connection.send(("due", crowd.due(day)))
                crowd.act(stage, day, lambda count: connection.send(("acted", count)))
                connection.send(("done",))
    except EOFError:
        pass  # the simulation stopped (it failed elsewhere): nobody is listening any more
    except BaseException:
        with contextlib.suppress(OSError):
            connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()
