"""A bound on request bodies: nothing larger than `max_bytes` is read (413 problem details).

A declared `Content-Length` beyond the bound is refused before the body is read (the server
reads no more than a declared length); a body sent without one (chunked) is read first, and
refused as soon as it passes the bound.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web.problems import ProblemError, problem_response

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


def _too_large(max_bytes: int) -> Response:
    """The 413 problem of a body beyond the bound."""
    problem = ProblemError(413, f"the request body may hold at most {max_bytes} bytes").problem
    return problem_response(problem)


class BodyLimitMiddleware:
    """Refuses request bodies larger than `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = _too_large(self.max_bytes)
            await response(scope, receive, send)
            return
        if declared is not None or scope["method"] in _NO_BODY:
            # The server stops at Content-Length; no route reads the body of a GET.
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read the body, bounded, before the app sees any of it.
        chunks: list[bytes] = []
        received, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replaying([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                response = _too_large(self.max_bytes)
                await response(scope, receive, send)
                return
            more = message.get("more_body", False)
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replaying([whole], receive), send)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that answers `messages` first, then the server's own."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
