"""Reads that end: a stream or `$all`, forwards or backwards, from a revision or position.

EventStoreDB's rules, as esdbclient's tests pin them down: a stream read from a revision
includes it in both directions; a `$all` read forwards from a position includes the event at
it, backwards from a position starts *before* it; a stream that does not exist (or was
soft-deleted) answers `stream_not_found`, a tombstoned one fails as deleted; `$$x` is `x`'s
metadata stream and fails as deleted when `x` is tombstoned.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from esdbclient.protos.Grpc import streams_pb2

from tests.esdb_server.filters import all_filter, internal_stream
from tests.esdb_server.wire import BadRequest, read_event, stream_name, stream_not_found
from write_side.eventstore import EventStore, RecordedEvent, StreamNotFound

#: Counts at or above this read to the end (esdbclient sends `sys.maxsize` for "no limit").
_NO_LIMIT = 2**62


def read_stream(
    store: EventStore, options: streams_pb2.ReadReq.Options, *, structured_ids: bool
) -> Iterator[streams_pb2.ReadResp]:
    """The events of one stream; raises our `StreamDeleted` for a tombstoned one."""
    stream = stream_name(options.stream.stream_identifier)
    backwards = options.read_direction == streams_pb2.ReadReq.Options.Backwards
    limit = None if options.count >= _NO_LIMIT else options.count
    which = options.stream.WhichOneof("revision_option")
    if which == "revision":
        from_revision: int | None = options.stream.revision
    elif which in ("start", "end"):
        from_revision = 0 if which == "start" and backwards else None
        if which == "end" and not backwards:
            limit = 0  # forwards from the end: nothing, once the stream is known to exist
    else:
        raise BadRequest("a stream read needs a revision, start or end")
    if stream.startswith("$$") and len(stream) > 2:
        # Metadata of a tombstoned stream cannot be read (raises our StreamDeleted).
        store.get_stream_metadata(stream[2:])
    try:
        events = store.read_stream(
            stream, from_revision=from_revision, backwards=backwards, limit=limit
        )
    except StreamNotFound:
        yield stream_not_found(stream)
        return
    for event in events:
        yield read_event(event, structured_ids=structured_ids)


def read_all(
    store: EventStore, options: streams_pb2.ReadReq.Options, *, structured_ids: bool
) -> Iterator[streams_pb2.ReadResp]:
    """Events of `$all`, system events included, through the read's filter if it has one."""
    backwards = options.read_direction == streams_pb2.ReadReq.Options.Backwards
    limit = None if options.count >= _NO_LIMIT else options.count
    which = options.all.WhichOneof("all_option")
    if which == "position":
        start: int | None = options.all.position.commit_position
    elif which in ("start", "end"):
        if (which == "end") != backwards:
            return  # forwards from the end, or backwards from the start: nothing
        start = None
    else:
        raise BadRequest("a $all read needs a position, start or end")
    selection = all_filter(options)
    events: Iterator[RecordedEvent] = store.read_all(
        from_position=start,
        backwards=backwards,
        filter=None if selection is None else selection.store_filter,
        include_system=True,
    )
    if backwards and start is not None:
        events = (e for e in events if e.position < start)
    if selection is not None:
        # The store applied the expression; what is left is EventStoreDB's own exclusions.
        events = (e for e in events if not internal_stream(e.stream))
    for event in islice(events, limit):
        yield read_event(event, structured_ids=structured_ids)
