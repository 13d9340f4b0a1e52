"""The integration event recorder: publishes integration events into the event store, from a
catch-up subscription on `$all`, never from a command handler.

Each published domain event becomes one event in `integration-{type}`, whose event id is the
message id (derived from the source event's id). The recorder follows `$all` in commit order
and records what it has read so far in one go: each run of consecutive messages of one type is
one append (a steady stream of feedbacks costs one commit per read, not one per feedback), and
the runs are appended in the order of their sources. So the integration streams, and `$all`
after them, hold the messages in the order of their sources: per partition key, a consumer of
`$all` (the broker publisher) sees them in the order things happened.

**Exactly once in the streams.** The checkpoint is not stored anywhere else: it is the largest
`source_position` among the last events of the integration streams, read at start. Because
sources are recorded in order, a stream whose last message came from position p holds every
message of its type from sources up to p: a message from a source at or before p is skipped.
Every append names the stream's expected revision; when another recorder (a second worker)
appended meanwhile, the recorder reads the stream's tail again and applies the same rule. So a
crash, a restart, a replay from the start or two recorders at once never write a message twice.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import ClassVar

from write_side.chunking import chunks
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

#: Most source events recorded together (read ahead of the appends, and in one `run_once` step).
BATCH = 500
#: How often a recorder waiting for events looks at its stop signal.
_STOP_POLL_S = 0.25


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
        appended = self.record_all([stored])
        return appended[0] if appended else None

    def record_all(self, sources: Iterable[StoredEvent]) -> list[IntegrationEvent]:
        """`record` for consecutive source events of `$all`, in their order: each run of
        messages of one type is one append. What was appended."""
        messages = [m for m in (self._message(s) for s in sources) if m is not None]
        appended: list[IntegrationEvent] = []
        for stream, run in itertools.groupby(messages, key=lambda m: m[0].stream()):
            appended += self._append_once(stream, list(run))
        return appended

    def run_once(self, *, limit: int | None = None) -> int:
        """Record what `$all` holds after the checkpoint (at most `limit` source events); how
        many integration events were appended."""
        sources = self.store.read_all_after(self.checkpoint(), filter=self.filter)
        if limit is not None:
            sources = itertools.islice(sources, limit)
        return sum(len(self.record_all(self._decoded(chunk))) for chunk in chunks(sources, BATCH))

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
        """Record batches: whatever the subscription has delivered while the last one was
        appended (a helper thread reads ahead into a bounded queue)."""
        subscription = self.store.subscribe_to_all(
            from_position=self.checkpoint(), filter=self.filter
        )
        read: queue.Queue[RecordedEvent | BaseException | None] = queue.Queue(BATCH)
        reader = threading.Thread(
            target=_read_ahead, args=(subscription, read), name=f"{self.name}:read", daemon=True
        )
        reader.start()
        try:
            ended = False
            while not ended and not stop.is_set():
                batch, ended = _take(read, stop)
                self.record_all(self._decoded(batch))
        finally:
            subscription.stop()
            deadline = time.monotonic() + 5
            while reader.is_alive() and time.monotonic() < deadline:  # it may wait to put
                with contextlib.suppress(queue.Empty):
                    read.get(timeout=0.05)

    def _decoded(self, events: Sequence[RecordedEvent]) -> Iterator[StoredEvent]:
        return (self.registry.decode(event) for event in events)

    def _message(self, stored: StoredEvent) -> tuple[IntegrationEvent, NewEvent] | None:
        try:
            message = self.mapper.map(stored)
        except EventDecodeError:
            log.exception("%s: cannot read %r; it is not published", self.name, stored)
            return None
        if message is None:
            return None
        metadata = EventMetadata.caused_by(stored, occurred_at=message.created_at, actor=self.actor)
        return message, self.registry.to_new_event(message, metadata, event_id=message.message_id)

    def _append_once(
        self, stream: str, run: Sequence[tuple[IntegrationEvent, NewEvent]]
    ) -> list[IntegrationEvent]:
        while True:
            revision, last_source = self._tail(stream)
            # Recorded already, what the stream holds a later source of (sources come in order).
            fresh = [(m, new) for m, new in run if m.source_position > last_source]
            if not fresh:
                return []
            expected = StreamState.NO_STREAM if revision < 0 else revision
            try:
                self.store.append(stream, [new for _, new in fresh], expected_version=expected)
            except WrongExpectedVersion:
                self._tails.pop(stream, None)  # another recorder appended: look again
                continue
            self._tails[stream] = (revision + len(fresh), fresh[-1][0].source_position)
            return [m for m, _ in fresh]

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


def _read_ahead(
    subscription: Iterable[object], into: queue.Queue[RecordedEvent | BaseException | None]
) -> None:
    """The recorder's reader: events into `into`, then None at the end (or the error)."""
    end: BaseException | None = None
    try:
        for item in subscription:
            if isinstance(item, RecordedEvent):
                into.put(item)
    except BaseException as error:  # handed to the recorder's thread
        end = error
    into.put(end)


def _take(
    read: queue.Queue[RecordedEvent | BaseException | None], stop: threading.Event
) -> tuple[list[RecordedEvent], bool]:
    """The next event (waiting for it) and every one read meanwhile, up to `BATCH`; and
    whether to end after them: the subscription ended, or `stop` was set while waiting. A
    reader's error is raised in their place once no event is left before it."""
    while True:
        try:
            item = read.get(timeout=_STOP_POLL_S)
            break
        except queue.Empty:
            if stop.is_set():
                return [], True
    batch: list[RecordedEvent] = []
    while isinstance(item, RecordedEvent):
        batch.append(item)
        if len(batch) >= BATCH:
            return batch, False
        try:
            item = read.get_nowait()
        except queue.Empty:
            return batch, False
    if isinstance(item, BaseException) and not batch:
        raise item
    if isinstance(item, BaseException):
        read.put(item)  # the reader has ended: the queue is empty; raised by the next take
        return batch, False
    return batch, True


def stop_on(
    stop: threading.Event, done: threading.Event, action: Callable[[], None], poll_s: float = 0.25
) -> None:
    """Call `action` (a subscription's `stop`) once `stop` is set; return early when `done`."""
    while not done.is_set():
        if stop.wait(poll_s):
            action()
            return


__all__ = ["IntegrationEventRecorder", "stop_on"]
