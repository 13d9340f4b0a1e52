"""The cache port on Redis (`BOOKWORM_REDIS_URL`); the atomic steps are Lua scripts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

import redis

from read_side.cache.port import (
    IDEMPOTENCY_TTL,
    Cache,
    Claim,
    ClaimState,
    RateDecision,
    RateLimit,
)

_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'hash', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'claimed', false}
end
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return {'mismatch', false} end
if redis.call('HGET', KEYS[1], 'state') == 'completed' then
  return {'completed', redis.call('HGET', KEYS[1], 'answer')}
end
return {'in_progress', false}
"""

_ABANDON = """
if redis.call('HGET', KEYS[1], 'state') == 'in_progress' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# A token bucket on the server's clock, so every client agrees on the time.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local found = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(found[1]) or capacity
local at = tonumber(found[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(wait)}
"""


def _ms(ttl: timedelta) -> int:
    milliseconds = int(ttl.total_seconds() * 1000)
    if milliseconds <= 0:
        raise ValueError(f"a TTL must be positive, got {ttl}")
    return milliseconds


class RedisCache(Cache):
    """The cache on Redis; every key starts with `namespace:` (one namespace per deployment)."""

    def __init__(self, url: str, *, namespace: str = "bookworm") -> None:
        self._redis = redis.Redis.from_url(url)
        self._ns = namespace
        self._claim = self._redis.register_script(_CLAIM)
        self._abandon = self._redis.register_script(_ABANDON)
        self._release = self._redis.register_script(_RELEASE)
        self._take = self._redis.register_script(_TAKE)

    def __repr__(self) -> str:
        return f"RedisCache(namespace={self._ns!r})"

    def _key(self, kind: str, name: str) -> str:
        return f"{self._ns}:{kind}:{name}"

    def get(self, key: str) -> bytes | None:
        return cast(bytes | None, self._redis.get(self._key("v", key)))

    def set(self, key: str, value: bytes, *, ttl: timedelta, tags: Iterable[str] = ()) -> None:
        milliseconds = _ms(ttl)
        stored = self._key("v", key)
        with self._redis.pipeline() as pipe:
            pipe.set(stored, value, px=milliseconds)
            for tag in tags:
                tag_key = self._key("t", tag)
                pipe.sadd(tag_key, stored)
                # The tag lives as long as its longest-lived value.
                pipe.pexpire(tag_key, milliseconds, nx=True)
                pipe.pexpire(tag_key, milliseconds, gt=True)
            pipe.execute()

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(self._redis.delete(*(self._key("v", key) for key in keys)))

    def evict_tags(self, *tags: str) -> int:
        if not tags:
            return 0
        tag_keys = [self._key("t", tag) for tag in tags]
        with self._redis.pipeline(transaction=False) as pipe:
            for tag_key in tag_keys:
                pipe.smembers(tag_key)
            memberships = cast(list[set[bytes]], pipe.execute())
        members = set().union(*memberships)
        with self._redis.pipeline() as pipe:
            if members:
                pipe.delete(*members)
            pipe.delete(*tag_keys)
            counts = pipe.execute()
        return int(counts[0]) if members else 0

    def claim_idempotency(
        self, key: str, body_hash: str, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> Claim:
        state, answer = cast(
            list[Any], self._claim(keys=[self._key("i", key)], args=[body_hash, _ms(ttl)])
        )
        found = ClaimState(state.decode() if isinstance(state, bytes) else state)
        return Claim(found, answer if found is ClaimState.COMPLETED else None)

    def complete_idempotency(
        self, key: str, answer: bytes, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> None:
        stored = self._key("i", key)
        with self._redis.pipeline() as pipe:
            pipe.hset(stored, mapping={"state": "completed", "answer": answer})
            pipe.pexpire(stored, _ms(ttl))
            pipe.execute()

    def abandon_idempotency(self, key: str) -> None:
        self._abandon(keys=[self._key("i", key)])

    def acquire_lock(self, name: str, owner: str, *, ttl: timedelta) -> bool:
        stored = self._key("l", name)
        if self._redis.set(stored, owner, px=_ms(ttl), nx=True):
            return True
        held = cast(bytes | None, self._redis.get(stored))
        return held is not None and held.decode() == owner

    def release_lock(self, name: str, owner: str) -> bool:
        return bool(self._release(keys=[self._key("l", name)], args=[owner]))

    def take_token(self, bucket: str, limit: RateLimit) -> RateDecision:
        allowed, tokens, wait = cast(
            list[Any],
            self._take(keys=[self._key("b", bucket)], args=[limit.capacity, limit.refill_per_s]),
        )
        return RateDecision(bool(allowed), int(float(tokens)), float(wait))

    def close(self) -> None:
        self._redis.close()

    def drop(self) -> None:
        """Delete every key of this namespace: for tests."""
        for stored in self._redis.scan_iter(match=f"{self._ns}:*", count=500):
            self._redis.delete(stored)
