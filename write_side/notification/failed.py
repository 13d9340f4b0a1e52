"""The emails the hourly resend job takes up: a small port, and its answer from the event store.

`EventStoreFailedEmails` folds the email events of `$all` on every question: always current,
and cheap enough once an hour for the email streams of a bookstore. A query model can answer
the port instead when that grows; the job would not change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from write_side.envelope import EventRegistry
from write_side.eventstore import EventFilter, EventStore
from write_side.notification.email import Email
from write_side.notification.events import (
    EmailQueued,
    EmailSendFailed,
    EmailSendStarted,
    EmailSent,
)
from write_side.registry import REGISTRY

_PREFIX = f"{Email.category}-"
_EVENTS = EventFilter.event_types(
    EmailQueued.event_type,
    EmailSendStarted.event_type,
    EmailSent.event_type,
    EmailSendFailed.event_type,
)


class FailedEmails(ABC):
    """Which emails to try again."""

    @abstractmethod
    def find(self, *, limit: int, stale_before: datetime) -> list[UUID]:
        """At most `limit` emails, oldest first: those that failed (not for good), and those
        whose attempt under way was claimed before `stale_before` (its sender stopped)."""


@dataclass
class _Fold:
    failed: bool = False
    sending_since: datetime | None = None


class EventStoreFailedEmails(FailedEmails):
    """Answers from the email events of `$all` (no personal data is opened)."""

    def __init__(self, store: EventStore, registry: EventRegistry = REGISTRY) -> None:
        self.store = store
        self.registry = registry

    def find(self, *, limit: int, stale_before: datetime) -> list[UUID]:
        """At most `limit` emails to try again, in the order they were queued."""
        emails: dict[str, _Fold] = {}
        for recorded in self.store.read_all(filter=_EVENTS):
            if not recorded.stream.startswith(_PREFIX):
                continue
            event = self.registry.decode(recorded).event
            fold = emails.setdefault(recorded.stream, _Fold())
            if isinstance(event, EmailSendStarted):
                fold.failed, fold.sending_since = False, event.started_at
            elif isinstance(event, EmailSent):
                fold.failed, fold.sending_since = False, None
            elif isinstance(event, EmailSendFailed):
                fold.failed, fold.sending_since = not event.final, None
        found = []
        for stream, fold in emails.items():
            stale = fold.sending_since is not None and fold.sending_since < stale_before
            if fold.failed or stale:
                found.append(UUID(stream.removeprefix(_PREFIX)))
                if len(found) == limit:
                    break
        return found


__all__ = ["EventStoreFailedEmails", "FailedEmails"]
