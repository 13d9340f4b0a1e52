"""Open the event store a connection string names: `sqlite:///…` (embedded) or EventStoreDB."""

from __future__ import annotations

from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

from write_side.eventstore.errors import EventStoreError
from write_side.eventstore.port import EventStore
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.schema import Synchronous
from write_side.eventstore.sqlite.store import LIVE_BATCH_WINDOW_S

_SYNCHRONOUS = ("FULL", "NORMAL", "OFF")


class UnsupportedEventStore(EventStoreError):
    """The connection string names a backend this build cannot open."""


def open_event_store(uri: str, *, live_batch_window_s: float | None = None) -> EventStore:
    """The adapter for `uri`.

    `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `sqlite:///:memory:`, with
    an optional `?synchronous=FULL|NORMAL|OFF` (default FULL: every commit is fsynced);
    `esdb://host:2113?Tls=false`, `esdb+discover://host:2113` (a cluster, found by gossip) or
    the `kurrentdb` spellings for EventStoreDB, credentials and TLS options as esdbclient
    reads them. `live_batch_window_s` (embedded store only; default `LIVE_BATCH_WINDOW_S`) is
    the least time between two reads of a live subscription (see `SqliteEventStore`).
    """
    parts = urlsplit(uri)
    if parts.scheme == "sqlite":
        path = _sqlite_path(parts.path)
        if not path:
            raise UnsupportedEventStore(f"{uri!r} names no file (use sqlite:///path/events.db)")
        options = parse_qs(parts.query)
        synchronous = options.get("synchronous", ["FULL"])[-1].upper()
        if synchronous not in _SYNCHRONOUS:
            raise UnsupportedEventStore(
                f"{uri!r}: synchronous must be one of {', '.join(_SYNCHRONOUS)}"
            )
        window = LIVE_BATCH_WINDOW_S if live_batch_window_s is None else live_batch_window_s
        return SqliteEventStore(
            path, synchronous=cast(Synchronous, synchronous), live_batch_window_s=window
        )
    if parts.scheme in ("esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover"):
        from write_side.eventstore.esdb import EsdbEventStore  # grpc loads only when asked

        # KurrentDB is EventStoreDB renamed: same protocol, esdbclient's scheme names.
        return EsdbEventStore(uri.replace("kurrentdb", "esdb", 1))
    raise UnsupportedEventStore(
        f"unknown event store {uri!r}: expected sqlite:///<path> or esdb://host:2113"
    )


def embedded_store_file(uri: str) -> Path | None:
    """The file of an embedded store's `sqlite:///…` connection string; None for EventStoreDB
    and for `sqlite:///:memory:`, which have no file that could be missing."""
    parts = urlsplit(uri)
    if parts.scheme != "sqlite":
        return None
    path = _sqlite_path(parts.path)
    return Path(path) if path and path != ":memory:" else None


def _sqlite_path(url_path: str) -> str:
    # sqlite:///relative/path.db has the path "/relative/path.db"; sqlite:////abs has "//abs".
    return url_path[1:] if url_path.startswith("/") else url_path
