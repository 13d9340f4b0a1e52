"""Commands of the rating context, validated as DOMAIN.md says.

A reviewer's names are trimmed and required (≤ 50); they are left out of the command's repr,
so a logged command shows no personal data.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from write_side.domain import Command
from write_side.rating.events import RejectionReason

ReviewerNamePart = Annotated[str, Field(min_length=1, max_length=50, repr=False)]
Comment = Annotated[str, Field(max_length=1000)]
#: An integer from 0 to 5; strict, so neither True nor 4.0 passes for one.
Rating = Annotated[int, Field(ge=0, le=5, strict=True)]


class CreateFeedback(Command):
    """Rate a book (anonymous callers may); one feedback per book and reviewer names. Its id
    is derived from the command id."""

    book_id: UUID
    first_name: ReviewerNamePart
    last_name: ReviewerNamePart
    comment: Comment = ""
    rating: Rating


class DeleteFeedback(Command):
    """Remove a feedback (admin)."""

    feedback_id: UUID


class RejectFeedback(Command):
    """Reject a feedback whose book is missing or deleted (sent by the process manager)."""

    feedback_id: UUID
    reason: RejectionReason
