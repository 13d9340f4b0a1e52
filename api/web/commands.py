"""Sending a command from a route: idempotency, `If-Match`, and the answer's headers.

- `Idempotency-Key` (or `X-Request-ID`) names the request. Its record (kept one hour in the
  cache port, scoped by caller) replays the first answer, writes nothing, and refuses the same
  key with another body (422). The key also derives the command id, so a retry after the
  record was lost still lands on the command the write side has handled: it answers the first
  result and appends nothing.
- `If-Match: "<revision>"` becomes the command's expected version (412 when stale).
- The answer carries `ETag` (the stream's revision after the command) and `X-Event-Position`
  (the commit position to pass as `X-Min-Position` to a query: read-your-writes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.web.auth import Principal
from api.web.deps import Anyone, PlatformDep
from api.web.platform import Platform
from api.web.problems import ProblemError, bad_header, missing_reference, raises
from api.web.responses import JSON, etag
from read_side.cache import ClaimState
from write_side.domain import Command, CommandResult, NotFound
from write_side.ids import BOOKWORM_NAMESPACE, new_id, uuid5

#: An idempotency key: printable ASCII without spaces, as long as a few UUIDs at most.
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_IF_MATCH = re.compile(r'^(?:W/)?"(-?\d{1,18})"$')


class CommandAnswer(BaseModel):
    """What a command did: the aggregate it changed and where its events are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0196b3f0-7d6c-7a41-8d5e-3f0c2b7d9a11",
                    "stream": "feedback-0196b3f0-7d6c-7a41-8d5e-3f0c2b7d9a11",
                    "revision": 0,
                    "position": 412337,
                    "events": ["FeedbackCreated"],
                    "replayed": False,
                }
            ]
        }
    )

    id: UUID = Field(description="the aggregate's id")
    stream: str
    revision: int = Field(description="the stream's revision after the command (its ETag)")
    position: int | None = Field(
        description="commit position of the command's last event (for `X-Min-Position`)"
    )
    events: list[str] = Field(description="types of the events the command appended")
    replayed: bool = Field(description="true when the command had been handled before")


class CommandContext:
    """One request's way to send its command (a route dependency: `Commands`)."""

    def __init__(
        self,
        platform: Platform,
        principal: Principal,
        path_params: Iterable[str],
        key: str | None,
        body_hash: str,
        expected_version: int | None,
    ) -> None:
        self.platform = platform
        self.principal = principal
        self._path_params = path_params
        self._key = key
        self._body_hash = body_hash
        self.expected_version = expected_version
        scope = principal.subject or "anonymous"
        self._record = None if key is None else f"idempotency:{scope}:{key}"
        self.command_id = new_id() if key is None else uuid5(BOOKWORM_NAMESPACE, f"{scope}|{key}")

    @property
    def envelope(self) -> dict[str, Any]:
        """The fields every command of this request carries: id, actor and If-Match."""
        return {
            "command_id": self.command_id,
            "actor": self.principal.actor,
            "expected_version": self.expected_version,
        }

    def send(
        self,
        build: Callable[[dict[str, Any]], Command],
        *,
        status_code: int = 200,
        location: Callable[[CommandResult], str] | None = None,
        before: Callable[[Command], None] | None = None,
        targets: Iterable[str] = (),
    ) -> Response:
        """Build the command from `envelope` (a 422 when invalid), send it once, answer it.

        `location` makes the answer point at the resource the command created; `before` runs
        after the idempotency check and before dispatch (a route's own guard, such as a lock).
        A missing aggregate is a 404 when the route names it (its path parameters and
        `targets`, such as the caller's own `buyer_id`), and a 422 when the body refers to it.
        """
        command = build(self.envelope)
        cache = self.platform.cache
        if self._record is not None:
            claim = cache.claim_idempotency(self._record, self._body_hash)
            if claim.state is ClaimState.COMPLETED and claim.answer is not None:
                return _replay(claim.answer)
            if claim.state is ClaimState.MISMATCH:
                raise ProblemError(
                    422,
                    "this Idempotency-Key was used with another request body",
                    type="/problems/idempotency_key_reused",
                )
            if claim.state is ClaimState.IN_PROGRESS:
                raise ProblemError(
                    409,
                    "a request with this Idempotency-Key is being handled",
                    type="/problems/idempotency_key_in_progress",
                    headers={"Retry-After": "1"},
                )
        try:
            if before is not None:
                before(command)
            result = self.platform.bus.dispatch(command)
        except BaseException as error:
            if self._record is not None:
                cache.abandon_idempotency(self._record)
            if isinstance(error, NotFound) and error.field is not None:
                named = {*self._path_params, *targets}
                if error.field.split("/")[0] not in named:
                    raise missing_reference(error) from error
            raise
        response = _answer(result, status_code, location(result) if location else None)
        if self._record is not None:
            cache.complete_idempotency(self._record, _recorded(response))
        return response


def _answer(result: CommandResult, status_code: int, location: str | None) -> Response:
    body = CommandAnswer(
        id=result.aggregate_id,
        stream=result.stream,
        revision=result.revision,
        position=result.position,
        events=list(result.events),
        replayed=result.replayed,
    )
    headers = {"ETag": etag(result.revision), "X-Event-Position": str(result.position or 0)}
    if location:
        headers["Location"] = location
    return Response(
        body.model_dump_json().encode(), status_code=status_code, media_type=JSON, headers=headers
    )


_KEPT_HEADERS = ("etag", "x-event-position", "location")


def _recorded(response: Response) -> bytes:
    headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    return orjson.dumps(
        {"status": response.status_code, "headers": headers, "body": bytes(response.body).decode()}
    )


def _replay(answer: bytes) -> Response:
    recorded = orjson.loads(answer)
    headers = {**recorded["headers"], "Idempotent-Replayed": "true"}
    return Response(
        recorded["body"].encode(), status_code=recorded["status"], media_type=JSON, headers=headers
    )


@raises(400, 404, 409, 412, 422)
async def command_context(
    request: Request,
    platform: PlatformDep,
    principal: Anyone,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="makes the request safe to retry for an hour (the command's id)",
            examples=["7d1e0c2a-5b7f-4f57-9d2e-2b8c0f1a6e33"],
        ),
    ] = None,
    x_request_id: Annotated[
        str | None, Header(description="the same as Idempotency-Key, when that is absent")
    ] = None,
    if_match: Annotated[
        str | None,
        Header(description='the ETag the change was decided on: `"<revision>"`', examples=['"3"']),
    ] = None,
) -> CommandContext:
    """The command context of a request; 400 on a malformed header."""
    key = idempotency_key if idempotency_key is not None else x_request_id
    name = "Idempotency-Key" if idempotency_key is not None else "X-Request-ID"
    if key is not None and not _KEY.match(key):
        raise bad_header(name, "1 to 200 printable ASCII characters without spaces")
    expected: int | None = None
    if if_match is not None and if_match.strip() != "*":
        found = _IF_MATCH.match(if_match.strip())
        if found is None or int(found.group(1)) < -1:
            raise bad_header("If-Match", 'must be an ETag of this API: "<revision>"')
        expected = int(found.group(1))
    digest = hashlib.sha256()
    if key is not None:
        digest.update(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
        digest.update(await request.body())
    return CommandContext(
        platform, principal, set(request.path_params), key, digest.hexdigest(), expected
    )


Commands = Annotated[CommandContext, Depends(command_context)]
