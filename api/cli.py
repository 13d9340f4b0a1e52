"""The `bookworm` command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from api import bootstrap
from api.cli_commands import commands_app
from api.cli_groups import groups_app
from api.cli_projections import deadletters_app, projections_app, worker
from api.cli_reading import reading_store
from api.cli_serve import serve, token
from api.cli_simulate import simulate
from api.console import err, listing, out
from api.settings import InvalidSettings, load_settings
from write_side.eventstore import EventFilter, RecordedEvent


class _Commands(TyperGroup):
    """The command tree. A refused setting is a usage error naming the variable (exit code 2),
    not a traceback: each command that needs the settings reads them before anything else.
    `--help` reads none, so it works whatever they say."""

    def invoke(self, ctx: Any) -> Any:  # typer's own copy of click.Context
        try:
            return super().invoke(ctx)
        except InvalidSettings as error:
            err().print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Commands, help="BookWorm Event Platform.", no_args_is_help=True)
events_app = typer.Typer(help="Read the event store.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(projections_app, name="projections")
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(groups_app, name="groups")
app.add_typer(commands_app, name="command")
app.command()(worker)
app.command()(simulate)
app.command()(serve)
app.command()(token)


@app.command()
def demo(
    books: Annotated[int, typer.Option(help="books in the catalog")] = 400,
    buyers: Annotated[int, typer.Option(help="buyers who sign up")] = 3_000,
    days: Annotated[int, typer.Option(help="business days simulated")] = 30,
    seed: Annotated[int, typer.Option(help="the simulation's seed")] = 7,
) -> None:
    """The platform's main job: simulate a bookstore and project it, then print a summary.

    The store is simulated into `<data dir>/demo`; the process managers, timers and
    projections run to the end, and the summary shows what the query models hold."""
    from api.platform_demo import run_platform_demo
    from api.simulator import SimulationConfig

    config = SimulationConfig(seed=seed, books=books, buyers=buyers, days=days)
    run_platform_demo(load_settings(), out(), config)


@events_app.command("sample")
def sample() -> None:
    """Append a small sample (6 events), show a retry and a conflict, and read it back."""
    from api.demo import run_demo

    settings = load_settings()
    out().print(f"event store: [bold]{settings.event_store}[/]")
    with bootstrap.event_store(settings) as store:
        run_demo(store, out())


@app.command("settings")
def show_settings() -> None:
    """Print the effective settings (environment, `.env`, defaults), secrets masked."""
    table = listing("setting", "value")
    for name, value in load_settings().described().items():
        table.add_row(f"BOOKWORM_{name.upper()}", value)
    out().print(table)


def _events_table(title: str, events: list[RecordedEvent]) -> Table:
    table = listing("position", "stream", "rev", "type", "recorded at (UTC)", "bytes", title=title)
    for e in events:
        table.add_row(
            str(e.position),
            e.stream,
            str(e.revision),
            e.type,
            e.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            str(len(e.data)),
        )
    return table


@events_app.command("head")
def events_head() -> None:
    """The position of the last event ("none" in a store with no events)."""
    with reading_store(load_settings()) as store:
        head = store.head_position()
    out().print("none" if head is None else head)


@events_app.command("all")
def events_all(
    from_position: Annotated[int | None, typer.Option(help="first position (inclusive)")] = None,
    limit: Annotated[int, typer.Option(help="at most this many events")] = 20,
    backwards: Annotated[bool, typer.Option(help="newest first")] = False,
    stream_prefix: Annotated[
        list[str] | None, typer.Option("--stream-prefix", help="only these stream prefixes")
    ] = None,
    event_type: Annotated[
        list[str] | None, typer.Option("--type", help="only these event types")
    ] = None,
    system: Annotated[bool, typer.Option(help="include system and snapshot streams")] = False,
) -> None:
    """Read `$all`, optionally filtered by stream prefix or event type (one kind)."""
    if stream_prefix and event_type:
        raise typer.BadParameter("filter on stream prefixes or on event types, not both")
    event_filter = (
        EventFilter.stream_prefixes(*stream_prefix)
        if stream_prefix
        else EventFilter.event_types(*event_type)
        if event_type
        else None
    )
    with reading_store(load_settings()) as store:
        found = list(
            store.read_all(
                from_position=from_position,
                backwards=backwards,
                limit=limit,
                filter=event_filter,
                include_system=system,
            )
        )
    out().print(_events_table("$all", found))


@events_app.command("stream")
def events_stream(
    name: Annotated[str, typer.Argument(help="the stream, e.g. book-<id>")],
    from_revision: Annotated[int | None, typer.Option(help="first revision (inclusive)")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many events")] = None,
    backwards: Annotated[bool, typer.Option(help="newest first")] = False,
) -> None:
    """Read one stream."""
    with reading_store(load_settings()) as store:
        found = store.read_stream(
            name, from_revision=from_revision, limit=limit, backwards=backwards
        )
    out().print(_events_table(name, found))
