"""Between our port's types and errors and esdbclient's: expected versions, events, filters.

esdbclient wraps filter patterns in anchors (`^(p)$` to include, `^(?!(p$))` to exclude), while
our `EventFilter` regex is searched anywhere in the name, as EventStoreDB's server does; so our
regex travels as `.*(?:regex).*`. EventStoreDB's `$all` holds system events, which our port
leaves out unless asked: by stream name on the server when the filter allows it, else here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import esdbclient
import esdbclient.exceptions as esdb_errors
from esdbclient import StreamState as EsdbStreamState

from write_side.eventstore.errors import (
    EventStoreError,
    EventStoreUnavailable,
    StreamDeleted,
    StreamNotFound,
    WrongExpectedVersion,
)
from write_side.eventstore.model import (
    HIDDEN_STREAM_PREFIXES,
    EventFilter,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamState,
)

T = TypeVar("T")

_STATES = {
    StreamState.NO_STREAM: EsdbStreamState.NO_STREAM,
    StreamState.STREAM_EXISTS: EsdbStreamState.EXISTS,
    StreamState.ANY: EsdbStreamState.ANY,
}

#: Patterns (anchored by esdbclient) of the streams our port hides from `$all` by default.
_HIDDEN_PATTERNS = (r"\$.*", f"{re.escape(HIDDEN_STREAM_PREFIXES[1])}.*")

# How esdbclient words the stream's actual revision in a wrong-version error.
_ACTUAL_REVISION = re.compile(r"(?:Stream position of last event is|Actual version:) (-?\d+)")


def current_version(expected: ExpectedVersion) -> int | EsdbStreamState:
    """esdbclient's `current_version` for our expected version."""
    return expected if isinstance(expected, int) else _STATES[expected]


def new_event(event: NewEvent) -> esdbclient.NewEvent:
    """esdbclient's form of an event to append (same id, type, data, metadata)."""
    return esdbclient.NewEvent(
        id=event.id,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=event.content_type,  # type: ignore[arg-type]
    )


def recorded_event(event: esdbclient.RecordedEvent) -> RecordedEvent:
    """Our form of an event esdbclient read."""
    if event.commit_position is None or event.recorded_at is None:
        raise EventStoreError(
            f"EventStoreDB sent event {event.id} without a commit position or a created time "
            "(EventStoreDB older than 22.10 is not supported)"
        )
    return RecordedEvent(
        id=event.id,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=event.content_type,
        stream=event.stream_name,
        revision=event.stream_position,
        position=event.commit_position,
        recorded_at=event.recorded_at,
    )


@dataclass(frozen=True, slots=True)
class FilterArgs:
    """The filter keywords of an esdbclient `$all` read, and what is left to do here."""

    filter_include: tuple[str, ...] = ()
    filter_exclude: tuple[str, ...] = ()
    filter_by_stream_name: bool = False
    hide_here: bool = False
    """True when hidden streams must still be dropped client-side (an event-type filter)."""

    def keeps(self, event: esdbclient.RecordedEvent) -> bool:
        """Whether an event the server sent passes what the server could not check."""
        return not (self.hide_here and event.stream_name.startswith(HIDDEN_STREAM_PREFIXES))


def filter_args(filter: EventFilter | None, *, include_system: bool) -> FilterArgs:
    """The server-side filter for our `filter` and `include_system`."""
    if filter is None:
        if include_system:
            return FilterArgs()
        return FilterArgs(filter_exclude=_HIDDEN_PATTERNS, filter_by_stream_name=True)
    searched = f".*(?:{filter.regex}).*"
    if filter.on == "event_type":
        if filter.exclude:
            return FilterArgs(filter_exclude=(searched,), hide_here=not include_system)
        return FilterArgs(filter_include=(searched,), hide_here=not include_system)
    if filter.exclude:
        hidden = () if include_system else _HIDDEN_PATTERNS
        return FilterArgs(filter_exclude=(searched, *hidden), filter_by_stream_name=True)
    visible = "" if include_system else r"(?!\$|" + re.escape(HIDDEN_STREAM_PREFIXES[1]) + ")"
    return FilterArgs(filter_include=(visible + searched,), filter_by_stream_name=True)


def calling(stream: str | None, expected: ExpectedVersion | None, call: Callable[[], T]) -> T:
    """Run an esdbclient call, raising our errors for its."""
    try:
        return call()
    except esdb_errors.EventStoreDBClientException as error:
        raise_translated(error, stream, expected)


def raise_translated(
    error: esdb_errors.EventStoreDBClientException,
    stream: str | None,
    expected: ExpectedVersion | None,
) -> NoReturn:
    """Raise our error for esdbclient's `error` (the original as its cause)."""
    name = stream or "$all"
    if isinstance(error, esdb_errors.WrongCurrentVersion):
        raise WrongExpectedVersion(
            name, expected=expected, actual_version=_actual_revision(str(error))
        ) from error
    if isinstance(error, esdb_errors.NotFound):
        if expected is not None:
            # Deleting a stream that does not exist: EventStoreDB's "Actual version: -1".
            raise WrongExpectedVersion(name, expected=expected, actual_version=None) from error
        raise StreamNotFound(name) from error
    if isinstance(error, esdb_errors.StreamIsDeleted) or (
        # esdbclient's Append (one event) reports a tombstoned stream this way.
        isinstance(error, esdb_errors.FailedPrecondition) and "is deleted" in str(error)
    ):
        raise StreamDeleted(name) from error
    if isinstance(
        error,
        esdb_errors.ServiceUnavailable
        | esdb_errors.DeadlineExceeded
        | esdb_errors.AbortedByServer
        | esdb_errors.NodeIsNotLeader
        | esdb_errors.DiscoveryFailed,
    ):
        raise EventStoreUnavailable(f"EventStoreDB unavailable: {error!r}") from error
    raise EventStoreError(f"EventStoreDB call failed: {error!r}") from error


def _actual_revision(message: str) -> int | None:
    found = _ACTUAL_REVISION.search(message)
    if found is None or int(found.group(1)) < 0:
        return None
    return int(found.group(1))
