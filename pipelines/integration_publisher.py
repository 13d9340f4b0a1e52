"""The integration publisher: the `integration-{type}` streams to a broker (RabbitMQ), in order,
each message once for a consumer that de-duplicates by message id.

It follows `$all` (the integration streams only) with a catch-up subscription from its
checkpoint, publishes a batch (the whole backlog in batches while catching up, each event on the
live tail), waits for the broker's confirms, and only then stores the checkpoint: in a target
(the query tables), fenced by a lease, so one publisher runs at a time across workers.

What "once, in order per partition key" relies on, honestly:

- **Order.** The recorder appends integration events in the order of their sources, so `$all`
  holds each key's messages in order; one publisher (the lease) publishes them in that order
  on one channel; RabbitMQ keeps a channel's order into each queue; a queue read by a single
  active consumer (`declare_consumer_queue`) hands them out in that order. A consumer that
  requeues (nacks) a message, or reads one queue with several active consumers, gives the
  order up: that is the consumer's choice.
- **Once.** Publication is at least once: a crash (or a lost lease) after the broker took a
  batch and before its checkpoint is stored publishes the batch again, in the same order, with
  the same message ids, from the same bytes. A consumer therefore drops a `message_id` it has
  handled (an inbox, as `pipelines.inbox` does for our own handlers); with that, each message
  is handled once, and the repeats of a batch never overtake what followed it. Without a crash
  nothing is published twice. A lease that expires while its holder is stalled can let two
  publishers overlap for a moment: the fence stops the stale one at its next checkpoint, and
  what both published is again only a repeat of the same ids.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from pipelines.amqp import AmqpMessage
from read_side.targets import Checkpoint, Target
from write_side.envelope import EventRegistry
from write_side.eventstore import CaughtUp, EventFilter, EventStore, RecordedEvent
from write_side.integration import STREAM_PREFIX, IntegrationEvent
from write_side.integration.recorder import stop_on
from write_side.registry import REGISTRY

log = logging.getLogger(__name__)

#: The one "build" of the publisher's checkpoint in the target's bookkeeping.
BUILD = 1


class Broker(Protocol):
    """Where messages go (`RabbitMqPublisher`)."""

    def publish(self, messages: Sequence[AmqpMessage]) -> None:
        """Publish in order; return once the broker has taken every message."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class LeaseLost(Exception):
    """Another publisher holds the lease now: this one stops publishing."""


def to_message(recorded: RecordedEvent, registry: EventRegistry = REGISTRY) -> AmqpMessage:
    """The broker message of a recorded integration event (its stored JSON as the body)."""
    event = registry.decode(recorded).event
    if not isinstance(event, IntegrationEvent):
        raise TypeError(f"{recorded!r} is not an integration event")
    return AmqpMessage(
        message_id=str(event.message_id),
        type=recorded.type,
        partition_key=event.partition_key,
        correlation_id=str(event.correlation_id),
        timestamp=int(event.created_at.timestamp()),
        body=recorded.data,
    )


