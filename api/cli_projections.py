"""`bookworm worker`, `bookworm projections …` and `bookworm deadletters …`."""

from __future__ import annotations

import logging
from contextlib import closing
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from api import bootstrap
from api.cli_reading import reading_store, reading_targets
from api.console import listing, out
from api.heap import freeze_startup_objects
from api.settings import load_settings
from pipelines import dead_letters
from pipelines.overview import projection_status
from pipelines.rebuild import RebuildProgress, rebuild
from pipelines.runner import RunnerSettings
from pipelines.worker import Assignment, Service, Worker

projections_app = typer.Typer(
    help="Projections: status and blue/green rebuilds.", no_args_is_help=True
)
deadletters_app = typer.Typer(help="Events projections could not apply.", no_args_is_help=True)


def _known(names: list[str] | None) -> list[str] | None:
    """Refuse, as a usage error, a projection name none has (before anything opens)."""
    try:
        bootstrap.projections(names)
    except bootstrap.UnknownName as error:
        raise typer.BadParameter(str(error)) from None
    return names


def _known_one(name: str) -> str:
    _known([name])
    return name


ProjectionNames = Annotated[
    list[str] | None,
    typer.Option("--projection", "-p", help="only these (default: all)", callback=_known),
]


def worker(
    projection: ProjectionNames = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", "-g", help="only these process managers (default: all)"),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="serve Prometheus metrics on 127.0.0.1:PORT")
    ] = None,
) -> None:
    """Run projections and process managers until SIGTERM/SIGINT.

    On the signal, each finishes its batch, frees its lease and gives back the events it held.

    With only --projection (or only --group), just those run. With --metrics-port, the
    projections' and the subscription groups' figures are served.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    names = bootstrap.projections(projection) if projection or not group else []
    with_services = bool(group) or not projection
    window = settings.worker_live_window_s
    with (
        bootstrap.event_store(settings, live_window_s=window) as store,
        closing(bootstrap.key_store(settings)) as keys,
        closing(bootstrap.cache(settings)) as cache,
        bootstrap.subscription_groups(store) as groups,
        bootstrap.targets(
            settings, {p.target_kind for p in names} | ({"sql"} if with_services else set())
        ) as targets,
    ):
        chosen = (
            bootstrap.projections([p.name for p in names], keys=keys, cache=cache) if names else []
        )
        bus = bootstrap.bus_on(store, keys, settings)
        services: list[Service] = []
        if with_services:
            try:
                managers = bootstrap.process_runners(bus, groups, group)
            except bootstrap.UnknownName as error:
                raise typer.BadParameter(str(error), param_hint="'--group' / '-g'") from None
            services = [
                *managers,
                *bootstrap.timer_services(bus, targets),
                *bootstrap.integration_services(store, settings, targets),
            ]
        runner = Worker(
            store,
            [Assignment(p, targets[p.target_kind]) for p in chosen],
            settings=RunnerSettings(live_batch_window_s=window),
            groups=groups,
            services=services,
        )
        runner.stop_on_signals()
        freeze_startup_objects()  # full collections stop walking all of the above (api.heap)
        running = [p.name for p in chosen] + [s.name for s in services]
        out().print(f"worker: {', '.join(running)} (Ctrl-C to stop)")
        runner.run(metrics_port=metrics_port)


@projections_app.command("list")
def list_projections() -> None:
    """Every projection: its target and the events it handles."""
    table = listing("projection", "target", "handles", "side effects")
    for p in bootstrap.projections():
        table.add_row(
            p.name, p.target_kind, f"{p.handles.on} ~ {p.handles.regex}", str(p.side_effects)
        )
    out().print(table)


@projections_app.command("status")
def status(projection: ProjectionNames = None) -> None:
    """Checkpoint, head, lag, rate, parked events and state of each projection."""
    settings = load_settings()
    chosen = bootstrap.projections(projection)
    table = listing(
        "projection",
        "build",
        "state",
        "checkpoint",
        "head",
        "lag (events)",
        "lag (s)",
        "events/s",
        "parked",
        "last error",
        title="projections",
    )
    with (
        reading_store(settings) as store,
        reading_targets(settings, {p.target_kind for p in chosen}) as targets,
    ):
        for p in chosen:
            s = projection_status(store, p, targets.get(p.target_kind))  # None: never written
            table.add_row(
                s.projection,
                str(s.build),
                s.state.value,
                str(s.checkpoint),
                str(s.head),
                str(s.lag_events),
                "-" if s.lag_seconds is None else f"{s.lag_seconds:.1f}",
                f"{s.events_per_s:.0f}",
                str(s.parked),
                s.last_error or "",
            )
    out().print(table)


@projections_app.command("rebuild")
def rebuild_projection(
    name: Annotated[str, typer.Argument(help="the projection", callback=_known_one)],
    build: Annotated[
        int | None, typer.Option("--version", "--build", help="build number (default: next)")
    ] = None,
) -> None:
    """Build NAME again from position 0 beside the live build, then switch to it atomically."""
    settings = load_settings()
    with (
        bootstrap.event_store(settings) as store,
        closing(bootstrap.key_store(settings)) as keys,
        closing(bootstrap.cache(settings)) as cache,
        bootstrap.targets(settings, {bootstrap.projections([name])[0].target_kind}) as targets,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[rate]:>8.0f} events/s"),
            TimeRemainingColumn(),
            console=out(),
        ) as bar,
    ):
        (projection,) = bootstrap.projections([name], keys=keys, cache=cache)
        task = bar.add_task(f"rebuilding {name}", total=100.0, rate=0.0)

        def show(progress: RebuildProgress) -> None:
            bar.update(task, completed=progress.percent, rate=progress.events_per_s)

        result = rebuild(
            store, projection, targets[projection.target_kind], build=build, on_progress=show
        )
    out().print(
        f"{name}: build {result.live} is live (was {result.replaced}); dropped {result.dropped}; "
        f"{result.events} events in {result.seconds:.1f}s"
    )


@deadletters_app.command("list")
def list_letters(projection: ProjectionNames = None) -> None:
    """Parked events, oldest first."""
    settings = load_settings()
    chosen = bootstrap.projections(projection)
    table = listing(
        "projection",
        "build",
        "position",
        "stream",
        "type",
        "event id",
        "tries",
        "error",
    )
    with reading_targets(settings, {p.target_kind for p in chosen}) as targets:
        for p in chosen:
            if p.target_kind not in targets:
                continue  # never written: nothing parked there
            for d in dead_letters.list_dead_letters(targets[p.target_kind], p.name):
                table.add_row(
                    d.projection,
                    str(d.build),
                    str(d.position),
                    d.stream,
                    d.event_type,
                    str(d.event_id),
                    str(d.attempts),
                    d.error,
                )
    out().print(table)


EventIds = Annotated[list[UUID] | None, typer.Option("--event", help="only these event ids")]
Everything = Annotated[bool, typer.Option("--all", help="every parked event (must be said)")]


def _require_a_choice(event: list[UUID] | None, everything: bool) -> None:
    if not (event or everything):
        raise typer.BadParameter("name events with --event ID, or pass --all")


@deadletters_app.command("replay")
def replay_letters(
    projection: ProjectionNames = None, event: EventIds = None, all_: Everything = False
) -> None:
    """Apply parked events again (after a fix); those that succeed leave the list."""
    _require_a_choice(event, all_)
    settings = load_settings()
    kinds = {p.target_kind for p in bootstrap.projections(projection)}
    with (
        reading_targets(settings, kinds) as targets,
        bootstrap.event_store(settings) as store,
        closing(bootstrap.key_store(settings)) as keys,
        closing(bootstrap.cache(settings)) as cache,
    ):
        for p in bootstrap.projections(projection, keys=keys, cache=cache):
            if p.target_kind not in targets:
                out().print(f"{p.name}: replayed 0, failed 0")  # never written: nothing parked
                continue
            outcome = dead_letters.replay(store, p, targets[p.target_kind], event_ids=event)
            out().print(f"{p.name}: replayed {len(outcome.replayed)}, failed {len(outcome.failed)}")
            for letter, error in outcome.failed:
                out().print(f"  {letter.event_id} at {letter.position}: {error}")


@deadletters_app.command("discard")
def discard_letters(
    projection: ProjectionNames = None, event: EventIds = None, all_: Everything = False
) -> None:
    """Forget parked events for good."""
    _require_a_choice(event, all_)
    settings = load_settings()
    chosen = bootstrap.projections(projection)
    with reading_targets(settings, {p.target_kind for p in chosen}) as targets:
        for p in chosen:
            written = p.target_kind in targets  # never written: nothing parked there
            count = dead_letters.discard(targets[p.target_kind], p.name, event) if written else 0
            out().print(f"{p.name}: discarded {count}")
