"""Orders: a page of them (newest first, by status), and one order with items and history.

Who asks decides what is seen: a user (a `Caller` with its buyer id) sees only its own orders,
and never a deleted one; an admin sees every order, and deleted ones when it asks for them.
An order the caller may not see reads as absent (None), exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from read_side.projections.ordering_tables import ORDER_HISTORY, ORDER_ITEMS, ORDERS
from read_side.queries.paging import Page, PageRequest
from write_side.ordering import OrderStatus

HistoryStatus = Literal["New", "Completed", "Cancelled", "Deleted"]


class NotAllowed(PermissionError):
    """The caller's role may not ask this query (a 403 at the edge)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: a user (its id is its buyer id) or an admin."""

    buyer_id: UUID | None = None
    admin: bool = False

    @classmethod
    def user(cls, buyer_id: UUID) -> Caller:
        """A customer, who sees only its own buyer, orders and basket."""
        return cls(buyer_id=buyer_id)

    @classmethod
    def administrator(cls) -> Caller:
        """An admin, who sees everything."""
        return cls(admin=True)

    def __post_init__(self) -> None:
        if not self.admin and self.buyer_id is None:
            raise ValueError("a caller is an admin or a user with a buyer id")


class OrderSummary(BaseModel):
    """An order as listed."""

    model_config = ConfigDict(frozen=True)

    order_id: UUID
    buyer_id: UUID
    buyer_name: str
    """The name captured at placement; `[erased]` once the buyer is forgotten."""
    status: OrderStatus
    total: Decimal
    item_count: int
    placed_at: datetime
    updated_at: datetime
    deleted: bool
    version: int
    """The revision of the order's stream this row reflects (its ETag)."""


class OrderLineView(BaseModel):
    """One item of an order, as it was sold."""

    model_config = ConfigDict(frozen=True)

    book_id: UUID
    book_name: str
    quantity: int
    unit_price: Decimal


class StatusChange(BaseModel):
    """One step of an order's history, at its business time."""

    model_config = ConfigDict(frozen=True)

    status: HistoryStatus
    reason: str | None
    occurred_at: datetime


class OrderDetail(OrderSummary):
    """An order with its buyer's email, its items and its status history (oldest first)."""

    buyer_email: str
    items: list[OrderLineView]
    history: list[StatusChange]


def list_orders(
    conn: Connection,
    caller: Caller,
    *,
    status: OrderStatus | None = None,
    buyer_id: UUID | None = None,
    include_deleted: bool = False,
    page: PageRequest | None = None,
) -> Page[OrderSummary]:
    """Orders newest first (business time), optionally of one status.

    A user gets its own orders (`buyer_id`, if given, must be its own); an admin gets every
    buyer's, or `buyer_id`'s. Deleted orders appear only to an admin with `include_deleted`.
    """
    page = page or PageRequest()
    where = _visible(caller, buyer_id, include_deleted)
    if status is not None:
        where = and_(where, ORDERS.c.status == OrderStatus(status).value)
    total = conn.scalar(select(func.count()).select_from(ORDERS).where(where)) or 0
    rows = conn.execute(
        select(ORDERS)
        .where(where)
        .order_by(ORDERS.c.placed_at.desc(), ORDERS.c.placed_position.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).mappings()
    return Page[OrderSummary].of([OrderSummary.model_validate(dict(r)) for r in rows], page, total)


def get_order(conn: Connection, caller: Caller, order_id: UUID) -> OrderDetail | None:
    """One order with items and history; None when absent or not the caller's to see."""
    row = (
        conn.execute(
            select(ORDERS).where(ORDERS.c.order_id == order_id, _visible(caller, None, True))
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    items = conn.execute(
        select(ORDER_ITEMS).where(ORDER_ITEMS.c.order_id == order_id).order_by(ORDER_ITEMS.c.line)
    ).mappings()
    history = conn.execute(
        select(ORDER_HISTORY)
        .where(ORDER_HISTORY.c.order_id == order_id)
        .order_by(ORDER_HISTORY.c.revision)
    ).mappings()
    return OrderDetail.model_validate(
        {
            **row,
            "items": [dict(item) for item in items],
            "history": [dict(change) for change in history],
        }
    )


def _visible(caller: Caller, buyer_id: UUID | None, include_deleted: bool) -> ColumnElement[bool]:
    if not caller.admin:
        if buyer_id is not None and buyer_id != caller.buyer_id:
            raise NotAllowed("a user sees only its own orders")
        buyer_id, include_deleted = caller.buyer_id, False
    where: ColumnElement[bool] = true()
    if buyer_id is not None:
        where = and_(where, ORDERS.c.buyer_id == buyer_id)
    if not include_deleted:
        where = and_(where, ~ORDERS.c.deleted)
    return where
