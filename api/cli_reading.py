"""The event store of the command line's read-only commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api import bootstrap
from api.console import err
from api.settings import Settings
from write_side.eventstore import EventStore, StreamDeleted, StreamNotFound


@contextmanager
def reading_store(settings: Settings) -> Iterator[EventStore]:
    """The configured event store for a read: a missing embedded store, stream or deleted
    stream is a message on standard error and exit code 1, not a traceback (and a read never
    creates an empty store)."""
    try:
        with bootstrap.existing_event_store(settings) as store:
            yield store
    except (bootstrap.NoEventStore, StreamNotFound, StreamDeleted) as error:
        err().print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
