"""Crypto-shredding: after ForgetBuyer, no event, snapshot or read model shows the buyer's name,
email or address, and everything else still reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID, uuid4

from tests.domain.shop import Shop, lines
from write_side.basket import Basket, CheckoutBasket, UpdateBasket
from write_side.domain import ERASED, Sealed, snapshot_stream
from write_side.envelope import DomainEvent
from write_side.ordering import (
    Address,
    Buyer,
    BuyerAddressChanged,
    BuyerCreated,
    BuyerForgotten,
    CancelOrder,
    ChangeBuyerAddress,
    CompleteOrder,
    Contact,
    CreateBuyer,
    DeleteOrder,
    ForgetBuyer,
    Order,
    OrderCancelled,
    OrderCompleted,
    OrderDeleted,
    OrderPlaced,
    OrderStatus,
)


def shown(sealed: Sealed[Contact] | Sealed[Address], part: str) -> str:
    """A personal field as a read model shows it: the value, or ERASED."""
    value = sealed.value
    return ERASED if value is None else str(getattr(value, part))


@dataclass
class OrderHistory:
    """A test read model of buyers and their orders, projected from opened events.

    As a real projection must, it erases its own copies when it sees `BuyerForgotten`.
    """

    buyers: dict[UUID, dict[str, str]] = field(default_factory=dict)
    orders: dict[UUID, dict[str, object]] = field(default_factory=dict)
    position: int | None = None

    def project(self, shop: Shop, streams: set[str]) -> None:
        """Apply the events of `streams` after the last position seen."""
        repository = shop.repository
        for recorded in repository.store.read_all_after(self.position):
            self.position = recorded.position
            if recorded.stream not in streams:
                continue
            event = repository.registry.decode(recorded).event
            assert isinstance(event, DomainEvent)
            self.apply(recorded.stream, repository.crypto.open(event))

    def apply(self, stream: str, event: DomainEvent) -> None:
        """One event's change."""
        match event:
            case BuyerCreated():
                self.buyers[event.buyer_id] = {
                    "name": shown(event.contact, "name"),
                    "email": shown(event.contact, "email"),
                    "street": shown(event.address, "street"),
                    "city": shown(event.address, "city"),
                }
            case BuyerAddressChanged():
                buyer = self.buyers[_id_of(stream)]
                buyer.update(
                    street=shown(event.address, "street"), city=shown(event.address, "city")
                )
            case BuyerForgotten():
                buyer_id = _id_of(stream)
                self.buyers[buyer_id] = dict.fromkeys(self.buyers[buyer_id], ERASED)
                for order in self.orders.values():
                    if order["buyer_id"] == buyer_id:
                        order.update(name=ERASED, email=ERASED)
            case OrderPlaced():
                self.orders[event.order_id] = {
                    "buyer_id": event.buyer_id,
                    "name": shown(event.buyer, "name"),
                    "email": shown(event.buyer, "email"),
                    "total": event.total,
                    "books": [line.book_name for line in event.items],
                    "status": "New",
                }
            case OrderCompleted() | OrderCancelled():
                status = "Completed" if isinstance(event, OrderCompleted) else "Cancelled"
                self.orders[_id_of(stream)]["status"] = status
            case OrderDeleted():
                self.orders[_id_of(stream)]["deleted"] = True


def _id_of(stream: str) -> UUID:
    return UUID(stream.split("-", 1)[1])


