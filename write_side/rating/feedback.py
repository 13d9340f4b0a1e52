"""The Feedback aggregate (`feedback-{id}`): a rating of a book by a named reviewer.

A feedback is active until an admin deletes it or the process "catalog rating update"
rejects it (its book is missing or deleted); then it takes no further command. One feedback
per (book, first name, last name) is claimed by the handler in a personal reservation stream.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

import orjson

from write_side.domain import Aggregate, DomainError, NotFound, Sealed, applies, normalize
from write_side.envelope import DomainEvent
from write_side.rating.commands import CreateFeedback, DeleteFeedback, RejectFeedback
from write_side.rating.events import (
    FeedbackCreated,
    FeedbackDeleted,
    FeedbackRejected,
    ReviewerName,
)


class FeedbackStatus(StrEnum):
    """Where a feedback is in its life."""

    ACTIVE = "active"
    DELETED = "deleted"
    REJECTED = "rejected"


class Feedback(Aggregate):
    """A feedback: book, reviewer (sealed, subject = the feedback id), comment, rating."""

    category = "feedback"

    book_id: UUID | None = None
    reviewer: Sealed[ReviewerName] | None = None
    comment: str = ""
    rating: int = 0
    status: FeedbackStatus = FeedbackStatus.ACTIVE

    def create(self, command: CreateFeedback) -> list[DomainEvent]:
        """A new feedback; the reviewer's names are sealed under the feedback's own key."""
        if self.exists:
            raise DomainError("feedback_exists", f"feedback {self.id} exists already")
        reviewer = ReviewerName(first_name=command.first_name, last_name=command.last_name)
        return [
            FeedbackCreated(
                feedback_id=self.id,
                book_id=command.book_id,
                reviewer=Sealed.of(self.id, reviewer),
                comment=command.comment,
                rating=command.rating,
            )
        ]

    def delete(self, command: DeleteFeedback) -> list[DomainEvent]:
        """Removed by an admin."""
        book_id = self._require_active()
        return [FeedbackDeleted(book_id=book_id, rating=self.rating)]

    def reject(self, command: RejectFeedback) -> list[DomainEvent]:
        """Rejected by the process; one that is no longer active is left as it is (the admin
        deleted it first, or it was rejected already), so the process never fails on it."""
        if not self.exists:
            raise NotFound("feedback_not_found", f"no feedback {self.id}")
        if self.status is not FeedbackStatus.ACTIVE or self.book_id is None:
            return []
        return [FeedbackRejected(book_id=self.book_id, rating=self.rating, reason=command.reason)]

    def _require_active(self) -> UUID:
        if not self.exists or self.book_id is None:
            raise NotFound("feedback_not_found", f"no feedback {self.id}")
        if self.status is not FeedbackStatus.ACTIVE:
            raise DomainError(
                f"feedback_{self.status.value}", f"feedback {self.id} is {self.status}"
            )
        return self.book_id

    @property
    def reviewer_key(self) -> str | None:
        """The value of its reviewer reservation; None once the names are erased."""
        if self.book_id is None or self.reviewer is None or self.reviewer.value is None:
            return None
        return reviewer_key(self.book_id, self.reviewer.value)

    @applies(FeedbackCreated)
    def _created(self, event: FeedbackCreated) -> None:
        self.book_id, self.reviewer = event.book_id, event.reviewer
        self.comment, self.rating = event.comment, event.rating

    @applies(FeedbackDeleted)
    def _deleted(self, event: FeedbackDeleted) -> None:
        self.status = FeedbackStatus.DELETED

    @applies(FeedbackRejected)
    def _rejected(self, event: FeedbackRejected) -> None:
        self.status = FeedbackStatus.REJECTED


def reviewer_key(book_id: UUID, reviewer: ReviewerName) -> str:
    """What one feedback per (book, first name, last name) is judged on (never written in the
    clear: the reservation is personal).

    A JSON list of the normalised parts, so the parts cannot run into each other ("Ada Mary"
    + "Lovelace" is not "Ada" + "Mary Lovelace").
    """
    parts = [str(book_id), normalize(reviewer.first_name), normalize(reviewer.last_name)]
    return orjson.dumps(parts).decode()