class IntegrationPublisher:
    """Publishes the integration streams to a broker, checkpointed in a target."""

    name: ClassVar[str] = "integration_publisher"
    filter: ClassVar[EventFilter] = EventFilter.stream_prefixes(STREAM_PREFIX)

    def __init__(
        self,
        store: EventStore,
        target: Target,
        broker: Broker,
        *,
        registry: EventRegistry = REGISTRY,
        batch_size: int = 500,
        lease_ttl_s: float = 10.0,
        idle_s: float = 0.25,
        holder: str | None = None,
        restart_backoff_s: float = 0.5,
        restart_backoff_max_s: float = 30.0,
    ) -> None:
        self.store = store
        self.target = target
        self.broker = broker
        self.registry = registry
        self.batch_size = batch_size
        self.lease_ttl_s = lease_ttl_s
        self.idle_s = idle_s
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.restart_backoff_s = restart_backoff_s
        self.restart_backoff_max_s = restart_backoff_max_s
        self.published = 0

    def checkpoint(self) -> int | None:
        """The position of the last message the broker confirmed (None: none yet)."""
        with self.target.transaction() as tx:
            stored = tx.checkpoint(self.name, BUILD)
        return None if stored is None else stored.position

    def run_once(self) -> int:
        """Publish what the integration streams hold after the checkpoint; how many messages
        (0 when another publisher holds the lease)."""
        if self.target.acquire_lease(self.name, self.holder, ttl_s=self.lease_ttl_s) is None:
            return 0
        published = 0
        batch: list[RecordedEvent] = []
        for recorded in self.store.read_all_after(self.checkpoint(), filter=self.filter):
            batch.append(recorded)
            if len(batch) >= self.batch_size:
                published += self._flush(batch)
        return published + self._flush(batch)

    def run(self, stop: threading.Event) -> None:
        """Publish until `stop` is set: hold the lease (wait while another worker has it),
        follow the streams, start again after a failure, pausing longer each time."""
        pause = self.restart_backoff_s
        try:
            while not stop.is_set():
                try:
                    if (
                        self.target.acquire_lease(self.name, self.holder, ttl_s=self.lease_ttl_s)
                        is None
                    ):
                        stop.wait(self.lease_ttl_s / 3)
                        continue
                    self._follow(stop)
                    pause = self.restart_backoff_s
                except Exception:
                    log.exception("%s: failed; starting again in %.1f s", self.name, pause)
                    self.broker.close()
                    stop.wait(pause)
                    pause = min(pause * 2, self.restart_backoff_max_s)
        finally:
            self.broker.close()
            self.target.release_lease(self.name, self.holder)

    def _follow(self, stop: threading.Event) -> None:
        subscription = self.store.subscribe_to_all(
            from_position=self.checkpoint(), filter=self.filter, include_caught_up=True
        )
        done = threading.Event()
        lost = threading.Event()
        threading.Thread(
            target=self._keep_lease, args=(stop, done, lost, subscription.stop), daemon=True
        ).start()
        stopper = threading.Thread(
            target=stop_on, args=(stop, done, subscription.stop, self.idle_s), daemon=True
        )
        stopper.start()
        batch: list[RecordedEvent] = []
        live = False
        try:
            with subscription:
                for item in subscription:
                    if isinstance(item, RecordedEvent):
                        batch.append(item)
                    elif isinstance(item, CaughtUp):
                        live = True
                    if batch and (live or len(batch) >= self.batch_size):
                        self._flush(batch)
        finally:
            done.set()
        if lost.is_set():
            raise LeaseLost(f"{self.name}: another publisher took the lease")

    def _keep_lease(
        self,
        stop: threading.Event,
        done: threading.Event,
        lost: threading.Event,
        end: Callable[[], None],
    ) -> None:
        while not done.wait(self.lease_ttl_s / 3):
            if stop.is_set():
                return
            if self.target.acquire_lease(self.name, self.holder, ttl_s=self.lease_ttl_s) is None:
                lost.set()
                end()
                return

    def _flush(self, batch: list[RecordedEvent]) -> int:
        """Publish `batch`, then store its last position, fenced by the lease; empties it."""
        if not batch:
            return 0
        self.broker.publish([to_message(recorded, self.registry) for recorded in batch])
        last = batch[-1]
        with self.target.transaction() as tx:
            if not tx.fence(self.name, self.holder, ttl_s=self.lease_ttl_s):
                raise LeaseLost(f"{self.name}: lost its lease; {len(batch)} messages will repeat")
            tx.save_checkpoint(self.name, BUILD, Checkpoint(last.position, last.recorded_at))
        count = len(batch)
        self.published += count
        batch.clear()
        return count


__all__ = ["BUILD", "Broker", "IntegrationPublisher", "LeaseLost", "to_message"]
