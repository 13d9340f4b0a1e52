"""`/books/{book_id}/feedbacks` and `/feedbacks/{feedback_id}`: ratings and comments on books,
posted by anyone, read by anyone, removed by admins."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Anyone, Paging, PlatformDep, QueryConn, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import declared
from api.web.responses import page_response
from read_side.queries.feedbacks import FeedbackQuery, FeedbackSort, FeedbackView, book_feedbacks
from read_side.queries.paging import Page
from write_side.rating.commands import (
    Comment,
    CreateFeedback,
    DeleteFeedback,
    Rating,
    ReviewerNamePart,
)

#: The rate limit of every feedback route (DOMAIN.md's "rating" group).
RATE_LIMIT_GROUP = "rating"

router = APIRouter(tags=["feedbacks"], dependencies=[rate_limited(RATE_LIMIT_GROUP)])

#: The query model a feedbacks answer reads.
FEEDBACKS = "feedbacks"
Feedbacks = Annotated[ReadState, Fresh(FEEDBACKS)]


class NewFeedback(BaseModel):
    """A reviewer's rating of a book: one per book and reviewer names."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "comment": "Could not put it down.",
                    "rating": 5,
                }
            ]
        },
    )

    first_name: ReviewerNamePart
    last_name: ReviewerNamePart
    comment: Comment = ""
    rating: Rating


def feedback_location(feedback_id: UUID) -> str:
    """Where a feedback is (the path an admin deletes it by)."""
    return f"/api/v1/feedbacks/{feedback_id}"


@router.get(
    "/books/{book_id}/feedbacks",
    response_model=Page[FeedbackView],
    responses=declared(400, 401, 422, 429, 503),
    summary="List a book's feedbacks",
)
def feedbacks(
    request: Request,
    book_id: UUID,
    conn: QueryConn,
    platform: PlatformDep,
    paging: Paging,
    read: Feedbacks,
    _caller: Anyone,
    sort: FeedbackSort = FeedbackSort.DATE,
    descending: bool = True,
) -> Response:
    """A page of the book's feedbacks, newest first unless asked otherwise (ties: newest
    first). Deleted and rejected feedbacks never appear; an unknown book has none."""
    query = FeedbackQuery(sort=sort, descending=descending)
    page = book_feedbacks(conn, platform.keys, book_id, query, paging)
    return page_response(request, page, read=read)


@router.post(
    "/books/{book_id}/feedbacks",
    status_code=201,
    response_model=CommandAnswer,
    responses=declared(400, 401, 409, 412, 422, 429),
    summary="Rate a book",
)
def create_feedback(
    book_id: UUID, body: NewFeedback, commands: Commands, _caller: Anyone
) -> Response:
    """Rate a book from 0 to 5, with an optional comment; anonymous callers may.

    One feedback per book and reviewer names (409 for a second one). The book is checked
    afterwards: a feedback on a missing or deleted book is accepted here, then rejected by the
    process "catalog rating update" and leaves every query. The feedback's id is derived
    from the `Idempotency-Key`, so a retry rates the book once.
    """
    return commands.send(
        lambda envelope: CreateFeedback(**envelope, book_id=book_id, **body.model_dump()),
        status_code=201,
        location=lambda result: feedback_location(result.aggregate_id),
    )


@router.delete(
    "/feedbacks/{feedback_id}",
    response_model=CommandAnswer,
    responses=declared(400, 401, 403, 404, 409, 412, 422, 429),
    summary="Delete a feedback",
)
def delete_feedback(feedback_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Remove a feedback: its rating leaves the book's, and the reviewer may rate the book
    again. A feedback deleted or rejected already is a 409."""
    return commands.send(lambda envelope: DeleteFeedback(**envelope, feedback_id=feedback_id))
