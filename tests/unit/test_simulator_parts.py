"""The traffic simulator's machinery: seeded generators, the clock, the caches, the shelf."""

from __future__ import annotations

import random
import threading
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from api.simulator.acting import rng_for
from api.simulator.clock import ActorClock
from api.simulator.genres_nonfiction import GENRES
from api.simulator.shelf import Shelf, ShelfBook
from api.simulator.wiring import CachedBookLookup, CachedKeyStore, store_uri
from api.simulator.writing import book_text
from write_side import catalog
from write_side.bootstrap import bootstrap
from write_side.catalog import BookLookup, RepositoryBookLookup
from write_side.domain import Crypto, ManualClock, Repository
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.keystore import SqliteKeyStore
from write_side.registry import REGISTRY


def test_seeded_generators_depend_on_every_part() -> None:
    """The same parts give the same draws; another person or day, other draws."""
    assert rng_for(7, "buyer", 3, 1).random() == rng_for(7, "buyer", 3, 1).random()
    draws = {rng_for(7, "buyer", who, day).random() for who in range(20) for day in range(20)}
    assert len(draws) == 400


def test_the_clock_keeps_one_time_per_thread() -> None:
    """Each thread sets and advances its own business time; others still read the start."""
    start = datetime(2025, 3, 3, tzinfo=UTC)
    clock = ActorClock(start)
    seen: dict[str, datetime] = {}

    def act(name: str, hours: int) -> None:
        clock.set(start + timedelta(hours=hours))
        clock.advance(timedelta(minutes=5))
        seen[name] = clock.now()

    threads = [threading.Thread(target=act, args=(str(h), h)) for h in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == {
        "1": start + timedelta(hours=1, minutes=5),
        "2": start + timedelta(hours=2, minutes=5),
    }
    assert clock.now() == start
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))


def test_the_durability_is_added_to_embedded_store_uris_only() -> None:
    """NORMAL is asked of SQLite unless the URI says otherwise; other stores are left alone."""
    assert store_uri("sqlite:////tmp/x/events.db", "NORMAL") == (
        "sqlite:////tmp/x/events.db?synchronous=NORMAL"
    )
    assert store_uri("sqlite:///var/e.db?synchronous=FULL", "NORMAL") == (
        "sqlite:///var/e.db?synchronous=FULL"
    )
    assert store_uri("esdb://localhost:2113?Tls=false", "NORMAL") == (
        "esdb://localhost:2113?Tls=false"
    )
    assert store_uri("sqlite:///var/e.db", None) == "sqlite:///var/e.db"


def test_the_key_cache_keeps_keys_and_forgets_for_good(tmp_path: Path) -> None:
    """A key is made once and kept; a forgotten subject has no key, here or in the store."""
    inner = SqliteKeyStore(tmp_path / "keys.db")
    keys = CachedKeyStore(inner)
    subject = uuid4()
    try:
        made = keys.key(subject)
        assert keys.key(subject) == made == inner.find(subject)

        assert keys.forget(subject)
        assert keys.find(subject) is None
        assert inner.find(subject) is None
    finally:
        keys.close()


def test_a_copy_of_the_shelf_follows_the_staffs_changes() -> None:
    """Changes sent to a copy (as to a worker process) give it the original's books."""
    rng = random.Random(2)
    original, replica = Shelf(), Shelf()

    def book() -> ShelfBook:
        text = book_text(GENRES[0], rng)
        return ShelfBook(uuid4(), 0, text, Decimal("9.99"), None, 0.0, 1.0)

    first = book()
    original.add(first)
    replica.apply(deepcopy(original.changes()))
    first.in_stock = False
    original.touch(first)
    original.add(book())
    replica.apply(deepcopy(original.changes()))
    original.refresh(0)
    replica.refresh(0)

    assert replica.books == original.books
    assert replica.find(first.id).in_stock is False
    assert original.changes() == []


def test_the_book_cache_answers_until_the_book_is_forgotten(tmp_path: Path) -> None:
    """A cached answer stays as it was until the staff's change is forgotten, then is fresh."""
    keys = SqliteKeyStore(tmp_path / "keys.db")
    store = SqliteEventStore(":memory:")
    clock = ManualClock(datetime(2025, 3, 3, tzinfo=UTC))
    books = CachedBookLookup(RepositoryBookLookup(Repository(store, REGISTRY, Crypto(keys), clock)))
    bus = bootstrap(store, keys, clock=clock, ports={BookLookup: books})
    try:
        category = bus.dispatch(catalog.CreateCategory(name="Poetry")).aggregate_id
        publisher = bus.dispatch(catalog.CreatePublisher(name="Quill Press")).aggregate_id
        author = bus.dispatch(catalog.CreateAuthor(name="Mary Oliver")).aggregate_id
        book = bus.dispatch(
            catalog.CreateBook(
                name="Wild Geese",
                price=Decimal("12.00"),
                category_id=category,
                publisher_id=publisher,
                author_ids=(author,),
            )
        ).aggregate_id
        assert books.find(book) is not None
        bus.dispatch(catalog.ChangeBookPrice(book_id=book, price=Decimal("15.00")))

        cached = books.find(book)
        books.forget([book])
        fresh = books.find(book)

        assert cached is not None
        assert cached.price == Decimal("12.00")
        assert fresh is not None
        assert fresh.price == Decimal("15.00")
    finally:
        store.close()
        keys.close()
