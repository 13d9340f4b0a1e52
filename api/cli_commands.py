"""`bookworm command …`: send any command of the write side from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.markup import escape

from api import bootstrap
from api.console import counted, listing, out
from api.settings import load_settings
from write_side.bootstrap import HANDLERS, SWEEP_AFTER, sweep_reservations
from write_side.domain import Command, DomainError

commands_app = typer.Typer(
    help="Send commands to the write side (every command of DOMAIN.md).", no_args_is_help=True
)


def _commands() -> dict[str, type[Command]]:
    return {command.__name__: command for command in HANDLERS}


def _parse(pairs: list[str], body: str | None) -> dict[str, Any]:
    """`field=value` pairs (a value that parses as JSON is taken as JSON) over a JSON body."""
    fields: dict[str, Any] = {}
    if body:
        try:
            fields = json.loads(body)
        except json.JSONDecodeError as error:
            raise typer.BadParameter(f"not JSON: {error}", param_hint="--json") from None
        if not isinstance(fields, dict):
            raise typer.BadParameter("give the fields as one JSON object", param_hint="--json")
    for pair in pairs:
        name, separator, raw = pair.partition("=")
        if not separator or not name:
            raise typer.BadParameter(f"{pair!r}: write fields as name=value")
        try:
            fields[name] = json.loads(raw)
        except json.JSONDecodeError:
            fields[name] = raw
    return fields


def _fields(model: type[BaseModel]) -> str:
    """The command's own fields ([optional]), then the If-Match every command takes."""
    shown = []
    for name, info in model.model_fields.items():
        if name in Command.model_fields:
            continue
        shown.append(name if info.is_required() else f"[{name}]")
    return " ".join([*shown, "[expected_version]"])


@commands_app.command("list")
def list_commands() -> None:
    """Every command with its fields ([optional])."""
    table = listing("command", "fields", "what")
    for name, command in sorted(_commands().items()):
        doc = (command.__doc__ or "").strip().splitlines()
        table.add_row(name, escape(_fields(command)), escape(doc[0]) if doc else "")
    out().print(table)


@commands_app.command("send")
def send(
    name: Annotated[str, typer.Argument(help="the command, e.g. CreateCategory")],
    pairs: Annotated[
        list[str] | None, typer.Argument(help="fields as name=value (JSON values allowed)")
    ] = None,
    body: Annotated[
        str | None, typer.Option("--json", help="the fields as one JSON object")
    ] = None,
    command_id: Annotated[
        str | None, typer.Option(help="the idempotency key (a UUID); sending it again is a no-op")
    ] = None,
    actor: Annotated[str, typer.Option(help="who sends it")] = "admin",
) -> None:
    """Send one command and print where its events landed (or the rule it broke)."""
    commands = _commands()
    command_type = commands.get(name)
    if command_type is None:
        raise typer.BadParameter(f"unknown command {name!r}; see `bookworm command list`")
    fields = _parse(pairs or [], body) | {"actor": actor}
    if command_id is not None:
        fields["command_id"] = command_id
    try:
        command = command_type.model_validate(fields)
    except ValidationError as invalid:
        for error in invalid.errors():
            where = ".".join(str(part) for part in error["loc"]) or name
            out().print(f"[red]invalid[/] {where}: {error['msg']}")
        raise typer.Exit(2) from None
    settings = load_settings()
    with bootstrap.command_bus(settings) as bus:
        try:
            result = bus.dispatch(command)
        except DomainError as broken:
            field = f" (field {broken.field})" if broken.field else ""
            out().print(f"[red]refused[/] {broken.rule}{field}: {broken}")
            raise typer.Exit(1) from None
    table = listing("stream", "revision", "position", "events", "replayed")
    table.add_row(
        result.stream,
        str(result.revision),
        "-" if result.position is None else str(result.position),
        ", ".join(result.events) or "-",
        "yes" if result.replayed else "no",
    )
    out().print(table)
    out().print(f"command id {command.command_id}")


@commands_app.command("sweep-reservations")
def sweep(
    older_than_minutes: Annotated[
        float, typer.Option(help="free only claims older than this")
    ] = SWEEP_AFTER.total_seconds() / 60,
) -> None:
    """Free unique-name claims left by a crash between a claim and its owner's event."""
    with bootstrap.command_bus(load_settings()) as bus:
        freed = sweep_reservations(bus, older_than=timedelta(minutes=older_than_minutes))
    out().print(f"freed {counted(freed, 'orphaned reservation')}")
