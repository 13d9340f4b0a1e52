"""Integration events to RabbitMQ (this machine's broker): a consumer receives each message
once and in order per partition key; a publisher that crashed before its checkpoint publishes
the same messages again, which the consumer drops by message id; one publisher at a time."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika  # type: ignore[import-untyped]
import pytest

from pipelines.amqp import (
    RabbitMqPublisher,
    declare_consumer_queue,
    partition_of,
    routing_key,
)
from pipelines.integration_publisher import IntegrationPublisher
from read_side.targets import MemoryTarget, Target
from read_side.targets.sql import SqlTarget
from tests.domain.conftest import START
from tests.domain.shop import lines, make_shop
from write_side.basket import CheckoutBasket
from write_side.domain import Crypto, ManualClock, Repository
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.integration import IntegrationEventRecorder
from write_side.keystore import SqliteKeyStore
from write_side.ordering import CancelOrder, CompleteOrder
from write_side.registry import REGISTRY

pytestmark = pytest.mark.rabbitmq

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
ORDERS = 6


@dataclass(frozen=True)
class Received:
    """A message as the consumer got it."""

    message_id: str
    type: str
    partition_key: str
    correlation_id: str
    routing_key: str
    body: bytes


class Consumer:
    """A test's own queue on a test's own exchange, bound to everything."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange
        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.channel = self.connection.channel()
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        declare_consumer_queue(
            self.channel, self.queue, exchange=exchange, durable=False, arguments=None
        )

    def drain(self) -> list[Received]:
        """Every message the queue holds now (the publisher's confirms came first)."""
        found: list[Received] = []
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return found
            found.append(
                Received(
                    properties.message_id,
                    properties.type,
                    properties.headers["partition_key"],
                    properties.correlation_id,
                    method.routing_key,
                    body,
                )
            )

    def close(self) -> None:
        self.channel.queue_delete(self.queue)
        self.channel.exchange_delete(self.exchange)
        self.connection.close()


@pytest.fixture
def exchange() -> str:
    return f"bookworm.integration.test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def consumer(exchange: str) -> Iterator[Consumer]:
    found = Consumer(exchange)
    yield found
    found.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    """A store holding interleaved orders (placed, checked out, then completed or cancelled);
    their integration events are recorded by `recorded`."""
    keys = SqliteKeyStore(tmp_path / "keys.db")
    with SqliteEventStore(tmp_path / "events.db") as events:
        shop = make_shop(Repository(events, REGISTRY, Crypto(keys), ManualClock(START)))
        book = shop.books.create("Dune", "9.99")
        buyers = [shop.buyer() for _ in range(ORDERS)]
        orders = []
        for buyer in buyers:
            shop.fill_basket(buyer, {book: 1})
            orders.append(shop.order(buyer))
        for buyer, order in zip(buyers, orders, strict=True):
            shop.send(CheckoutBasket(buyer_id=buyer, order_id=order, items=lines({book: 1})))
        for index, order in enumerate(orders):
            if index % 2:
                shop.send(CancelOrder(order_id=order, roles=frozenset({"admin"})))
            else:
                shop.send(CompleteOrder(order_id=order))
        yield events
    keys.close()


@pytest.fixture
def recorded(store: SqliteEventStore) -> SqliteEventStore:
    """The store with its integration events recorded."""
    assert IntegrationEventRecorder(store).run_once() == 3 * ORDERS
    return store


@pytest.fixture(params=["memory", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """Where the publisher keeps its checkpoint and lease."""
    if request.param == "memory":
        yield MemoryTarget()
        return
    sql = SqlTarget(f"sqlite:///{tmp_path / 'query.db'}")
    yield sql
    sql.close()


def publisher(
    store: SqliteEventStore, target: Target, exchange: str, **kw: Any
) -> IntegrationPublisher:
    return IntegrationPublisher(
        store, target, RabbitMqPublisher(AMQP_URL, exchange=exchange), batch_size=4, **kw
    )


def per_key(messages: list[Received]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in messages:
        found.setdefault(message.partition_key, []).append(message.type)
    return found


EXPECTED_ORDER = {
    0: [
        "UserCheckedOutIntegrationEvent",
        "BasketDeletedCompleteIntegrationEvent",
        "OrderStatusChangedToCompleteIntegrationEvent",
    ],
    1: [
        "UserCheckedOutIntegrationEvent",
        "BasketDeletedCompleteIntegrationEvent",
        "OrderStatusChangedToCancelIntegrationEvent",
    ],
}


def test_a_consumer_receives_each_message_once_in_order_per_key(
    recorded: SqliteEventStore, target: Target, exchange: str, consumer: Consumer
) -> None:
    first = publisher(recorded, target, exchange)

    assert first.run_once() == 3 * ORDERS
    received = consumer.drain()

    assert len(received) == 3 * ORDERS
    assert len({message.message_id for message in received}) == 3 * ORDERS
    keys = per_key(received)
    assert len(keys) == ORDERS
    assert sorted(map(tuple, keys.values())) == sorted(
        [tuple(EXPECTED_ORDER[0])] * (ORDERS // 2) + [tuple(EXPECTED_ORDER[1])] * (ORDERS // 2)
    )
    for message in received:
        assert message.routing_key == routing_key(message.type, message.partition_key)
        assert message.routing_key.endswith(f".p{partition_of(message.partition_key):02d}")
        assert f'"message_id":"{message.message_id}"'.encode() in message.body
        assert f'"correlation_id":"{message.correlation_id}"'.encode() in message.body
    # Published again from its checkpoint: nothing more.
    assert first.run_once() == 0
    assert consumer.drain() == []


def test_after_a_lost_checkpoint_the_repeats_are_the_same_messages_in_the_same_order(
    recorded: SqliteEventStore, exchange: str, consumer: Consumer
) -> None:
    publisher(recorded, MemoryTarget(), exchange).run_once()
    before = consumer.drain()

    # A publisher that crashed before storing any checkpoint: it starts from the beginning.
    publisher(recorded, MemoryTarget(), exchange).run_once()
    repeats = consumer.drain()

    assert repeats == before  # same ids, same bytes, same order
    seen: set[str] = set()
    handled = []
    for message in before + repeats:  # the consumer's inbox: drop what it has handled
        if message.message_id not in seen:
            seen.add(message.message_id)
            handled.append(message)
    assert handled == before


def test_one_publisher_at_a_time(
    recorded: SqliteEventStore, target: Target, exchange: str, consumer: Consumer
) -> None:
    holder = publisher(recorded, target, exchange, holder="worker-1")
    standby = publisher(recorded, target, exchange, holder="worker-2")

    assert holder.run_once() == 3 * ORDERS
    assert standby.run_once() == 0

    assert len(consumer.drain()) == 3 * ORDERS


def test_the_publisher_follows_new_integration_events_until_stopped(
    store: SqliteEventStore, target: Target, exchange: str, consumer: Consumer
) -> None:
    live = publisher(store, target, exchange, idle_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=live.run, args=(stop,))
    thread.start()
    received: list[Received] = []
    try:
        IntegrationEventRecorder(store).run_once()  # while the publisher waits on the tail
        for _ in range(400):
            received += consumer.drain()
            if len(received) >= 3 * ORDERS:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)

    assert not thread.is_alive()
    assert len(received) == 3 * ORDERS
    assert live.checkpoint() == store.head_position(IntegrationPublisher.filter)
    assert len(per_key(received)) == ORDERS
