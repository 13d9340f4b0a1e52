"""The Order aggregate (stream `order-{id}`, loaded from a snapshot) and its events.

An order is placed New from the buyer's basket, with the buyer's name and email captured
`Sealed` in `OrderPlaced` (so forgetting the buyer erases them here too), the items priced at
placement and their total. Its status then goes New -> Completed or New -> Cancelled, never
anything else; a soft delete (an admin's, or the saga's compensation) keeps the stream.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from write_side.domain import Aggregate, DomainError, NotFound, Sealed, applies
from write_side.envelope import DomainEvent, Money
from write_side.ordering.personal import Contact
from write_side.registry import REGISTRY


class OrderStatus(StrEnum):
    """Where an order is: New, then Completed or Cancelled."""

    NEW = "New"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class OrderLine(BaseModel):
    """One item of an order: the book as it was sold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    book_id: UUID
    book_name: str
    quantity: int = Field(gt=0)
    unit_price: Money
    """The book's discount price if it had one at placement, else its price."""


@REGISTRY.event("OrderPlaced")
class OrderPlaced(DomainEvent):
    """A buyer placed an order from its basket; the saga then checks the basket out."""

    order_id: UUID
    buyer_id: UUID
    buyer: Sealed[Contact]
    """The buyer's name and email at placement (personal: erased when the buyer is forgotten)."""
    items: tuple[OrderLine, ...]
    total: Money
    """The sum of quantity * unit price."""


@REGISTRY.event("OrderCompleted")
class OrderCompleted(DomainEvent):
    """An admin completed (shipped) a New order."""


@REGISTRY.event("OrderCancelled")
class OrderCancelled(DomainEvent):
    """The buyer, an admin or the saga cancelled a New order."""

    reason: str


@REGISTRY.event("OrderDeleted")
class OrderDeleted(DomainEvent):
    """The order was soft-deleted: by an admin, or by the saga when the basket checkout failed."""

    reason: str


def total_of(items: tuple[OrderLine, ...]) -> Decimal:
    """The sum of quantity * unit price, exact."""
    return sum((line.unit_price * line.quantity for line in items), Decimal("0.00"))


class Order(Aggregate):
    """An order: who placed it, what it holds, its status and whether it was deleted."""

    category = "order"
    # Place, complete or cancel, delete: a finished order loads from its snapshot.
    snapshot_every = 3

    buyer_id: UUID | None = None
    buyer: Sealed[Contact] | None = None
    items: tuple[OrderLine, ...] = ()
    total: Money = Decimal("0.00")
    status: OrderStatus | None = None
    deleted: bool = False

    def place(
        self, buyer_id: UUID, buyer: Sealed[Contact], items: tuple[OrderLine, ...]
    ) -> list[DomainEvent]:
        """Decide `PlaceOrder` once its handler has checked the buyer, basket and books."""
        if self.exists:
            raise DomainError("order_exists", f"order {self.id} exists already")
        if not items:
            raise DomainError("basket_empty", "an order holds at least one item")
        return [
            OrderPlaced(
                order_id=self.id,
                buyer_id=buyer_id,
                buyer=buyer,
                items=items,
                total=total_of(items),
            )
        ]

    def complete(self) -> list[DomainEvent]:
        """Decide `CompleteOrder`: New -> Completed."""
        self._require_new("completed")
        return [OrderCompleted()]

    def cancel(self, reason: str) -> list[DomainEvent]:
        """Decide `CancelOrder` (its handler has checked who may): New -> Cancelled."""
        self._require_new("cancelled")
        return [OrderCancelled(reason=reason)]

    def delete(self, reason: str) -> list[DomainEvent]:
        """Decide `DeleteOrder`: a soft delete, in any status; nothing when deleted already."""
        self.require_exists()
        return [] if self.deleted else [OrderDeleted(reason=reason)]

    def require_exists(self) -> None:
        """Raise `NotFound` unless the order was placed."""
        if not self.exists:
            raise NotFound("order_not_found", f"there is no order {self.id}", field="order_id")

    def _require_new(self, becoming: str) -> None:
        self.require_exists()
        if self.deleted:
            raise DomainError("order_deleted", f"order {self.id} is deleted")
        if self.status is not OrderStatus.NEW:
            raise DomainError(
                "order_not_new",
                f"order {self.id} is {self.status}: only a New order can be {becoming}",
            )

    @applies(OrderPlaced)
    def _placed(self, event: OrderPlaced) -> None:
        self.buyer_id = event.buyer_id
        self.buyer = event.buyer
        self.items = event.items
        self.total = event.total
        self.status = OrderStatus.NEW

    @applies(OrderCompleted)
    def _completed(self, event: OrderCompleted) -> None:
        self.status = OrderStatus.COMPLETED

    @applies(OrderCancelled)
    def _cancelled(self, event: OrderCancelled) -> None:
        self.status = OrderStatus.CANCELLED

    @applies(OrderDeleted)
    def _deleted(self, event: OrderDeleted) -> None:
        self.deleted = True


__all__ = [
    "Order",
    "OrderCancelled",
    "OrderCompleted",
    "OrderDeleted",
    "OrderLine",
    "OrderPlaced",
    "OrderStatus",
    "total_of",
]
