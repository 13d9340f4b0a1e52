"""The repository: aggregates loaded from their streams (and snapshots), saved with the expected
version, commands retried on a concurrent change, and answered once however often they come.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import UUID

import orjson

from write_side.domain.aggregate import Aggregate
from write_side.domain.clock import Clock
from write_side.domain.commands import Command, CommandResult
from write_side.domain.errors import ConcurrencyConflict, StaleVersion
from write_side.domain.personal import Crypto
from write_side.envelope import DomainEvent, EventMetadata, EventRegistry
from write_side.eventstore import (
    SNAPSHOT_STREAM_PREFIX,
    EventStore,
    NewEvent,
    StreamMetadata,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)
from write_side.ids import derive_id

A = TypeVar("A", bound=Aggregate)

#: Type of the one event of a `snapshot-{stream}` stream.
SNAPSHOT_EVENT_TYPE = "Snapshot"

#: How often a command is decided again after another writer changed its stream meanwhile.
DEFAULT_RETRIES = 25
#: The pause before retry n is random in [0, n * this): contenders spread out instead of
#: colliding again in lockstep.
RETRY_BACKOFF_S = 0.002

Decide = Callable[[A], Sequence[DomainEvent]]


class Repository:
    """Loads and saves aggregates on the event store port; every command goes through here."""

    def __init__(
        self,
        store: EventStore,
        registry: EventRegistry,
        crypto: Crypto,
        clock: Clock,
        *,
        retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.registry = registry
        self.crypto = crypto
        self.clock = clock
        self.retries = retries
        self._sleep = sleep

    # -- loading ------------------------------------------------------------------------------

    def load(self, kind: type[A], id: UUID) -> A:
        """The aggregate as its stream says now (a new, empty one when the stream is absent)."""
        aggregate = self._from_snapshot(kind, id) or kind(id=id)
        try:
            recorded = self.store.read_stream(
                aggregate.stream,
                from_revision=aggregate.version + 1 if aggregate.exists else None,
            )
        except StreamNotFound:
            return aggregate
        for raw in recorded:
            stored = self.registry.decode(raw)
            event = stored.event
            if not isinstance(event, DomainEvent):
                raise TypeError(f"{aggregate.stream}: unknown event type {raw.type!r}")
            aggregate.apply(self.crypto.open(event))
            aggregate.version = raw.revision
            metadata = stored.metadata
            if metadata is not None and metadata.command_id is not None:
                aggregate.remember(metadata.command_id, raw.revision, raw.position)
        return aggregate

    def revision(self, kind: type[A], id: UUID) -> int:
        """The aggregate's stream revision now, without folding it (-1: no stream): one read of
        the last event, for callers that keep what they folded and ask only whether it moved."""
        try:
            last = self.store.read_stream(kind.stream_for(id), backwards=True, limit=1)
        except StreamNotFound:
            return -1
        return last[0].revision if last else -1

    def _from_snapshot(self, kind: type[A], id: UUID) -> A | None:
        if kind.snapshot_every is None:
            return None
        try:
            found = self.store.read_stream(
                snapshot_stream(kind.stream_for(id)), backwards=True, limit=1
            )
        except StreamNotFound:
            return None
        if not found:
            return None
        body = orjson.loads(found[0].data)
        if body.get("snapshot_version") != kind.snapshot_version:
            return None  # written for another shape of the state: replay the stream instead
        return self.crypto.open(kind.model_validate(body["state"]))

    # -- commands -----------------------------------------------------------------------------

    def execute(
        self,
        kind: type[A],
        id: UUID,
        command: Command,
        decide: Decide[A],
        *,
        expected_version: int | None = None,
        loaded: A | None = None,
    ) -> CommandResult:
        """Decide `command` on the aggregate and append what it decided.

        A command already handled answers its first result and writes nothing. When another
        writer changes the stream in between, the aggregate is reloaded and the command
        decided again (up to `retries` times), unless the caller named the version it read
        (`expected_version`, else the command's, from `If-Match`) or the command does not allow it
        (`retry_on_conflict`): then the change is a `StaleVersion`.
        A `DomainError` from `decide` propagates, with nothing written.
        `loaded` is the aggregate as the caller has just loaded it: the first attempt decides
        on it instead of reading the stream again (a conflict reloads it, as always).
        """
        if loaded is not None and (type(loaded) is not kind or loaded.id != id):
            raise ValueError(f"loaded is {loaded.stream}, not {kind.stream_for(id)}")
        if expected_version is None:
            expected_version = command.expected_version
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(random.uniform(0, attempt * RETRY_BACKOFF_S))
            aggregate = loaded if loaded is not None and not attempt else self.load(kind, id)
            done = aggregate.handled.get(command.command_id)
            if done is not None:
                return CommandResult(
                    aggregate.stream, id, done.revision, done.position, (), replayed=True
                )
            if expected_version is not None and aggregate.version != expected_version:
                raise StaleVersion(
                    "stale_version",
                    f"{aggregate.stream} is at version {aggregate.version}, not {expected_version}",
                )
            decided = list(decide(aggregate))
            if not decided:
                return CommandResult(aggregate.stream, id, aggregate.version, None)
            try:
                return self._save(aggregate, command, decided)
            except WrongExpectedVersion:
                if expected_version is not None or not command.retry_on_conflict:
                    raise StaleVersion(
                        "stale_version", f"{aggregate.stream} changed meanwhile"
                    ) from None
        raise ConcurrencyConflict(
            "concurrent_change",
            f"{kind.stream_for(id)} kept changing; gave up after {self.retries} retries",
        )

    def _save(self, aggregate: A, command: Command, decided: list[DomainEvent]) -> CommandResult:
        metadata = self._metadata(command)
        # Ids derived from the command: a retry after a lost answer appends the same events,
        # which the store recognises as a repeat and does not write twice.
        new = [
            self.registry.to_new_event(
                self.crypto.seal(event),
                metadata,
                event_id=derive_id(command.command_id, aggregate.stream, str(index)),
            )
            for index, event in enumerate(decided)
        ]
        expected = aggregate.version if aggregate.exists else StreamState.NO_STREAM
        position = self.store.append(aggregate.stream, new, expected_version=expected)
        before = aggregate.version
        for event in decided:
            aggregate.apply(event)
        aggregate.version = before + len(decided)
        aggregate.remember(command.command_id, aggregate.version, position)
        self._snapshot_if_due(aggregate, before)
        return CommandResult(
            aggregate.stream,
            aggregate.id,
            aggregate.version,
            position,
            tuple(type(event).event_type for event in decided),
        )

    def _metadata(self, command: Command) -> EventMetadata:
        now = self.clock.now()
        if command.cause is None:
            return EventMetadata.new_correlation(
                occurred_at=now, command_id=command.command_id, actor=command.actor
            )
        return EventMetadata(
            correlation_id=command.cause.correlation_id,
            causation_id=command.cause.event_id,
            command_id=command.command_id,
            actor=command.actor,
            occurred_at=now,
        )

    # -- snapshots ----------------------------------------------------------------------------

    def _snapshot_if_due(self, aggregate: Aggregate, before: int) -> None:
        every = type(aggregate).snapshot_every
        if every is None or (aggregate.version + 1) // every == (before + 1) // every:
            return
        self.write_snapshot(aggregate)

    def write_snapshot(self, aggregate: Aggregate) -> None:
        """Store the aggregate's state in `snapshot-{stream}` (which keeps only the newest)."""
        stream = snapshot_stream(aggregate.stream)
        body = {
            "snapshot_version": type(aggregate).snapshot_version,
            "state": self.crypto.seal(aggregate).model_dump(mode="json"),
        }
        event = NewEvent(type=SNAPSHOT_EVENT_TYPE, data=orjson.dumps(body))
        try:
            self.store.append(stream, [event], expected_version=StreamState.NO_STREAM)
        except WrongExpectedVersion:
            # Not the first: the stream keeps only the newest (a snapshot lost to a race is
            # simply written again later: it is an optimisation, never the truth).
            self.store.append(stream, [event], expected_version=StreamState.ANY)
        else:
            self.store.set_stream_metadata(
                stream, StreamMetadata(max_count=1), expected_version=StreamState.ANY
            )


def snapshot_stream(stream: str) -> str:
    """The stream holding `stream`'s snapshots."""
    return f"{SNAPSHOT_STREAM_PREFIX}{stream}"
