"""The simulation's composition: the configured event store and key store, and a command bus
on the simulation's clock, with two caches that are exact for a simulation.

- Personal-data keys are kept in memory once read or made (`CachedKeyStore`): the simulation is
  the only writer of its people's keys, and it forgets them through this same object.
- Book lookups (what Basket and Ordering ask of the catalog) are cached until the book changes
  (`CachedBookLookup`): books change only while the staff work, alone, and the answers about
  the books they changed are forgotten right after.

Both save reads, not writes: every key is still stored and every event still appended.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

from api import bootstrap
from api.settings import Settings
from api.simulator.clock import ActorClock
from write_side.bootstrap import bootstrap as bootstrap_write_side
from write_side.catalog import BookLookup, RepositoryBookLookup
from write_side.catalog.lookup import BookInfo
from write_side.domain import CommandBus, Crypto, KeyStore, Repository
from write_side.eventstore import EventStore
from write_side.registry import REGISTRY

Durability = Literal["FULL", "NORMAL"]


class CachedKeyStore(KeyStore):
    """A key store that remembers the keys it has read or made (forgetting drops them)."""

    def __init__(self, inner: KeyStore) -> None:
        self.inner = inner
        self._keys: dict[UUID, bytes] = {}
        self._making = threading.Lock()

    def key(self, subject: UUID) -> bytes:
        """The subject's key, made on first use."""
        found = self._keys.get(subject)
        if found is None:
            # One maker at a time: threads then queue here rather than in SQLite's busy
            # handler, which sleeps whole milliseconds while the file is locked.
            with self._making:
                found = self._keys[subject] = self.inner.key(subject)
        return found

    def find(self, subject: UUID) -> bytes | None:
        """The subject's key, or None when it was never made or has been forgotten."""
        found = self._keys.get(subject)
        return found if found is not None else self.inner.find(subject)

    def forget(self, subject: UUID) -> bool:
        """Delete the subject's key for good (here and in the store)."""
        self._keys.pop(subject, None)
        return self.inner.forget(subject)

    def close(self) -> None:
        """Close the key store underneath."""
        self._keys.clear()
        self.inner.close()


class CachedBookLookup(BookLookup):
    """Answers from the book's stream once, then from memory until the book changes."""

    def __init__(self, inner: BookLookup) -> None:
        self.inner = inner
        self._books: dict[UUID, BookInfo | None] = {}

    def find(self, book_id: UUID) -> BookInfo | None:
        """The book, or None when it never existed."""
        try:
            return self._books[book_id]
        except KeyError:
            found = self._books[book_id] = self.inner.find(book_id)
            return found

    def forget(self, book_ids: Iterable[UUID]) -> None:
        """Forget the answers about these books (the staff changed them)."""
        for book_id in book_ids:
            self._books.pop(book_id, None)


@dataclass(frozen=True)
class Wiring:
    """What a simulation runs on: the store, the bus, its clock and the book cache."""

    store: EventStore
    bus: CommandBus
    clock: ActorClock
    books: CachedBookLookup
    store_uri: str


def store_uri(uri: str, durability: Durability | None) -> str:
    """`uri` with the SQLite durability asked for (an explicit `synchronous` in the URI wins;
    other stores are returned as they are)."""
    if durability is None or not uri.startswith("sqlite:"):
        return uri
    base, _, query = uri.partition("?")
    options = parse_qsl(query)
    if any(name.lower() == "synchronous" for name, _ in options):
        return uri
    return f"{base}?{urlencode([*options, ('synchronous', durability)])}"


@contextmanager
def simulation_wiring(
    settings: Settings, *, start: datetime, durability: Durability | None = None
) -> Iterator[Wiring]:
    """The configured stores (the embedded store with `durability`, when given) and a command
    bus on an `ActorClock` starting at `start`; closed afterwards."""
    uri = store_uri(settings.event_store, durability)
    configured = settings.model_copy(update={"event_store": uri})
    with bootstrap.event_store(configured) as store:
        keys = CachedKeyStore(bootstrap.key_store(configured))
        try:
            clock = ActorClock(start)
            repository = Repository(store, REGISTRY, Crypto(keys), clock)
            books = CachedBookLookup(RepositoryBookLookup(repository))
            bus = bootstrap_write_side(store, keys, clock=clock, ports={BookLookup: books})
            yield Wiring(store, bus, clock, books, uri)
        finally:
            keys.close()
