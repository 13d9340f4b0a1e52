"""The hottest read, answered before routing: a cached book detail for an anonymous caller.

`GET /api/v1/books/{id}` is what a storefront asks most, and its answer usually sits in the
cache as the bytes to send. Resolving the route's dependencies costs several times more CPU
than sending those bytes, so a request that needs nothing else (no token to verify, no
position to wait for, no query string) and whose answer is cached is answered here, with the
same bytes and headers the route would send (`ETag`) and the same rate limit. Anything else
(a miss, a token, `X-Min-Position`, a 429) goes on to the route, which stays the one definition
of the endpoint in the OpenAPI.
"""

from __future__ import annotations

import re
from uuid import UUID

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from api.web.platform import Platform
from read_side.cache import RATE_LIMITS, rate_bucket
from read_side.queries.catalog_cache import detail_key

#: The route this path answers for (its label in metrics and logs).
BOOK_DETAIL_ROUTE = "/api/v1/books/{book_id}"
_BOOK_DETAIL = re.compile(r"^/api/v1/books/([0-9a-fA-F-]{32,36})$")
#: Headers that need the route: a token to verify, a position to wait for.
_NEEDS_ROUTE = frozenset({b"authorization", b"x-min-position"})


class CachedBookDetail:
    """Answers a cached book detail for an anonymous caller; passes everything else on."""

    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._cached(scope) if scope["type"] == "http" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        scope["bookworm.route"] = BOOK_DETAIL_ROUTE
        version = orjson.loads(answer)["version"]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(answer)).encode()),
                    (b"content-type", b"application/json"),
                    (b"etag", f'"{version}"'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _cached(self, scope: Scope) -> bytes | None:
        if scope["method"] != "GET" or scope.get("query_string"):
            return None
        found = _BOOK_DETAIL.match(scope["path"])
        if found is None or any(name in _NEEDS_ROUTE for name, _ in scope["headers"]):
            return None
        try:
            book_id = UUID(found.group(1))
            build = self.platform.catalog_build()
        except Exception:  # a malformed id, a model not built: the route answers those
            return None
        if build is None:
            return None
        answer = self.platform.cache.get(detail_key(build, book_id))
        if answer is None or not self._within_rate_limit(scope):
            return None
        return answer

    def _within_rate_limit(self, scope: Scope) -> bool:
        """Take the caller's catalog token as the route would; when none is left, the route
        answers the 429 (its limiter finds the bucket empty too)."""
        if not self.platform.settings.rate_limits:
            return True
        client = scope.get("client")
        host = client[0] if client else "unknown"
        return self.platform.cache.take_token(
            rate_bucket(host, "catalog"), RATE_LIMITS["catalog"]
        ).allowed
