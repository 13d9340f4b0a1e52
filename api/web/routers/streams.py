"""`/streams/{stream}/events`: a stream's events as the store recorded them (admin, reporter)."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

import orjson
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.web.deps import Auditor, Paging, PlatformDep
from api.web.problems import ProblemError, declared
from api.web.responses import json_response, page_headers
from read_side.queries.paging import Page
from write_side.eventstore import RecordedEvent, StreamDeleted, StreamNotFound

router = APIRouter(prefix="/streams", tags=["audit"])


class StreamEvent(BaseModel):
    """One recorded event: its place in its stream and in `$all`, and its content as appended.

    `data` and `metadata` are the decoded JSON when the content type is JSON (metadata always
    is); bytes that are not JSON come as base64 in `data_base64` / `metadata_base64` instead.
    Personal data stays as it was written: encrypted with its owner's key.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0196b3f0-0000-7000-8000-00000000000a",
                    "type": "BookPriceChanged",
                    "stream": "book-0196b3f0-0000-7000-8000-000000000001",
                    "revision": 3,
                    "position": 4711,
                    "recorded_at": "2025-05-01T09:30:00.123456Z",
                    "content_type": "application/json",
                    "metadata": {"correlation_id": "…", "command_id": "…", "actor": "admin-1"},
                    "data": {"price": "20.00", "discount_price": None},
                }
            ]
        }
    )

    id: UUID
    type: str
    stream: str
    revision: int = Field(description="place in its stream, from 0 without gaps")
    position: int = Field(description="commit position in `$all` (increasing, not contiguous)")
    recorded_at: datetime = Field(description="when the store recorded it (UTC)")
    content_type: str
    metadata: JsonValue = None
    data: JsonValue = None
    metadata_base64: str | None = None
    data_base64: str | None = None

    @classmethod
    def of(cls, event: RecordedEvent) -> StreamEvent:
        """The answer's form of a recorded event."""
        data, data_base64 = _decoded(event.data, as_json="json" in event.content_type.lower())
        metadata, metadata_base64 = _decoded(event.metadata, as_json=True)
        return cls(
            id=event.id,
            type=event.type,
            stream=event.stream,
            revision=event.revision,
            position=event.position,
            recorded_at=event.recorded_at,
            content_type=event.content_type,
            metadata=metadata,
            data=data,
            metadata_base64=metadata_base64,
            data_base64=data_base64,
        )


def _decoded(raw: bytes, *, as_json: bool) -> tuple[JsonValue, str | None]:
    """JSON and None, or None and base64 (for bytes that are not JSON); empty bytes are null."""
    if not raw:
        return None, None
    if as_json:
        try:
            value: JsonValue = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            return value, None
    return None, base64.b64encode(raw).decode("ascii")


StreamName = Path(
    min_length=1,
    max_length=500,
    description="the stream, e.g. `book-<id>`",
    examples=["book-0196b3f0-0000-7000-8000-000000000001"],
)


@router.get(
    "/{stream}/events",
    response_model=Page[StreamEvent],
    responses=declared(400, 401, 403, 404, 422),
    summary="Read a stream's events",
)
def stream_events(
    request: Request,
    platform: PlatformDep,
    paging: Paging,
    _auditor: Auditor,
    stream: str = StreamName,
) -> Response:
    """A page of the stream's events in revision order, as the event store recorded them.

    Only the events the stream's metadata leaves visible are paged (`$maxCount`, `$maxAge` and
    truncation hide the oldest ones): page 1 starts at the oldest visible revision, and
    `total_items` counts the visible events. `ETag` is the stream's last revision.

    A stream never written, soft-deleted or tombstoned answers 404. So does every
    `$`-prefixed system stream (stream metadata, the parked events of subscription groups):
    they are the store's bookkeeping, not the bookstore's history, and this route serves the
    history only.
    """
    if stream.startswith("$"):
        raise ProblemError(404, f"system stream {stream!r} is not served here")
    store = platform.store
    try:
        newest = store.read_stream(stream, backwards=True, limit=1)
        oldest = store.read_stream(stream, limit=1)
        if not newest or not oldest:
            # Every event is past `$maxAge`: the stream exists, but shows nothing.
            return json_response(Page[StreamEvent].of([], paging, 0))
        first, last = oldest[0].revision, newest[0].revision
        beyond = paging.offset > last - first  # no read: a huge page overflows a revision
        events = (
            []
            if beyond
            else store.read_stream(stream, from_revision=first + paging.offset, limit=paging.limit)
        )
    except (StreamNotFound, StreamDeleted) as error:
        raise ProblemError(404, str(error)) from None
    # Appended between the reads: kept for the next request, so the page agrees with `ETag`.
    items = [StreamEvent.of(e) for e in events if e.revision <= last]
    page = Page[StreamEvent].of(items, paging, last - first + 1)
    return json_response(page, revision=last, headers=page_headers(request, page))
