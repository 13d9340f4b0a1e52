"""The cache port: cached answers, idempotency records, locks and rate limits.

One small port with two adapters that pass one contract suite (`tests/contracts/test_cache.py`):
Redis in production, and a twin on a SQLite file that every local process shares (so the API
and the worker see the same entries).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

#: How long an idempotency record is kept (DOMAIN.md: one hour).
IDEMPOTENCY_TTL = timedelta(hours=1)


class ClaimState(Enum):
    """What an idempotency key says about a request."""

    CLAIMED = "claimed"
    """New key: this request goes ahead, then completes (or abandons) the record."""
    IN_PROGRESS = "in_progress"
    """Another request with this key is being handled right now."""
    COMPLETED = "completed"
    """A request with this key and this body was answered: replay `answer`."""
    MISMATCH = "mismatch"
    """The key was used with another body: refuse (422)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer of `claim_idempotency`; `answer` is set when COMPLETED."""

    state: ClaimState
    answer: bytes | None = None


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The answer of a rate limiter: allowed or not, what is left, and when to come back."""

    allowed: bool
    remaining: int
    retry_after_s: float
    """0 when allowed; else seconds until one token is back (the HTTP `Retry-After`)."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: `capacity` requests at once, refilled to capacity over `per`."""

    capacity: int
    per: timedelta

    @property
    def refill_per_s(self) -> float:
        """Tokens added back per second."""
        return self.capacity / self.per.total_seconds()


#: DOMAIN.md's rate limits per client and route group (requests a minute, refilled evenly).
RATE_LIMITS: dict[str, RateLimit] = {
    "catalog": RateLimit(capacity=60, per=timedelta(minutes=1)),
    "ordering": RateLimit(capacity=30, per=timedelta(minutes=1)),
    "basket": RateLimit(capacity=30, per=timedelta(minutes=1)),
    "rating": RateLimit(capacity=30, per=timedelta(minutes=1)),
    "chat": RateLimit(capacity=20, per=timedelta(minutes=1)),
}

#: How long order placement is locked per buyer (DOMAIN.md: one placement at a time).
ORDER_PLACEMENT_LOCK = timedelta(minutes=1)

#: How long a book's detail stays cached (DOMAIN.md: 30 minutes, evicted on any change).
BOOK_DETAIL_TTL = timedelta(minutes=30)


def rate_bucket(client: str, route_group: str) -> str:
    """The bucket of one client on one route group."""
    return f"{route_group}:{client}"


class Cache(ABC):
    """Values with a TTL (bytes, served as they are), tags, idempotency, locks, rate limits."""

    # -- values -------------------------------------------------------------------------------

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""

    @abstractmethod
    def set(self, key: str, value: bytes, *, ttl: timedelta, tags: Iterable[str] = ()) -> None:
        """Store `value` for `ttl`, findable by each of `tags` for eviction."""

    @abstractmethod
    def delete(self, *keys: str) -> int:
        """Evict these keys; how many were there."""

    @abstractmethod
    def evict_tags(self, *tags: str) -> int:
        """Evict every value stored with any of `tags`, at once; how many were there."""

    # -- idempotency --------------------------------------------------------------------------

    @abstractmethod
    def claim_idempotency(
        self, key: str, body_hash: str, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> Claim:
        """Claim `key` for a request with this body hash, or say why not (see `ClaimState`)."""

    @abstractmethod
    def complete_idempotency(
        self, key: str, answer: bytes, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> None:
        """Record the answer of the request that claimed `key`; replays get it for `ttl`."""

    @abstractmethod
    def abandon_idempotency(self, key: str) -> None:
        """Drop a claim whose request failed without an answer, so a retry may go ahead."""

    # -- locks --------------------------------------------------------------------------------

    @abstractmethod
    def acquire_lock(self, name: str, owner: str, *, ttl: timedelta) -> bool:
        """Take the lock for `ttl` unless someone else holds it; True when `owner` holds it."""

    @abstractmethod
    def release_lock(self, name: str, owner: str) -> bool:
        """Release the lock if `owner` holds it; False otherwise (expired, or another's)."""

    # -- rate limits --------------------------------------------------------------------------

    @abstractmethod
    def take_token(self, bucket: str, limit: RateLimit) -> RateDecision:
        """Take one token from `bucket` (per client and route group), refilled over time."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
