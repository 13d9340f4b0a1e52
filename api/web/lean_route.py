"""The busiest command, `POST /api/v1/books/{book_id}/feedbacks`, without FastAPI's per-request
dependency solving.

FastAPI resolves a route's dependencies anew on every request. For this route (a rate limit,
the caller, the command context, a path parameter and a body) that bookkeeping cost about a
quarter of the CPU the API spent on each feedback, as much as the command's own domain code.
This route sits first in the router and does the same work by calling the very dependency
functions and endpoint of the FastAPI route, in the order FastAPI calls them: parse the JSON
body, find the caller, take the rate-limit token, build the command context, validate the
body, run the endpoint in the thread pool. Its errors go to the app's exception handlers, so
they are the same problem details (`tests/api/test_lean_route.py` asks both routes).

It takes only the requests whose handling it copies exactly: a JSON content type, a book id
in canonical UUID form, and none of `Idempotency-Key`, `X-Request-ID` or `If-Match` (the
route's replay and precondition paths). Everything else does not match here and reaches the
FastAPI route, which stays the one definition of the endpoint in the OpenAPI.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Route
from starlette.types import Scope

from api.web.commands import command_context
from api.web.deps import bearer, caller, rate_limited
from api.web.platform import Platform
from api.web.routers import feedbacks

#: The route's path, as the FastAPI route names it (its label in metrics and logs too).
PATH = "/api/v1/books/{book_id}/feedbacks"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PATH = re.compile(rf"^/api/v1/books/(?P<book_id>{_UUID})/feedbacks$")
#: Headers whose handling stays with the FastAPI route.
_NEEDS_ROUTE = frozenset({b"idempotency-key", b"x-request-id", b"if-match"})
#: The route's own rate limit (the one its router declares).
_take_token = rate_limited(feedbacks.RATE_LIMIT_GROUP).dependency


class LeanPostFeedback(Route):
    """`POST /api/v1/books/{book_id}/feedbacks` for plain requests; others pass to the route."""

    def __init__(self) -> None:
        super().__init__(PATH, _create_feedback, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for the requests this route copies exactly, else none at all."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return Match.NONE, {}
        found = _PATH.match(scope["path"])
        if found is None or not _plain(scope["headers"]):
            return Match.NONE, {}
        return Match.FULL, {"endpoint": self.endpoint, "path_params": found.groupdict()}


async def _create_feedback(request: Request) -> Response:
    """What the FastAPI route does for this request, step by step."""
    platform: Platform = request.app.state.platform
    body = await _json_body(request)
    principal = await caller(platform, await bearer(request))
    await _take_token(request, platform, principal)
    commands = await command_context(request, platform, principal)
    if body is _MISSING:
        raise RequestValidationError([_missing_body()])
    try:
        new_feedback = feedbacks.NewFeedback.model_validate(body, from_attributes=True)
    except ValidationError as invalid:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in invalid.errors()]
        raise RequestValidationError(errors, body=body) from None
    response: Response = await run_in_threadpool(
        feedbacks.create_feedback,
        book_id=UUID(request.path_params["book_id"]),
        body=new_feedback,
        commands=commands,
        _caller=principal,
    )
    return response


def _plain(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """A JSON body, and nothing the FastAPI route must handle itself."""
    json_body = False
    for name, value in headers:
        if name in _NEEDS_ROUTE:
            return False
        if name == b"content-type":
            json_body = _is_json(value.decode("latin-1"))
    return json_body


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


_MISSING = object()


def _missing_body() -> dict[str, Any]:
    return {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}


async def _json_body(request: Request) -> Any:
    """The parsed body (`_MISSING` when empty); a body that cannot be parsed fails at once, as
    in FastAPI: malformed JSON as a validation error, anything else (bytes that are not UTF-8,
    nesting too deep) as a 400."""
    try:
        raw = await request.body()
        return json.loads(raw) if raw else _MISSING
    except json.JSONDecodeError as malformed:
        error = {
            "type": "json_invalid",
            "loc": ("body", malformed.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": malformed.msg},
        }
        raise RequestValidationError([error], body=malformed.doc) from None
    except Exception as unreadable:
        raise HTTPException(400, "There was an error parsing the body") from unreadable
