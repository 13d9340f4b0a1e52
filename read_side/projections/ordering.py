"""`order_history`: orders per buyer with items and status history (SQL target).

Each batch is folded in Python: the orders it touches are loaded once, changed event by event,
and written back with one statement per table. The buyer's name and email captured (sealed) in
`OrderPlaced` are opened when the order is projected; `BuyerForgotten` erases them from every
order of the buyer and is remembered, so no later event can write them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Index, Table, select, update

from read_side.projection import Projection
from read_side.projections import ordering_tables as t
from read_side.projections.buyers_personal import ERASED, PersonalData
from read_side.projections.ordering_sql import (
    add_rows,
    occurred_at,
    put_rows,
    rows_by_key,
    stream_id,
    table_of,
)
from read_side.targets.sql import SqlTx
from write_side.chunking import chunks
from write_side.domain import KeyStore
from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.ordering import (
    BuyerForgotten,
    OrderCancelled,
    OrderCompleted,
    OrderDeleted,
    OrderPlaced,
    OrderStatus,
)
from write_side.registry import REGISTRY

#: The history entry of a soft delete (the status itself stays what it was).
DELETED = "Deleted"


@dataclass
class _Batch:
    """What one batch changes, gathered before it is written."""

    orders: dict[UUID, dict[str, Any]]
    forgotten: set[UUID]
    changed: set[UUID] = field(default_factory=set)
    items: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    newly_forgotten: dict[UUID, datetime] = field(default_factory=dict)


class OrderHistoryProjection(Projection[SqlTx]):
    """Orders with their lines and every status change, erased with their buyer."""

    name: ClassVar[str] = t.NAME
    handles: ClassVar[EventFilter] = EventFilter.event_types(
        OrderPlaced.event_type,
        OrderCompleted.event_type,
        OrderCancelled.event_type,
        OrderDeleted.event_type,
        BuyerForgotten.event_type,
    )
    target_kind: ClassVar[str] = "sql"

    def __init__(self, keys: KeyStore | None = None) -> None:
        self.personal = PersonalData(keys, t.NAME)
        self._tables: dict[tuple[int, str], Table] = {}

    def tables(self) -> Sequence[str]:
        return t.SUFFIXES

    def table(self, tx: SqlTx, build: int, suffix: str = "") -> Table:
        """One table of `build`."""
        key = (build, suffix)
        if key not in self._tables:
            self._tables[key] = table_of(tx.table(self.name, build, suffix), t.COLUMNS[suffix])
        return self._tables[key]

    def create(self, tx: SqlTx, build: int) -> None:
        for suffix in t.SUFFIXES:
            self.table(tx, build, suffix).create(tx.connection)
        orders = self.table(tx, build)
        for name, columns in (
            ("by_buyer", (orders.c.buyer_id, orders.c.placed_at, orders.c.placed_position)),
            ("by_time", (orders.c.placed_at, orders.c.placed_position)),
        ):
            Index(f"{orders.name}_{name}", *columns).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        stored = [REGISTRY.decode(recorded) for recorded in events]
        batch = self._load(tx, build, stored)
        for one in stored:
            self._fold(batch, one)
        self._write(tx, build, batch)

    # -- folding ---------------------------------------------------------------------------

    def _fold(self, batch: _Batch, stored: StoredEvent) -> None:
        event, at = stored.event, occurred_at(stored)
        if isinstance(event, BuyerForgotten):
            buyer_id = stream_id(stored.stream)
            batch.forgotten.add(buyer_id)
            batch.newly_forgotten[buyer_id] = at
            for order in batch.orders.values():
                if order["buyer_id"] == buyer_id:
                    _erase(order)
            return
        order_id = stream_id(stored.stream)
        if isinstance(event, OrderPlaced):
            if order_id not in batch.orders:
                batch.orders[order_id] = self._placed(batch, event, stored, at)
                batch.changed.add(order_id)
            return
        if order_id not in batch.orders:
            raise LookupError(f"{stored.type} of order {order_id}, which was never placed")
        order = batch.orders[order_id]
        entry: dict[str, Any] = {"order_id": order_id, "revision": stored.revision}
        if isinstance(event, OrderCompleted):
            order["status"] = entry["status"] = OrderStatus.COMPLETED.value
        elif isinstance(event, OrderCancelled):
            order["status"] = entry["status"] = OrderStatus.CANCELLED.value
            entry["reason"] = event.reason
        elif isinstance(event, OrderDeleted):
            order["deleted"] = True
            entry.update(status=DELETED, reason=event.reason)
        else:
            raise TypeError(f"{t.NAME} does not handle {stored.type}")
        order.update(updated_at=at, version=stored.revision)
        batch.history.append({"reason": None, **entry, "occurred_at": at})
        batch.changed.add(order_id)

    def _placed(
        self, batch: _Batch, event: OrderPlaced, stored: StoredEvent, at: datetime
    ) -> dict[str, Any]:
        forgotten = event.buyer_id in batch.forgotten
        contact = None if forgotten else self.personal.opened(event).buyer.value
        order_id = event.order_id
        batch.items.extend(
            {
                "order_id": order_id,
                "line": n,
                "book_id": line.book_id,
                "book_name": line.book_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for n, line in enumerate(event.items)
        )
        batch.history.append(
            {
                "order_id": order_id,
                "revision": stored.revision,
                "status": OrderStatus.NEW.value,
                "reason": None,
                "occurred_at": at,
            }
        )
        order = {
            "order_id": order_id,
            "buyer_id": event.buyer_id,
            "buyer_name": contact.name if contact else ERASED,
            "buyer_email": contact.email if contact else ERASED,
            "erased": contact is None,
            "status": OrderStatus.NEW.value,
            "total": event.total,
            "item_count": len(event.items),
            "deleted": False,
            "placed_at": at,
            "updated_at": at,
            "placed_position": stored.position,
            "version": stored.revision,
        }
        return order

    # -- reading and writing ---------------------------------------------------------------

    def _load(self, tx: SqlTx, build: int, stored: list[StoredEvent]) -> _Batch:
        buyers: set[UUID] = set()
        orders: set[UUID] = set()
        for one in stored:
            if one.type == OrderPlaced.event_type:
                placed = one.event
                assert isinstance(placed, OrderPlaced)
                buyers.add(placed.buyer_id)
            if one.type != BuyerForgotten.event_type:
                orders.add(stream_id(one.stream))
        table, gone = self.table(tx, build), self.table(tx, build, t.FORGOTTEN)
        batch = _Batch(orders={}, forgotten=set())
        batch.orders.update(rows_by_key(tx.connection, table, orders))
        for chunk in chunks(sorted(buyers)):
            found = tx.connection.scalars(select(gone.c.buyer_id).where(gone.c.buyer_id.in_(chunk)))
            batch.forgotten.update(found)
        return batch

    def _write(self, tx: SqlTx, build: int, batch: _Batch) -> None:
        conn = tx.connection
        orders = self.table(tx, build)
        put_rows(conn, orders, [batch.orders[o] for o in sorted(batch.changed)])
        add_rows(conn, self.table(tx, build, t.ITEMS), batch.items)
        add_rows(conn, self.table(tx, build, t.HISTORY), batch.history)
        gone = [{"buyer_id": b, "forgotten_at": at} for b, at in batch.newly_forgotten.items()]
        add_rows(conn, self.table(tx, build, t.FORGOTTEN), gone)
        for chunk in chunks(sorted(batch.newly_forgotten)):
            conn.execute(
                update(orders)
                .where(orders.c.buyer_id.in_(chunk))
                .values(buyer_name=ERASED, buyer_email=ERASED, erased=True)
            )


def _erase(order: dict[str, Any]) -> None:
    order.update(buyer_name=ERASED, buyer_email=ERASED, erased=True)
