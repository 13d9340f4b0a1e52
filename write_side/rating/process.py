"""The process manager "catalog rating update": a feedback on a missing or deleted book is
rejected (**Decision**: by a `FeedbackRejected` event, which the query models subtract).

It is a plain class over two ports, so it runs under anything that delivers stored events: a
catch-up subscription on `$all` with a checkpoint, or a persistent subscription group (at
least once, in any order across streams). Each reaction is idempotent: the rejecting command's
id is derived from the event's id, so a redelivered event is answered by the repository with
the first result and writes nothing. `run_once` reads what is new and returns the checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from write_side.catalog.lookup import BookLookup
from write_side.domain import Cause, Command, CommandResult
from write_side.envelope import EventRegistry, StoredEvent
from write_side.eventstore import EventFilter, EventStore
from write_side.ids import derive_id
from write_side.rating.commands import RejectFeedback
from write_side.rating.events import FeedbackCreated, RejectionReason
from write_side.registry import REGISTRY

#: Sends a command to its handler (`CommandBus.dispatch`).
Dispatch = Callable[[Command], CommandResult]


class CatalogRatingUpdate:
    """Checks the book of every new feedback; rejects the feedback when the book is missing or
    deleted."""

    #: Its name as a subscription group or a checkpointed consumer.
    name: ClassVar[str] = "catalog_rating_update"
    #: Who its commands come from (the events' `actor`).
    actor: ClassVar[str] = f"system:{name}"
    #: The events it reacts to: a filter for `$all`.
    filter: ClassVar[EventFilter] = EventFilter.event_types(FeedbackCreated.event_type)

    def __init__(self, books: BookLookup, dispatch: Dispatch) -> None:
        self.books = books
        self.dispatch = dispatch

    def handle(self, stored: StoredEvent) -> CommandResult | None:
        """React to one event (others are ignored); None when there was nothing to do.

        Safe to call again for the same event: the repeated command writes nothing.
        """
        event = stored.event
        if not isinstance(event, FeedbackCreated):
            return None
        book = self.books.find(event.book_id)
        if book is not None and not book.deleted:
            return None
        reason = RejectionReason.BOOK_NOT_FOUND if book is None else RejectionReason.BOOK_DELETED
        metadata = stored.metadata
        command = RejectFeedback(
            feedback_id=event.feedback_id,
            reason=reason,
            command_id=derive_id(stored.id, self.name),
            actor=self.actor,
            cause=Cause(
                event_id=stored.id,
                correlation_id=stored.id if metadata is None else metadata.correlation_id,
            ),
        )
        return self.dispatch(command)

    def run_once(
        self,
        store: EventStore,
        after_position: int | None,
        *,
        registry: EventRegistry = REGISTRY,
        limit: int | None = None,
    ) -> int | None:
        """Handle the matching events of `$all` strictly after `after_position` (None: from
        the start), at most `limit`; the position to resume after (the last event read, or
        `after_position` when there was none).

        Positions are not contiguous: the next call resumes *after* the returned position.
        """
        last = after_position
        for count, recorded in enumerate(store.read_all_after(after_position, filter=self.filter)):
            if limit is not None and count >= limit:
                break
            self.handle(registry.decode(recorded))
            last = recorded.position
        return last
