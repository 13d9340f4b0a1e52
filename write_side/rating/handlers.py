"""Handlers of the rating commands: plain functions of the command and the services.

One feedback per (book, first name, last name) is claimed in a personal reservation stream
`feedbackreviewer-…` (its name a hash of the value, the value itself never stored) before the
feedback is created; a deleted or rejected feedback frees it, so the reviewer may rate again.
"""

from __future__ import annotations

import logging
from uuid import UUID

from write_side.domain import Command, CommandResult, Handler, Repository, Services
from write_side.domain.reservations import ReservationMade, StillWanted
from write_side.ids import derive_id
from write_side.rating.commands import CreateFeedback, DeleteFeedback, RejectFeedback
from write_side.rating.events import ReviewerName
from write_side.rating.feedback import Feedback, FeedbackStatus, reviewer_key

log = logging.getLogger(__name__)

#: The reservation kind of "one feedback per book and reviewer names".
REVIEWER_RESERVATION = "feedbackreviewer"


def feedback_id_for(command: CreateFeedback) -> UUID:
    """The id of the feedback a `CreateFeedback` makes: derived from the command id."""
    return derive_id(command.command_id, Feedback.category)


def create_feedback(command: CreateFeedback, services: Services) -> CommandResult:
    """Record a feedback, unless this reviewer has rated this book already."""
    repository = services.repository
    feedback_id = feedback_id_for(command)
    feedback = repository.load(Feedback, feedback_id)

    def create() -> CommandResult:  # on the feedback loaded here: no second read
        return repository.execute(
            Feedback, feedback_id, command, lambda f: f.create(command), loaded=feedback
        )

    if command.command_id in feedback.handled:
        return create()  # a repeat must not claim again: its claim may be released by now
    key = reviewer_key(
        command.book_id, ReviewerName(first_name=command.first_name, last_name=command.last_name)
    )
    services.reservations.reserve(
        REVIEWER_RESERVATION,
        key,
        owner_id=feedback_id,
        owner_stream=Feedback.stream_for(feedback_id),
        command=command,
        rule="feedback_already_given",
        personal=True,
    )
    try:
        return create()
    except Exception:
        _release_unless_created(services, feedback_id, key, command)
        raise


def delete_feedback(command: DeleteFeedback, services: Services) -> CommandResult:
    """Remove a feedback (admin); the reviewer may rate the book again."""
    result = services.repository.execute(
        Feedback, command.feedback_id, command, lambda f: f.delete(command)
    )
    _release_reviewer(services, command.feedback_id, command, reason="deleted")
    return result


def reject_feedback(command: RejectFeedback, services: Services) -> CommandResult:
    """Reject a feedback whose book is missing or deleted (the process manager sends it)."""
    result = services.repository.execute(
        Feedback, command.feedback_id, command, lambda f: f.reject(command)
    )
    _release_reviewer(services, command.feedback_id, command, reason="rejected")
    return result


def reviewer_reservation_wanted(repository: Repository) -> StillWanted:
    """For the sweeper: a reviewer claim is wanted while its feedback is active."""

    def wanted(holder: ReservationMade) -> bool:
        feedback = repository.load(Feedback, holder.owner_id)
        return feedback.exists and feedback.status is FeedbackStatus.ACTIVE

    return wanted


def reservation_checks(repository: Repository) -> dict[str, StillWanted]:
    """The sweeper's `still_wanted` for the rating context (`Reservations.sweep`)."""
    return {REVIEWER_RESERVATION: reviewer_reservation_wanted(repository)}


def _release_reviewer(
    services: Services, feedback_id: UUID, command: Command, *, reason: str
) -> None:
    feedback = services.repository.load(Feedback, feedback_id)
    key = feedback.reviewer_key
    if feedback.status is FeedbackStatus.ACTIVE or key is None:
        return  # still counts; or the names are erased, and with them the way to the claim
    services.reservations.release(
        REVIEWER_RESERVATION, key, owner_id=feedback_id, command=command, reason=reason
    )


def _release_unless_created(
    services: Services, feedback_id: UUID, key: str, command: Command
) -> None:
    try:
        if services.repository.load(Feedback, feedback_id).exists:
            return  # the append landed; only its answer was lost
        services.reservations.release(
            REVIEWER_RESERVATION, key, owner_id=feedback_id, command=command, reason="not_taken"
        )
    except Exception:
        # The command's own error is what the caller must see; the sweeper frees the claim.
        log.warning("could not release the reviewer claim of %s", feedback_id, exc_info=True)


#: Every rating command and its handler, for the command bus.
HANDLERS: dict[type[Command], Handler] = {
    CreateFeedback: create_feedback,
    DeleteFeedback: delete_feedback,
    RejectFeedback: reject_feedback,
}
