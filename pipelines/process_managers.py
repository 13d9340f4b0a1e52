"""Process managers on persistent subscription groups: each reacts to the events it wants, at
least once, and may run in several workers at once (competing consumers).

A process manager is a plain object with a `name` (its group), a `filter` (the events it wants)
and `handle(stored_event)`, which must be safe to call twice for one event (commands with ids
derived from the event's id, or an inbox). The runner creates its group on first use, hands
each delivered event to `handle`, acknowledges it when `handle` returns and asks for a retry
when it raises; after the group's last retry the event is parked, for `bookworm groups
replay-parked` once the cause is fixed. A dropped consumer is reopened with a growing pause.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from write_side.domain.process import ProcessManager
from write_side.envelope import EventRegistry
from write_side.groups import DeliveredEvent, GroupConsumer, GroupSettings, SubscriptionGroups
from write_side.groups.errors import GroupAlreadyExists

log = logging.getLogger(__name__)


#: Group settings of process managers: a slow reaction (an SMTP server, a broker) gets a
#: minute; a failing one is retried 5 times, then parked.
PROCESS_GROUP = GroupSettings(message_timeout=60.0, max_retry_count=5)


@dataclass
class ProcessStats:
    """What a runner did since it started."""

    handled: int = 0
    failures: int = 0
    restarts: int = 0
    last_error: str | None = None
    running: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ProcessManagerRunner:
    """Feeds one process manager from its group until stopped."""

    def __init__(
        self,
        groups: SubscriptionGroups,
        manager: ProcessManager,
        registry: EventRegistry,
        *,
        settings: GroupSettings = PROCESS_GROUP,
        receive_timeout_s: float = 0.25,
        restart_backoff_s: float = 0.2,
        restart_backoff_max_s: float = 10.0,
    ) -> None:
        self.groups = groups
        self.manager = manager
        self.registry = registry
        self.settings = settings
        self.receive_timeout_s = receive_timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.restart_backoff_max_s = restart_backoff_max_s
        self.stats = ProcessStats()

    @property
    def name(self) -> str:
        """The process manager's (and its group's) name."""
        return self.manager.name

    def ensure_group(self) -> None:
        """Create the group on `$all` from the start, unless it exists (its settings kept)."""
        try:
            self.groups.create_subscription_to_all(
                self.name, filter=self.manager.filter, settings=self.settings
            )
            log.info("%s: created its subscription group", self.name)
        except GroupAlreadyExists:
            pass

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; reopen the consumer after a failure, pausing longer
        each time (the events it held go back to the group)."""
        pause = self.restart_backoff_s
        self.stats.running = True
        try:
            while not stop.is_set():
                try:
                    self.ensure_group()
                    self._consume(stop)
                    pause = self.restart_backoff_s
                except Exception as error:
                    self.stats.restarts += 1
                    self.stats.last_error = repr(error)
                    log.exception("%s: consumer failed; reopening in %.1f s", self.name, pause)
                    stop.wait(pause)
                    pause = min(pause * 2, self.restart_backoff_max_s)
        finally:
            self.stats.running = False

    def _consume(self, stop: threading.Event) -> None:
        with self.groups.read_subscription_to_all(self.name) as consumer:
            while not stop.is_set():
                delivered = consumer.receive(self.receive_timeout_s)
                if delivered is not None:
                    self._handle(consumer, delivered)

    def _handle(self, consumer: GroupConsumer, delivered: DeliveredEvent) -> bool:
        """Hand one event to the manager; ack it, or ask for a retry. True when handled."""
        try:
            self.manager.handle(self.registry.decode(delivered.event))
        except Exception as error:
            with self.stats.lock:
                self.stats.failures += 1
                self.stats.last_error = repr(error)
            log.warning(
                "%s: %s at %s failed (retry %d): %r",
                self.name,
                delivered.event.type,
                delivered.event.position,
                delivered.retry_count,
                error,
            )
            consumer.nack(delivered, "retry")
            return False
        consumer.ack(delivered)
        with self.stats.lock:
            self.stats.handled += 1
        return True

    def drain(self, *, idle_s: float = 1.0) -> int:
        """Handle what the group has until nothing comes for `idle_s`; how many were handled
        (for one-off runs: the demo, tests). Failed events are retried, then parked."""
        self.ensure_group()
        handled = 0
        with self.groups.read_subscription_to_all(self.name) as consumer:
            while (delivered := consumer.receive(idle_s)) is not None:
                handled += self._handle(consumer, delivered)
        return handled
