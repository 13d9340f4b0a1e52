"""Contract of the cache port, on Redis (this machine's) and on the SQLite-file twin."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from read_side.cache import RATE_LIMITS, Cache, ClaimState, RateLimit, rate_bucket
from read_side.cache.redis import RedisCache
from read_side.cache.sqlite import SqliteCache

REDIS_URL = "redis://127.0.0.1:6379/0"
SHORT = timedelta(milliseconds=200)
LONG = timedelta(minutes=5)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cache]:
    """Each adapter, fresh for the test (Redis: a namespace of its own)."""
    if request.param == "sqlite":
        twin = SqliteCache(tmp_path / "cache.db")
        yield twin
        twin.close()
    else:
        server = RedisCache(REDIS_URL, namespace=f"test-{uuid.uuid4().hex}")
        yield server
        server.drop()
        server.close()


def test_a_value_is_served_as_stored_until_it_expires(cache: Cache) -> None:
    body = b'{"id": 1, "name": "Dune"}\x00\xff'
    cache.set("book:1", body, ttl=SHORT)

    assert cache.get("book:1") == body
    assert cache.get("book:2") is None
    time.sleep(0.35)
    assert cache.get("book:1") is None


def test_a_value_is_replaced_and_evicted_by_key(cache: Cache) -> None:
    cache.set("a", b"1", ttl=LONG)
    cache.set("a", b"2", ttl=LONG)
    cache.set("b", b"3", ttl=LONG)

    assert cache.get("a") == b"2"
    assert cache.delete("a", "missing") == 1
    assert cache.get("a") is None
    assert cache.get("b") == b"3"


def test_values_are_evicted_by_tag(cache: Cache) -> None:
    cache.set("book:1", b"one", ttl=LONG, tags=["book:1", "books"])
    cache.set("page:1", b"page", ttl=LONG, tags=["books"])
    cache.set("author:1", b"author", ttl=LONG, tags=["authors"])

    assert cache.evict_tags("book:1") == 1
    assert cache.get("book:1") is None
    assert cache.get("page:1") == b"page"
    assert cache.evict_tags("books") == 1
    assert cache.get("page:1") is None
    assert cache.get("author:1") == b"author"
    assert cache.evict_tags("nothing") == 0
    assert cache.evict_tags() == 0


def test_values_of_several_tags_are_evicted_at_once_and_counted_once(cache: Cache) -> None:
    cache.set("book:1", b"one", ttl=LONG, tags=["book:1", "books"])
    cache.set("book:2", b"two", ttl=LONG, tags=["book:2", "books"])
    cache.set("book:3", b"three", ttl=LONG, tags=["book:3", "books"])
    cache.set("gone", b"expired", ttl=timedelta(milliseconds=1), tags=["book:2"])
    time.sleep(0.01)

    assert cache.evict_tags("book:1", "book:2", "books", "nothing") == 3
    assert [cache.get(key) for key in ("book:1", "book:2", "book:3", "gone")] == [None] * 4
    cache.set("book:1", b"again", ttl=LONG, tags=["book:1"])
    assert cache.evict_tags("book:2", "books") == 0
    assert cache.get("book:1") == b"again"
    assert cache.evict_tags(*(f"book:{n}" for n in range(1000))) == 1


def test_an_idempotency_key_replays_the_first_answer(cache: Cache) -> None:
    key = uuid.uuid4().hex

    assert cache.claim_idempotency(key, "hash-a").state is ClaimState.CLAIMED
    assert cache.claim_idempotency(key, "hash-a").state is ClaimState.IN_PROGRESS
    cache.complete_idempotency(key, b"201 answer")

    replay = cache.claim_idempotency(key, "hash-a")
    assert (replay.state, replay.answer) == (ClaimState.COMPLETED, b"201 answer")
    assert cache.claim_idempotency(key, "hash-b").state is ClaimState.MISMATCH


def test_an_abandoned_claim_lets_a_retry_go_ahead(cache: Cache) -> None:
    key = uuid.uuid4().hex
    cache.claim_idempotency(key, "h")

    cache.abandon_idempotency(key)

    assert cache.claim_idempotency(key, "h").state is ClaimState.CLAIMED


def test_an_idempotency_record_expires(cache: Cache) -> None:
    key = uuid.uuid4().hex
    cache.claim_idempotency(key, "h", ttl=SHORT)
    cache.complete_idempotency(key, b"answer", ttl=SHORT)

    time.sleep(0.35)

    assert cache.claim_idempotency(key, "other").state is ClaimState.CLAIMED


def test_of_concurrent_requests_with_one_key_exactly_one_goes_ahead(cache: Cache) -> None:
    key = uuid.uuid4().hex
    start = threading.Barrier(10)
    states: list[ClaimState] = []

    def claim() -> None:
        start.wait()
        states.append(cache.claim_idempotency(key, "h").state)

    threads = [threading.Thread(target=claim) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 9


def test_a_lock_has_one_holder_until_released_or_expired(cache: Cache) -> None:
    name = f"place-order:{uuid.uuid4()}"

    assert cache.acquire_lock(name, "request-1", ttl=SHORT)
    assert cache.acquire_lock(name, "request-1", ttl=SHORT)  # its holder asking again
    assert not cache.acquire_lock(name, "request-2", ttl=SHORT)
    assert not cache.release_lock(name, "request-2")
    assert cache.release_lock(name, "request-1")
    assert cache.acquire_lock(name, "request-2", ttl=SHORT)

    time.sleep(0.35)

    assert cache.acquire_lock(name, "request-3", ttl=LONG)
    assert not cache.release_lock(name, "request-2")


def test_of_concurrent_lockers_exactly_one_wins(cache: Cache) -> None:
    name = f"lock:{uuid.uuid4()}"
    start = threading.Barrier(10)
    won: list[int] = []

    def lock(n: int) -> None:
        start.wait()
        if cache.acquire_lock(name, f"owner-{n}", ttl=LONG):
            won.append(n)

    threads = [threading.Thread(target=lock, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1


def test_a_token_bucket_allows_its_capacity_then_says_when_to_come_back(cache: Cache) -> None:
    limit = RateLimit(capacity=3, per=timedelta(seconds=1))
    bucket = f"client-1:catalog:{uuid.uuid4().hex}"

    decisions = [cache.take_token(bucket, limit) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    refused = decisions[3]
    assert 0 < refused.retry_after_s <= 1 / 3 + 0.05
    assert cache.take_token(f"{bucket}-other", limit).allowed  # buckets are separate

    time.sleep(refused.retry_after_s + 0.05)

    assert cache.take_token(bucket, limit).allowed


def _share(path: str, key: str, out: Connection) -> None:
    twin = SqliteCache(path)
    twin.set(key, b"from the worker", ttl=LONG, tags=["shared"])
    out.send(twin.acquire_lock("shared-lock", "worker", ttl=LONG))
    twin.close()


@pytest.mark.multiprocess
def test_the_twin_is_shared_by_the_processes_of_a_machine(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    api = SqliteCache(path)
    receiving, sending = multiprocessing.Pipe(duplex=False)
    worker = multiprocessing.get_context("spawn").Process(
        target=_share, args=(path, "book:7", sending)
    )
    worker.start()
    took_lock = receiving.recv()
    worker.join(timeout=30)

    assert took_lock
    assert api.get("book:7") == b"from the worker"
    assert not api.acquire_lock("shared-lock", "api", ttl=LONG)
    assert api.evict_tags("shared") == 1
    api.close()


def test_the_domain_limits_allow_their_numbers_per_client_and_route_group(cache: Cache) -> None:
    client = uuid.uuid4().hex
    catalog = [cache.take_token(rate_bucket(client, "catalog"), RATE_LIMITS["catalog"])]
    catalog += [
        cache.take_token(rate_bucket(client, "catalog"), RATE_LIMITS["catalog"]) for _ in range(60)
    ]
    chat = [cache.take_token(rate_bucket(client, "chat"), RATE_LIMITS["chat"]) for _ in range(21)]

    assert all(d.allowed for d in catalog[:60])  # 60 at once, then one a second
    assert sum(d.allowed for d in catalog) in (60, 61)  # 61 only if a second went by meanwhile
    assert [d.allowed for d in chat].count(True) == 20
    assert not chat[-1].allowed
    assert 0 < chat[-1].retry_after_s <= 3.05  # one of 20 a minute comes back within 3 s
