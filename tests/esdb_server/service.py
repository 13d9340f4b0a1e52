"""What every gRPC service of the test server shares, and how a service plugs in.

A service module offers `register(server, shared)`, which adds its servicer to the gRPC
server; `server.SERVICES` lists them (Streams, PersistentSubscriptions on the groups port,
Gossip).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc  # type: ignore[import-untyped]

from write_side.eventstore import EventStore

#: EventStoreDB's default `MaxAppendSize` (1 MiB).
DEFAULT_MAX_APPEND_SIZE = 1024 * 1024


@dataclass
class SharedState:
    """The store and the server's identity, as every servicer sees them."""

    store: EventStore
    host: str
    port: int
    max_append_size: int = DEFAULT_MAX_APPEND_SIZE
    instance_id: uuid.UUID = field(default_factory=uuid.uuid4)
    _subscriptions: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def active_subscriptions(self) -> int:
        """How many subscriptions are open right now."""
        return self._subscriptions

    def subscription_opened(self) -> None:
        """Count a subscription in."""
        with self._lock:
            self._subscriptions += 1

    def subscription_closed(self) -> None:
        """Count a subscription out."""
        with self._lock:
            self._subscriptions -= 1


#: Adds one service's servicer to the gRPC server.
Registration = Callable[[grpc.Server, SharedState], None]
