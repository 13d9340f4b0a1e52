"""Faults around a real event store: an append that fails, or whose answer is lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import cast

from write_side.domain import Repository, Reservations, Services
from write_side.eventstore import EventStore, EventStoreUnavailable, ExpectedVersion, NewEvent


class FailsOnce:
    """The real store, except that the first append to a stream starting with `prefix` fails:
    before writing anything (`written=False`), or after writing with its answer lost (a crash
    between append and answer, `written=True`)."""

    def __init__(self, inner: EventStore, prefix: str, *, written: bool) -> None:
        self.inner = inner
        self.prefix = prefix
        self.written = written
        self.failed = False

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        """Append, failing the first time `stream` matches."""
        if self.failed or not stream.startswith(self.prefix):
            return self.inner.append(stream, events, expected_version=expected_version)
        self.failed = True
        if self.written:
            self.inner.append(stream, events, expected_version=expected_version)
            raise ConnectionResetError("the answer was lost")
        raise EventStoreUnavailable("the store went away before writing")

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
