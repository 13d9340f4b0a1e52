"""The integration event recorder: publishes integration events into the event store, from a
catch-up subscription on `$all`, never from a command handler.

Each published domain event becomes one event in `integration-{type}`, whose event id is the
message id (derived from the source event's id). The recorder follows `$all` in commit order
and records one event at a time, so the integration streams hold the messages in the order of
their sources: per partition key, a consumer of `$all` (the broker publisher) sees them in
the order things happened.

**Exactly once in the streams.** The checkpoint is not stored anywhere else: it is the largest
`source_position` among the last events of the integration streams, read at start. Because
sources are recorded in order, a stream whose last message came from position p holds every
message of its type from sources up to p: a message from a source at or before p is skipped.
Every append names the stream's expected revision; when another recorder (a second worker)
appended meanwhile, the recorder reads the stream's tail again and applies the same rule. So a
crash, a restart, a replay from the start or two recorders at once never write a message twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import ClassVar

from write_side.envelope import EventDecodeError, EventMetadata, EventRegistry, StoredEvent
from write_side.eventstore import (
    EventFilter,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)
from write_side.integration.events import INTEGRATION_EVENTS, IntegrationEvent
from write_side.integration.mapping import SOURCE_EVENTS, IntegrationMapper
from write_side.registry import REGISTRY

log = logging.getLogger(__name__)


class IntegrationEventRecorder:
    """Appends the integration event of each published domain event to its stream, once."""

    name: ClassVar[str] = "integration_events"
    actor: ClassVar[str] = f"system:{name}"
    filter: ClassVar[EventFilter] = SOURCE_EVENTS

    def __init__(
        self,
        store: EventStore,
        registry: EventRegistry = REGISTRY,
        *,
        restart_backoff_s: float = 0.2,
        restart_backoff_max_s: float = 10.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.mapper = IntegrationMapper(store, registry)
        self.restart_backoff_s = restart_backoff_s
        self.restart_backoff_max_s = restart_backoff_max_s
        self._tails: dict[str, tuple[int, int]] = {}

    def checkpoint(self) -> int | None:
        """The position of the last source event recorded (None: none yet), read afresh from
        the integration streams."""
        self._tails.clear()
        last = max(self._tail(kind.stream())[1] for kind in INTEGRATION_EVENTS)
        return None if last < 0 else last

    def record(self, stored: StoredEvent) -> IntegrationEvent | None:
        """Append the integration event of `stored` unless it is there; what was appended.

        Call it in `$all` order: a message whose source lies before the last one its stream
        holds counts as recorded.
        """
        try:
            message = self.mapper.map(stored)
        except EventDecodeError:
            log.exception("%s: cannot read %r; it is not published", self.name, stored)
            return None
        if message is None:
            return None
        metadata = EventMetadata.caused_by(stored, occurred_at=message.created_at, actor=self.actor)
        new = self.registry.to_new_event(message, metadata, event_id=message.message_id)
        appended = self._append_once(message.stream(), new, message.source_position)
        return message if appended else None

    def run_once(self, *, limit: int | None = None) -> int:
        """Record what `$all` holds after the checkpoint (at most `limit` source events); how
        many integration events were appended."""
        appended = 0
        for count, recorded in enumerate(
            self.store.read_all_after(self.checkpoint(), filter=self.filter)
        ):
            if limit is not None and count >= limit:
                break
            appended += self.record(self.registry.decode(recorded)) is not None
        return appended

    def run(self, stop: threading.Event) -> None:
        """Follow `$all` from the checkpoint until `stop` is set; start again after a failure,
        pausing longer each time."""
        pause = self.restart_backoff_s
        while not stop.is_set():
            try:
                self._follow(stop)
                pause = self.restart_backoff_s
            except Exception:
                log.exception("%s: failed; starting again in %.1f s", self.name, pause)
                stop.wait(pause)
                pause = min(pause * 2, self.restart_backoff_max_s)

    def _follow(self, stop: threading.Event) -> None:
        subscription = self.store.subscribe_to_all(
            from_position=self.checkpoint(), filter=self.filter
        )
        done = threading.Event()
        watcher = threading.Thread(
            target=stop_on,
            args=(stop, done, subscription.stop),
            name=f"{self.name}:watch",
            daemon=True,
        )
        watcher.start()
        try:
            with subscription:
                for item in subscription:
                    if isinstance(item, RecordedEvent):
                        self.record(self.registry.decode(item))
        finally:
            done.set()

    def _append_once(self, stream: str, new: NewEvent, source_position: int) -> bool:
        while True:
            revision, last_source = self._tail(stream)
            if source_position <= last_source:
                return False  # recorded already: the stream holds its sources in order
            expected = StreamState.NO_STREAM if revision < 0 else revision
            try:
                self.store.append(stream, [new], expected_version=expected)
            except WrongExpectedVersion:
                self._tails.pop(stream, None)  # another recorder appended: look again
                continue
            self._tails[stream] = (revision + 1, source_position)
            return True

    def _tail(self, stream: str) -> tuple[int, int]:
        """The stream's last revision and the source position of its last message."""
        if stream not in self._tails:
            newest = self._newest(stream)
            if newest is None:
                self._tails[stream] = (-1, -1)
            else:
                event = self.registry.decode(newest).event
                assert isinstance(event, IntegrationEvent)
                self._tails[stream] = (newest.revision, event.source_position)
        return self._tails[stream]

    def _newest(self, stream: str) -> RecordedEvent | None:
        try:
            found = self.store.read_stream(stream, backwards=True, limit=1)
        except StreamNotFound:
            return None
        return found[0] if found else None


def stop_on(
    stop: threading.Event, done: threading.Event, action: Callable[[], None], poll_s: float = 0.25
) -> None:
    """Call `action` (a subscription's `stop`) once `stop` is set; return early when `done`."""
    while not done.is_set():
        if stop.wait(poll_s):
            action()
            return


__all__ = ["IntegrationEventRecorder", "stop_on"]
