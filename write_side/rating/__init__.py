"""The Rating bounded context: feedback on books, and the process that rejects feedback on a
missing or deleted book.

Import this package to register its events; `HANDLERS` maps each command to its handler.
"""

from write_side.rating.commands import CreateFeedback, DeleteFeedback, RejectFeedback
from write_side.rating.events import (
    FeedbackCreated,
    FeedbackDeleted,
    FeedbackRejected,
    RejectionReason,
    ReviewerName,
)
from write_side.rating.feedback import Feedback, FeedbackStatus, reviewer_key
from write_side.rating.handlers import (
    HANDLERS,
    REVIEWER_RESERVATION,
    feedback_id_for,
    reservation_checks,
)
from write_side.rating.process import CatalogRatingUpdate

__all__ = [
    "HANDLERS",
    "REVIEWER_RESERVATION",
    "CatalogRatingUpdate",
    "CreateFeedback",
    "DeleteFeedback",
    "Feedback",
    "FeedbackCreated",
    "FeedbackDeleted",
    "FeedbackRejected",
    "FeedbackStatus",
    "RejectFeedback",
    "RejectionReason",
    "ReviewerName",
    "feedback_id_for",
    "reservation_checks",
    "reviewer_key",
]
