"""The event store and the targets of the command line's read-only commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api import bootstrap
from api.console import err
from api.settings import Settings
from read_side.targets import Target
from write_side.eventstore import EventStore, StreamDeleted, StreamNotFound


@contextmanager
def reading_store(settings: Settings) -> Iterator[EventStore]:
    """The configured event store for a read: a missing embedded store, stream or deleted
    stream is a message on standard error and exit code 1, not a traceback (and a read never
    creates an empty store)."""
    with _missing_is_an_error(), bootstrap.existing_event_store(settings) as store:
        yield store


@contextmanager
def reading_targets(settings: Settings, kinds: set[str]) -> Iterator[dict[str, Target]]:
    """The projections' targets of these kinds that exist (`bootstrap.written_targets`), for
    a read or a clean-up: with no event store, the same message and exit code as a read of
    the events; a target never written is left out, not created."""
    with _missing_is_an_error(), bootstrap.written_targets(settings, kinds) as targets:
        yield targets


@contextmanager
def _missing_is_an_error() -> Iterator[None]:
    try:
        yield
    except (bootstrap.NoEventStore, StreamNotFound, StreamDeleted) as error:
        err().print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
