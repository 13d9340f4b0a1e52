"""What EventStoreDB would say about a stream, found through our store's public API.

EventStoreDB keeps a soft-deleted stream's last event number (a wrong expected version names
it, and an append continues after it) while our port reports such a stream as having none;
these helpers recover the difference on the error paths that need it.
"""

from __future__ import annotations

import re

from write_side.eventstore import EventFilter, EventStore, StreamNotFound


def is_soft_deleted(store: EventStore, stream: str) -> bool:
    """True when the stream's metadata marks it deleted (a `$$` stream never is)."""
    if stream.startswith("$$"):
        return False
    metadata, _ = store.get_stream_metadata(stream)
    return metadata.is_deleted


def never_written(store: EventStore, stream: str) -> bool:
    """True when the stream has no events at all, hidden ones included.

    Raises our `StreamDeleted` for a tombstoned stream.
    """
    try:
        store.read_stream(stream, backwards=True, limit=1)
    except StreamNotFound:
        return not is_soft_deleted(store, stream)
    return False


def last_revision(store: EventStore, stream: str) -> int | None:
    """The stream's last revision, counting events hidden by deletion or metadata.

    Visible streams answer from one read; otherwise `$all` is searched backwards for the
    stream's last event (slow on a large store, but only error paths come here).
    """
    try:
        visible = store.read_stream(stream, backwards=True, limit=1)
    except StreamNotFound:
        visible = []
    if visible:
        return visible[0].revision
    exact = EventFilter("stream_name", f"^{re.escape(stream)}\\Z")
    last = next(store.read_all(backwards=True, limit=1, filter=exact, include_system=True), None)
    return None if last is None else last.revision
