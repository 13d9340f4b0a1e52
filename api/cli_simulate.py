"""`bookworm simulate`: fill the configured store with a seeded, realistic bookstore."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from api.console import listing, out
from api.settings import load_settings
from api.simulator import SimulationConfig, SimulationReport, run_simulation
from api.simulator.acting import SimulationError
from api.simulator.wiring import Durability

_DEFAULTS = SimulationConfig()


class StoreDurability(StrEnum):
    """How the embedded store commits during a simulation."""

    FULL = "FULL"
    NORMAL = "NORMAL"


def simulate(
    seed: Annotated[int, typer.Option(help="the seed: the same seed gives the same events")] = (
        _DEFAULTS.seed
    ),
    books: Annotated[int, typer.Option(min=1, help="books in the catalog")] = _DEFAULTS.books,
    buyers: Annotated[int, typer.Option(min=0, help="buyers who sign up")] = _DEFAULTS.buyers,
    days: Annotated[int, typer.Option(min=1, help="business days simulated")] = _DEFAULTS.days,
    readers: Annotated[
        int | None, typer.Option(min=0, help="anonymous reviewers (default: buyers / 4)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes people act in (default: CPUs, max 2)")
    ] = None,
    durability: Annotated[
        StoreDurability,
        typer.Option(
            help="the embedded store's fsync for this bulk load: NORMAL (a power cut may lose "
            "the last commits, never corrupt the file) or FULL (fsync every commit, as the "
            "platform runs); a synchronous= in the store's URI wins",
            case_sensitive=False,
        ),
    ] = StoreDurability.NORMAL,
) -> None:
    """Simulate a bookstore into the configured event store, through the real command handlers.

    A catalog of 10 genres (50 authors, 20 publishers, BOOKS books with genre-written titles
    and blurbs), then DAYS business days of buyers who browse, fill and change baskets, order
    or walk away, and review what they bought; anonymous readers who rate books; staff who
    reprice, restock, ship and moderate. Refusals the workload provokes on purpose (a second
    review of a book, an order of an out-of-stock book) are counted by rule, not failures.
    """
    config = SimulationConfig(
        seed=seed,
        books=books,
        buyers=buyers,
        days=days,
        readers=readers,
        workers=workers or max(1, min(2, os.cpu_count() or 1)),
    )
    settings = load_settings()
    console = out()
    chosen: Durability = "FULL" if durability is StoreDurability.FULL else "NORMAL"
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(
            f"simulating {config.days} days, {config.buyers} buyers", total=config.days + 1
        )
        try:
            report = run_simulation(
                settings,
                config,
                durability=chosen,
                advance=lambda share: progress.advance(task, share),
            )
        except SimulationError as failed:
            console.print(f"[red]the simulation failed:[/] {failed}")
            raise typer.Exit(1) from failed
    print_report(console, report)


def print_report(console: Console, report: SimulationReport) -> None:
    """The report of a finished simulation: totals, events, commands, orders."""
    config, outcome = report.config, report.outcome
    console.print(
        f"simulated {outcome.first_day:%Y-%m-%d} to {outcome.last_day:%Y-%m-%d} "
        f"(seed {config.seed}, {config.workers} worker(s)) into [bold]{report.store_uri}[/]"
    )
    console.print(
        f"[bold]{report.event_count:,}[/] events in {outcome.elapsed_s:.1f} s "
        f"= [bold]{report.events_per_s:,.0f}[/] events/s; "
        f"{outcome.tally.commands:,} commands "
        f"({outcome.tally.commands / max(outcome.elapsed_s, 1e-9):,.0f}/s)"
    )
    console.print(
        f"{outcome.buyers:,} buyers, {outcome.readers:,} readers; "
        f"{outcome.abandoned_baskets:,} baskets left behind; "
        f"{outcome.forgotten_buyers:,} buyers forgotten"
    )
    events = listing("event type", "events", title="events by type")
    for name, count in report.events.most_common():
        events.add_row(name, f"{count:,}")
    console.print(events)
    commands = listing("command", "sent", "refused", "refused by rule", title="commands")
    for name, sent in outcome.tally.sent.most_common():
        rules = {rule: n for (command, rule), n in outcome.tally.refused.items() if command == name}
        shown = ", ".join(f"{rule} {n:,}" for rule, n in sorted(rules.items()))
        commands.add_row(name, f"{sent:,}", f"{sum(rules.values()):,}", shown)
    console.print(commands)
    orders = listing("order status", "orders", title="orders by status")
    for status, count in sorted(outcome.orders.items()):
        orders.add_row(status, f"{count:,}")
    console.print(orders)
