"""The cached book detail answered before routing (api/web/hot_path.py) is the route's answer:
the same bytes and ETag, the same rate limit, and everything it does not serve reaches the
route."""

from __future__ import annotations

import asyncio
import uuid

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from api.web.app import create_app
from api.web.hot_path import CachedBookDetail
from tests.api.conftest import ApiStack


def _route_label_count(client: TestClient, route: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if (
            line.startswith("bookworm_api_requests_total{")
            and f'route="{route}"' in line
            and 'status="200"' in line
            and 'method="GET"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_cached_detail_is_the_routes_answer(api: ApiStack) -> None:
    book = api.book()
    url = f"/api/v1/books/{book.aggregate_id}"
    by_route = api.client.get(url, headers=api.fresh(book))  # waits: the route answers
    assert by_route.status_code == 200
    api.client.get(url)  # fills the cache
    before = _route_label_count(api.client, "/api/v1/books/{book_id}")
    early = api.client.get(url)
    assert early.status_code == 200
    assert early.content == by_route.content
    assert early.headers["etag"] == by_route.headers["etag"] == '"0"'
    assert early.headers["content-type"] == "application/json"
    assert "x-read-model-position" not in early.headers
    assert _route_label_count(api.client, "/api/v1/books/{book_id}") == before + 1


def test_a_cached_detail_is_answered_without_the_app(api: ApiStack) -> None:
    book = api.book()
    url = f"/api/v1/books/{book.aggregate_id}"
    expected = api.client.get(url, headers=api.fresh(book))
    api.client.get(url)  # fills the cache

    async def no_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError(f"reached the app: {scope['path']}")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": url,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
    }
    asyncio.run(CachedBookDetail(no_app, api.platform)(scope, receive, send))
    assert sent[0]["status"] == 200
    assert (b"etag", b'"0"') in sent[0]["headers"]
    assert sent[1]["body"] == expected.content
    assert scope["bookworm.route"] == "/api/v1/books/{book_id}"


def test_what_the_hot_path_does_not_serve_reaches_the_route(api: ApiStack) -> None:
    missing = api.client.get(f"/api/v1/books/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    malformed = api.client.get("/api/v1/books/not-a-uuid")
    assert malformed.status_code == 422
    book = api.book()
    url = f"/api/v1/books/{book.aggregate_id}"
    assert api.client.get(url, headers=api.fresh(book)).status_code == 200
    bad_token = api.client.get(url, headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401  # a token is always verified, cached answer or not


def test_the_hot_path_keeps_the_catalog_rate_limit(embedded_api: ApiStack) -> None:
    book = embedded_api.book()
    url = f"/api/v1/books/{book.aggregate_id}"
    assert embedded_api.client.get(url, headers=embedded_api.fresh(book)).status_code == 200
    limited = embedded_api.settings.model_copy(update={"rate_limits": True})
    with TestClient(create_app(limited)) as client:
        statuses = [client.get(url).status_code for _ in range(75)]
    assert statuses[:60] == [200] * 60
    assert 429 in statuses[60:]
