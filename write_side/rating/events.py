"""Events of the rating context: a feedback on a book, created, deleted or rejected.

A reviewer's names are personal data: they are written sealed under a key whose subject is
the feedback id, so forgetting that key erases them and leaves everything else readable.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from write_side.domain import Sealed
from write_side.envelope import DomainEvent
from write_side.registry import REGISTRY


class ReviewerName(BaseModel):
    """Who wrote a feedback (personal data: only ever stored sealed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str
    last_name: str


class RejectionReason(StrEnum):
    """Why the process "catalog rating update" rejected a feedback."""

    BOOK_NOT_FOUND = "book_not_found"
    BOOK_DELETED = "book_deleted"


@REGISTRY.event("FeedbackCreated")
class FeedbackCreated(DomainEvent):
    """A reviewer rated a book (counted by the catalog's query models at once)."""

    feedback_id: UUID
    book_id: UUID
    reviewer: Sealed[ReviewerName]
    comment: str
    rating: int


@REGISTRY.event("FeedbackDeleted")
class FeedbackDeleted(DomainEvent):
    """An admin removed a feedback; query models subtract its rating from the book."""

    book_id: UUID
    rating: int


@REGISTRY.event("FeedbackRejected")
class FeedbackRejected(DomainEvent):
    """The compensation of a feedback on a missing or deleted book (**Decision**: an event,
    not a hard delete). `book_id` and `rating` ride along, as in `FeedbackDeleted`, so a
    consumer (an integration event keyed by book) needs no other event."""

    book_id: UUID
    rating: int
    reason: RejectionReason