def test_forgetting_a_buyer_erases_it_everywhere_and_nothing_else(shop: Shop) -> None:
    tag = uuid4().hex[:8]  # makes the personal data unique to this test, on a shared store
    personal = [f"Grace{tag}", f"grace.{tag}@navy.example", f"Row {tag}", f"Arlington{tag}"]
    moved = [f"Pier {tag}", f"Norfolk{tag}"]
    buyer = uuid4()
    shop.send(
        CreateBuyer(
            buyer_id=buyer,
            name=f"Grace{tag} Hopper",
            email=personal[1],
            address=Address(street=personal[2], city=personal[3], province="Virginia"),
        )
    )
    shop.send(
        ChangeBuyerAddress(
            buyer_id=buyer, address=Address(street=moved[0], city=moved[1], province="Virginia")
        )
    )
    dune = shop.books.create("Dune", price="12.50")
    for quantity in range(1, 21):  # 21 basket events: the basket gets a snapshot
        shop.send(UpdateBasket(buyer_id=buyer, items=lines({dune: quantity})))
    shipped = shop.order(buyer)  # 20 x 12.50
    shop.send(CheckoutBasket(buyer_id=buyer, order_id=shipped, items=lines({dune: 20})))
    shop.send(CompleteOrder(order_id=shipped))
    shop.send(DeleteOrder(order_id=shipped))  # 3 events: the order gets a snapshot
    shop.fill_basket(buyer, {dune: 1})
    cancelled = shop.order(buyer)
    shop.send(CancelOrder(order_id=cancelled, actor=str(buyer), roles=frozenset({"user"})))
    pending = shop.order(buyer)
    orders = [shipped, cancelled, pending]
    streams = {Buyer.stream_for(buyer), Basket.stream_for(buyer)}
    streams |= {Order.stream_for(order) for order in orders}
    history = OrderHistory()
    history.project(shop, streams)
    assert history.buyers[buyer]["name"] == f"Grace{tag} Hopper"  # readable before
    assert history.orders[shipped]["email"] == personal[1]

    shop.send(ForgetBuyer(buyer_id=buyer, actor="admin"))
    shop.send(CompleteOrder(order_id=pending))  # an order of a forgotten buyer still moves on
    shop.send(DeleteOrder(order_id=pending))  # and its snapshot is written after the forget
    history.project(shop, streams)
    rebuilt = OrderHistory()
    rebuilt.project(shop, streams)

    # No stored byte (event data, metadata, snapshots) ever held the personal data in clear.
    stored = [
        part
        for recorded in shop.repository.store.read_all(include_system=True)
        for part in (recorded.data, recorded.metadata)
    ]
    for secret in personal + moved:
        assert not any(secret.encode() in data for data in stored), secret
    for stream in [Basket.stream_for(buyer), Order.stream_for(shipped), Order.stream_for(pending)]:
        assert shop.repository.store.read_stream(snapshot_stream(stream))

    # The aggregates load, personal data erased, the rest intact.
    forgotten = shop.repository.load(Buyer, buyer)
    assert forgotten.forgotten
    assert forgotten.contact is not None
    assert forgotten.address is not None
    assert (forgotten.contact.erased, forgotten.contact.value) == (True, None)
    assert (forgotten.address.erased, forgotten.address.value) == (True, None)
    loaded = {order: shop.repository.load(Order, order) for order in orders}
    for aggregate in loaded.values():
        assert aggregate.buyer is not None
        assert aggregate.buyer.erased
        assert aggregate.buyer_id == buyer
    assert [aggregate.status for aggregate in loaded.values()] == [
        OrderStatus.COMPLETED,
        OrderStatus.CANCELLED,
        OrderStatus.COMPLETED,
    ]
    assert loaded[shipped].total == Decimal("250.00")
    assert [(line.book_name, line.quantity) for line in loaded[shipped].items] == [("Dune", 20)]
    assert shop.repository.load(Basket, buyer).checkouts == {shipped: True}

    # Every event still opens, and the read models show erased values only.
    for model in (history, rebuilt):
        assert model.buyers[buyer] == dict.fromkeys(["name", "email", "street", "city"], ERASED)
        for order in orders:
            row = model.orders[order]
            assert (row["name"], row["email"]) == (ERASED, ERASED)
            assert row["books"] == ["Dune"]
        assert model.orders[shipped]["total"] == Decimal("250.00")
        assert model.orders[cancelled]["status"] == "Cancelled"
        assert model.orders[pending]["deleted"] is True
