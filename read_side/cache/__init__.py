"""The cache port and its adapters: Redis, and a SQLite-file twin for one machine."""

from read_side.cache.port import (
    IDEMPOTENCY_TTL,
    Cache,
    Claim,
    ClaimState,
    RateDecision,
    RateLimit,
)

__all__ = ["IDEMPOTENCY_TTL", "Cache", "Claim", "ClaimState", "RateDecision", "RateLimit"]
