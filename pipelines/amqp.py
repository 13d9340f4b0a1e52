"""RabbitMQ for integration events (`BOOKWORM_AMQP_URL`): the topology, a publisher that
waits for the broker's confirms, and how a consumer's queue is declared.

Topology: one durable topic exchange (`bookworm.integration`). A message's routing key is
`<event type>.p<NN>`, NN being its partition (a CRC-32 of its partition key, modulo 16), so a
consumer binds what it wants: `#` (everything, one queue), `UserCheckedOutIntegrationEvent.*`
(one type), `*.p03` (one partition, to spread a load over 16 queues while keeping each key's
order). Every message is persistent and carries `message_id`, `type`, `correlation_id`,
`timestamp` (its creation time) and a `partition_key` header; the body is the integration
event's JSON.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pika  # type: ignore[import-untyped]
from pika.adapters.blocking_connection import BlockingChannel  # type: ignore[import-untyped]

#: The exchange integration events are published to.
EXCHANGE = "bookworm.integration"
#: How many partitions routing keys spread partition keys over.
PARTITIONS = 16


def partition_of(partition_key: str, partitions: int = PARTITIONS) -> int:
    """The partition of a key: stable across processes and versions (CRC-32, not `hash`)."""
    return zlib.crc32(partition_key.encode()) % partitions


def routing_key(event_type: str, partition_key: str) -> str:
    """`<event type>.p<NN>`."""
    return f"{event_type}.p{partition_of(partition_key):02d}"


@dataclass(frozen=True, slots=True)
class AmqpMessage:
    """One integration event as it goes to the broker."""

    message_id: str
    type: str
    partition_key: str
    correlation_id: str
    timestamp: int
    """Its creation time, in seconds since the Unix epoch (AMQP's resolution)."""
    body: bytes = field(repr=False)

    @property
    def routing_key(self) -> str:
        """Where the exchange routes it."""
        return routing_key(self.type, self.partition_key)


class RabbitMqPublisher:
    """Publishes to the exchange over one channel in confirm mode: `publish` returns once the
    broker has taken (persisted and routed) every message, in the order given."""

    def __init__(self, url: str, *, exchange: str = EXCHANGE) -> None:
        self.url = url
        self.exchange = exchange
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def __repr__(self) -> str:
        return f"RabbitMqPublisher(exchange={self.exchange!r})"

    def publish(self, messages: Sequence[AmqpMessage]) -> None:
        """Publish `messages` in order; raises when the broker refuses one or the connection
        breaks (then some may have been published: the caller publishes them again)."""
        try:
            channel = self._open()
            for message in messages:
                # In confirm mode a blocking publish returns after the broker's ack; a nack
                # raises NackError.
                channel.basic_publish(
                    self.exchange,
                    message.routing_key,
                    message.body,
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=message.message_id,
                        type=message.type,
                        correlation_id=message.correlation_id,
                        timestamp=message.timestamp,
                        headers={"partition_key": message.partition_key},
                    ),
                )
        except Exception:
            self.close()  # a broken channel is not used again
            raise

    def close(self) -> None:
        """Close the connection (the next `publish` opens another)."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.close()

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = pika.BlockingConnection(pika.URLParameters(self.url))
        channel = self._connection.channel()
        channel.confirm_delivery()
        declare_exchange(channel, self.exchange)
        self._channel = channel
        return channel


def declare_exchange(channel: BlockingChannel, exchange: str = EXCHANGE) -> None:
    """The durable topic exchange of integration events (idempotent)."""
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)


def declare_consumer_queue(
    channel: BlockingChannel,
    queue: str,
    *,
    bindings: Sequence[str] = ("#",),
    exchange: str = EXCHANGE,
    durable: bool = True,
    arguments: dict[str, Any] | None = None,
) -> None:
    """A consumer's queue, bound to the exchange by `bindings`.

    A single active consumer (`x-single-active-consumer`) reads it at a time, so the queue's
    order, which is the order of publication, is the order of handling; further consumers
    wait as standbys.
    """
    declare_exchange(channel, exchange)
    channel.queue_declare(
        queue,
        durable=durable,
        arguments={"x-single-active-consumer": True, **(arguments or {})},
    )
    for binding in bindings:
        channel.queue_bind(queue, exchange, routing_key=binding)


__all__ = [
    "EXCHANGE",
    "PARTITIONS",
    "AmqpMessage",
    "RabbitMqPublisher",
    "declare_consumer_queue",
    "declare_exchange",
    "partition_of",
    "routing_key",
]
