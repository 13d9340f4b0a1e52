"""Faults around a real event store: an append that fails, or whose answer is lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import cast

from write_side.domain import Repository, Reservations, Services
from write_side.eventstore import EventStore, EventStoreUnavailable, ExpectedVersion, NewEvent


class FailsOnce:
    """The real store, except that appends fail once per prefix, in order: the first append to
    a stream starting with `prefixes[0]` fails, then the next one starting with `prefixes[1]`,
    and so on. A failure happens before writing anything (`written=False`), or after writing
    with the answer lost (a crash between append and answer, `written=True`)."""

    def __init__(self, inner: EventStore, *prefixes: str, written: bool) -> None:
        self.inner = inner
        self.pending = list(prefixes)
        self.written = written

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        """Append, failing when `stream` matches the next prefix."""
        if not self.pending or not stream.startswith(self.pending[0]):
            return self.inner.append(stream, events, expected_version=expected_version)
        self.pending.pop(0)
        if self.written:
            self.inner.append(stream, events, expected_version=expected_version)
            raise ConnectionResetError("the answer was lost")
        raise EventStoreUnavailable(f"the store went away before writing to {stream}")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def services_with(services: Services, store: FailsOnce) -> Services:
    """The same services, with the repository and the reservations on `store`."""
    faulty = cast(EventStore, store)
    repository = services.repository
    return replace(
        services,
        repository=Repository(faulty, repository.registry, repository.crypto, repository.clock),
        reservations=Reservations(faulty, services.reservations.registry, services.clock),
    )
