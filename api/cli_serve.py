"""`bookworm serve` (the API under uvicorn) and `bookworm token` (a development bearer token)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from api.settings import load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

#: uvicorn's log levels, as `--log-level` takes them.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class _DropColorMessage(logging.Filter):
    """uvicorn adds an ANSI-coloured copy of some messages as `color_message`: not for JSON."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def _json_logs(level: int) -> None:
    from api.web.observability import configure_json_logs

    configure_json_logs(level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropColorMessage())


def app_factory() -> FastAPI:
    """The app on the environment's settings, for uvicorn (called once in each worker process).

    uvicorn has set its own loggers to `--log-level` by now, in this process too: the JSON
    logs take their level from there, so no setting travels through the environment. The
    start-up heap is frozen once the app is built (see `api.heap`).
    """
    from api.heap import freeze_startup_objects
    from api.web.app import create_app

    _json_logs(logging.getLogger("uvicorn.error").getEffectiveLevel())
    app = create_app(load_settings())
    freeze_startup_objects()
    return app


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    log_level: Annotated[
        str, typer.Option(help=f"one of {', '.join(LOG_LEVELS)}", case_sensitive=False)
    ] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs), logging JSON lines to stderr.

    The query models are kept up to date by `bookworm worker`, which runs apart.
    """
    import uvicorn
    from uvicorn.config import LOG_LEVELS as UVICORN_LEVELS

    level = log_level.lower()
    if level not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    load_settings()  # a refused setting stops here, not in each of uvicorn's processes
    _json_logs(UVICORN_LEVELS[level])  # for the lines uvicorn writes before it loads the app
    uvicorn.run(
        "api.cli_serve:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        log_config=None,  # uvicorn's loggers propagate to our JSON handler
        access_log=False,  # the app's middleware writes one access line per request
        server_header=False,
    )


def token(
    sub: Annotated[
        str, typer.Option("--sub", help="the subject: a user's id (a UUID), or any name")
    ],
    role: Annotated[list[str], typer.Option("--role", help="admin, user or reporter (repeatable)")],
    ttl_days: Annotated[int, typer.Option(min=1, help="days the token stays valid")] = 30,
) -> None:
    """Print a bearer token signed with this installation's secret (embedded mode).

    It prints the token and nothing else: `TOKEN=$(bookworm token --sub admin-1 --role admin)`."""
    from api.web.auth import ROLES, Authenticator

    unknown = sorted(set(role) - ROLES)
    if unknown:
        raise typer.BadParameter(
            f"unknown role {', '.join(unknown)}; one of {', '.join(sorted(ROLES))}",
            param_hint="--role",
        )
    if not sub.strip():
        raise typer.BadParameter("must not be empty", param_hint="--sub")
    if "user" in role:
        try:
            UUID(sub)
        except ValueError:
            raise typer.BadParameter(
                f"a user's subject is its buyer id, a UUID; got {sub!r}", param_hint="--sub"
            ) from None
    authenticator = Authenticator(load_settings())
    try:
        minted = authenticator.mint(sub, role, ttl=timedelta(days=ttl_days))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(minted)
