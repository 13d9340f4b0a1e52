"""The tables of `order_history`: orders, their items, their status history, forgotten buyers.

| table (view)              | one row per                                              |
|---------------------------|----------------------------------------------------------|
| `order_history`           | order: buyer, captured name and email, status, total     |
| `order_history_items`     | order line: book id and name, quantity, unit price       |
| `order_history_history`   | order event (New, Completed, Cancelled, Deleted) and when |
| `order_history_forgotten` | buyer seen forgotten (its name and email stay erased)    |
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, Table, Text, Uuid

from read_side.projections.ordering_sql import MoneyCents, table_of
from read_side.targets.sql import UtcDateTime

NAME = "order_history"
ITEMS = "items"
HISTORY = "history"
FORGOTTEN = "forgotten"
SUFFIXES = ("", ITEMS, HISTORY, FORGOTTEN)


def order_columns() -> list[Any]:
    """One row per order."""
    return [
        Column("order_id", Uuid, primary_key=True),
        Column("buyer_id", Uuid, nullable=False),
        Column("buyer_name", Text, nullable=False),
        Column("buyer_email", Text, nullable=False),
        Column("erased", Boolean, nullable=False),
        Column("status", Text, nullable=False),
        Column("total", MoneyCents, nullable=False),
        Column("item_count", Integer, nullable=False),
        Column("deleted", Boolean, nullable=False),
        Column("placed_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        # The `$all` position of OrderPlaced: the tie-breaker of "newest first".
        Column("placed_position", BigInteger, nullable=False),
        Column("version", Integer, nullable=False),
    ]


def item_columns() -> list[Any]:
    """One row per order line, numbered from 0 in the order of `OrderPlaced.items`."""
    return [
        Column("order_id", Uuid, primary_key=True),
        Column("line", Integer, primary_key=True),
        Column("book_id", Uuid, nullable=False),
        Column("book_name", Text, nullable=False),
        Column("quantity", Integer, nullable=False),
        Column("unit_price", MoneyCents, nullable=False),
    ]


def history_columns() -> list[Any]:
    """One row per event of an order (keyed by its stream revision, so a replay adds none)."""
    return [
        Column("order_id", Uuid, primary_key=True),
        Column("revision", Integer, primary_key=True),
        Column("status", Text, nullable=False),
        Column("reason", Text),
        Column("occurred_at", UtcDateTime, nullable=False),
    ]


def forgotten_columns() -> list[Any]:
    """One row per buyer this model has seen forgotten."""
    return [
        Column("buyer_id", Uuid, primary_key=True),
        Column("forgotten_at", UtcDateTime, nullable=False),
    ]


COLUMNS = {
    "": order_columns,
    ITEMS: item_columns,
    HISTORY: history_columns,
    FORGOTTEN: forgotten_columns,
}


def view(suffix: str) -> Table:
    """The stable view of one of the model's tables, for queries."""
    return table_of(f"{NAME}_{suffix}" if suffix else NAME, COLUMNS[suffix])


ORDERS = view("")
ORDER_ITEMS = view(ITEMS)
ORDER_HISTORY = view(HISTORY)
