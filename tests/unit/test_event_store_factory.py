"""Opening the event store a connection string names."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from write_side.eventstore import (
    Capability,
    CaughtUp,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
    StreamState,
)
from write_side.eventstore.esdb import EsdbEventStore
from write_side.eventstore.factory import (
    UnsupportedEventStore,
    embedded_store_file,
    open_event_store,
)
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.subscription import next_tick


def test_a_sqlite_uri_opens_a_durable_file_store(tmp_path: Path) -> None:
    """`sqlite:////abs/path` opens that file, fsyncing every commit by default."""
    path = tmp_path / "nested" / "events.db"
    with open_event_store(f"sqlite:///{path}") as store:
        assert isinstance(store, SqliteEventStore)
        assert Capability.CRASH_DURABLE in store.capabilities
        assert Capability.MULTI_PROCESS in store.capabilities
    assert path.exists()


@pytest.mark.parametrize(
    ("uri", "file"),
    [
        ("sqlite:///var/events.db", Path("var/events.db")),
        ("sqlite:////srv/bookworm/events.db?synchronous=NORMAL", Path("/srv/bookworm/events.db")),
        ("sqlite:///:memory:", None),
        ("esdb://localhost:2113?Tls=false", None),
        ("kurrentdb+discover://cluster:2113", None),
    ],
)
def test_the_file_of_an_embedded_store_is_known_before_it_opens(
    uri: str, file: Path | None
) -> None:
    """What a read checks first (a read must not create an empty store)."""
    assert embedded_store_file(uri) == file


def test_relaxed_durability_is_explicit_and_drops_the_capability(tmp_path: Path) -> None:
    """`?synchronous=NORMAL` trades crash durability for speed, and says so."""
    with open_event_store(f"sqlite:///{tmp_path / 'e.db'}?synchronous=normal") as store:
        assert Capability.CRASH_DURABLE not in store.capabilities


def test_the_live_window_is_passed_to_the_file_store(tmp_path: Path) -> None:
    """`live_batch_window_s`: a live subscription waiting for commits reads the next one no
    sooner than the next tick of the window's grid after its last read (one read per window on
    a steady stream)."""
    window, quiet = 0.3, 0.05
    with open_event_store(f"sqlite:///{tmp_path / 'e.db'}", live_batch_window_s=window) as store:
        subscription = store.subscribe_to_all(include_caught_up=True)
        got: list[tuple[object, float]] = []
        try:
            assert isinstance(next(subscription), CaughtUp)
            # The reader's next read comes just after a tick, so its next tick is a window away.
            time.sleep(next_tick(window, time.monotonic()) - time.monotonic() + 0.01)
            reader = threading.Thread(
                target=lambda: got.append((next(subscription), time.monotonic()))
            )
            reader.start()
            time.sleep(quiet)  # the reader has read once more, found nothing, and waits
            appended_at = time.monotonic()
            store.append("a-1", [NewEvent("A", b"{}")], expected_version=StreamState.NO_STREAM)
            reader.join(5)
        finally:
            subscription.stop()
    [(event, delivered_at)] = got
    assert isinstance(event, RecordedEvent)
    assert event.stream == "a-1"
    assert delivered_at - appended_at >= window - quiet - 0.05


def test_memory_is_private_and_not_durable() -> None:
    """`sqlite:///:memory:` is one process's scratch store."""
    with open_event_store("sqlite:///:memory:") as store:
        assert Capability.MULTI_PROCESS not in store.capabilities
        assert Capability.CRASH_DURABLE not in store.capabilities


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("sqlite://", "names no file"),
        ("sqlite:///x.db?synchronous=sometimes", "synchronous must be"),
        ("mysql://localhost/db", "unknown event store"),
    ],
)
def test_bad_uris_say_what_is_wrong(uri: str, reason: str) -> None:
    """A URI that cannot be opened raises our own error with the reason."""
    with pytest.raises(UnsupportedEventStore, match=reason):
        open_event_store(uri)


@pytest.mark.parametrize(
    "uri",
    ["esdb://127.0.0.1:1?Tls=false", "kurrentdb://127.0.0.1:1?Tls=false"],
)
def test_an_eventstoredb_uri_opens_the_adapter_which_says_when_the_server_is_away(
    uri: str,
) -> None:
    """esdb:// (or kurrentdb://) is the EventStoreDB adapter; nothing listens on port 1."""
    with open_event_store(uri) as store:
        assert isinstance(store, EsdbEventStore)
        with pytest.raises(EventStoreUnavailable, match="unavailable"):
            store.head_position()
