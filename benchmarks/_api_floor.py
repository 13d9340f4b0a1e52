"""The floor of the API benchmark's cached book detail: a bare Starlette route, nothing else.

    uvicorn --factory benchmarks._api_floor:create_app   (BOOKWORM_FLOOR_ANSWERS=<file.json>)

It answers `GET /api/v1/books/{book_id}` with the very bytes (and `ETag`) the API answered for
that URL, from a dict in memory filled at start from the JSON file the benchmark wrote
(`{path: {"body": text, "etag": text}}`): no middleware, no dependency, no cache lookup. What
the API spends above this route is the cost of the platform (routing and dependencies, the
cache port, the live build check, the observability middleware).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: The environment variable naming the answers file.
ANSWERS_ENV = "BOOKWORM_FLOOR_ANSWERS"

_NOT_FOUND = b'{"title": "Not Found", "status": 404}'


def load_answers(path: Path) -> dict[str, tuple[bytes, str]]:
    """`{path: (body, etag)}` from the file the benchmark wrote."""
    raw = json.loads(path.read_text())
    return {url: (entry["body"].encode(), entry["etag"]) for url, entry in raw.items()}


def create_app() -> Starlette:
    """The bare app, on the answers named by `BOOKWORM_FLOOR_ANSWERS`."""
    answers = load_answers(Path(os.environ[ANSWERS_ENV]))

    async def book(request: Request) -> Response:
        found = answers.get(request.scope["path"])
        if found is None:
            return Response(_NOT_FOUND, status_code=404, media_type="application/problem+json")
        body, etag = found
        return Response(body, media_type="application/json", headers={"ETag": etag})

    return Starlette(routes=[Route("/api/v1/books/{book_id}", book)])
