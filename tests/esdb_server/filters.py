"""Server-side filters of `$all` reads and subscriptions, as EventStoreDB applies them.

One expression per read, on stream names or on event types, either a regex (searched, not
anchored: .NET `Regex.Match`) or a list of prefixes. `$all` holds system events; a filtered
read also drops EventStoreDB's internal streams (its `DefaultAllFilter`). esdbclient sends a
filter on every `$all` read by default (excluding event types `\\$.+` and
`PersistentConfig\\d+`), which is how system events stay out of a client's view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from esdbclient.protos.Grpc import streams_pb2

from tests.esdb_server.wire import BadRequest
from write_side.eventstore import EventFilter, RecordedEvent

#: EventStoreDB's read batch size: the window when a filter asks for `count` instead of `max`.
READ_BATCH_SIZE = 32

_EPOCH_INFORMATION = "$epoch-information"
_ALL_GROUPS = "$persistentsubscription-$all::"


@dataclass(frozen=True, slots=True)
class AllFilter:
    """A `$all` filter: what the store filters (`store_filter`) and the checkpoint cadence.

    `checkpoint_interval` is `checkpointIntervalMultiplier` x the window (`max`): a filtered
    subscription reports a checkpoint after each such number of events considered (reads
    ignore it; a subscription refuses 0, as EventStoreDB does).
    """

    store_filter: EventFilter
    checkpoint_interval: int

    def admits(self, event: RecordedEvent) -> bool:
        """Whether the filter lets the event through."""
        return not internal_stream(event.stream) and self.store_filter.matches(
            event.stream, event.type
        )


def all_filter(options: streams_pb2.ReadReq.Options) -> AllFilter | None:
    """The filter a `$all` read asks for (None: `no_filter`)."""
    if options.WhichOneof("filter_option") != "filter":
        return None
    filter_options = options.filter
    on = filter_options.WhichOneof("filter")
    if on not in ("stream_identifier", "event_type"):
        raise BadRequest("a filter needs a stream name or an event type expression")
    expression = getattr(filter_options, on)
    if expression.regex:
        regex = expression.regex
    elif expression.prefix:
        regex = "^(?:" + "|".join(re.escape(p) for p in expression.prefix) + ")"
    else:
        raise BadRequest("a filter expression needs a regex or prefixes")
    window = filter_options.max if filter_options.WhichOneof("window") == "max" else READ_BATCH_SIZE
    try:
        store_filter = EventFilter(
            "stream_name" if on == "stream_identifier" else "event_type", regex
        )
    except re.error as error:
        raise BadRequest(f"invalid filter regex {regex!r}: {error}") from None
    return AllFilter(store_filter, filter_options.checkpointIntervalMultiplier * window)


def internal_stream(stream: str) -> bool:
    """True for EventStoreDB's internal streams, which a filtered `$all` read leaves out."""
    return stream == _EPOCH_INFORMATION or (
        stream.startswith(_ALL_GROUPS) and stream.endswith(("-checkpoint", "-parked"))
    )
