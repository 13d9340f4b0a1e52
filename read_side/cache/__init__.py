"""The cache port and its adapters: Redis, and a SQLite-file twin for one machine."""

from read_side.cache.port import (
    BOOK_DETAIL_TTL,
    IDEMPOTENCY_TTL,
    ORDER_PLACEMENT_LOCK,
    RATE_LIMITS,
    Cache,
    Claim,
    ClaimState,
    RateDecision,
    RateLimit,
    rate_bucket,
)

__all__ = [
    "BOOK_DETAIL_TTL",
    "IDEMPOTENCY_TTL",
    "ORDER_PLACEMENT_LOCK",
    "RATE_LIMITS",
    "Cache",
    "Claim",
    "ClaimState",
    "RateDecision",
    "RateLimit",
    "rate_bucket",
]
