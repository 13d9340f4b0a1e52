"""Catch-up subscriptions to a stream or to `$all`, as EventStoreDB 23.10+ runs them.

A subscription answers with a confirmation first, then history, then `caught_up`, then the
live tail; it starts just *after* the revision or position it is given. A filtered `$all`
subscription also reports checkpoints: one after every `checkpointIntervalMultiplier x max`
events considered (matching or not, system events included, counted from the start and again
from going live) and one when history ends, just before `caught_up`. A checkpoint position
is the last event considered; resuming after it misses nothing.

Each subscription is one store subscription (unfiltered, system events included, so that it
can count what it considers), stopped when the call ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import streams_pb2

from tests.esdb_server.filters import AllFilter, all_filter
from tests.esdb_server.wire import (
    BadRequest,
    caught_up,
    checkpoint,
    confirmation,
    read_event,
    stream_name,
)
from write_side.eventstore import CaughtUp, EventStore, RecordedEvent, Subscription


def subscribe_to_all(
    store: EventStore,
    options: streams_pb2.ReadReq.Options,
    context: grpc.ServicerContext,
    *,
    structured_ids: bool,
) -> Iterator[streams_pb2.ReadResp]:
    """A `$all` subscription, filtered when the request has a filter."""
    selection = all_filter(options)
    if selection is not None and selection.checkpoint_interval <= 0:
        raise BadRequest("checkpointIntervalMultiplier and the window must be positive")
    which = options.all.WhichOneof("all_option")
    if which == "position":
        from_position: int | None = options.all.position.commit_position
    elif which in ("start", "end"):
        from_position = None
    else:
        raise BadRequest("a $all subscription needs a position, start or end")
    subscription = store.subscribe_to_all(
        from_position=from_position,
        from_end=which == "end",
        include_system=True,
        include_caught_up=True,
    )
    with _ending_with_the_call(context, subscription):
        yield confirmation(str(uuid.uuid4()))
        yield from _all_items(subscription, selection, structured_ids)


def subscribe_to_stream(
    store: EventStore,
    options: streams_pb2.ReadReq.Options,
    context: grpc.ServicerContext,
    *,
    structured_ids: bool,
) -> Iterator[streams_pb2.ReadResp]:
    """A stream subscription; raises our `StreamDeleted` when the stream is tombstoned."""
    stream = stream_name(options.stream.stream_identifier)
    which = options.stream.WhichOneof("revision_option")
    if which not in ("revision", "start", "end"):
        raise BadRequest("a stream subscription needs a revision, start or end")
    subscription = store.subscribe_to_stream(
        stream,
        from_revision=options.stream.revision if which == "revision" else None,
        from_end=which == "end",
        include_caught_up=True,
    )
    with _ending_with_the_call(context, subscription):
        yield confirmation(str(uuid.uuid4()))
        for item in subscription:
            if isinstance(item, CaughtUp):
                yield caught_up()
            elif isinstance(item, RecordedEvent):
                yield read_event(item, structured_ids=structured_ids)


def _all_items(
    subscription: Subscription, selection: AllFilter | None, structured_ids: bool
) -> Iterator[streams_pb2.ReadResp]:
    considered = 0
    last_considered: int | None = None
    last_checkpoint: int | None = None
    live = False
    for item in subscription:
        if isinstance(item, CaughtUp):
            if live:
                continue
            live = True
            if selection is not None and last_considered not in (None, last_checkpoint):
                assert last_considered is not None
                last_checkpoint = last_considered
                yield checkpoint(last_considered)
            considered = 0
            yield caught_up()
            continue
        if not isinstance(item, RecordedEvent):
            continue
        last_considered = item.position
        if selection is None:
            yield read_event(item, structured_ids=structured_ids)
            continue
        if selection.admits(item):
            yield read_event(item, structured_ids=structured_ids)
        considered += 1
        if considered >= selection.checkpoint_interval:
            considered = 0
            last_checkpoint = item.position
            yield checkpoint(item.position)


@contextmanager
def _ending_with_the_call(
    context: grpc.ServicerContext, subscription: Subscription
) -> Iterator[None]:
    """Stop the store subscription when the call ends (cancelled, timed out, server stop)."""
    if not context.add_callback(subscription.stop):
        subscription.stop()
    try:
        yield
    finally:
        subscription.stop()
