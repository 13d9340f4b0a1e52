"""The tables of `baskets`: each buyer's basket, its items, and the books they refer to.

| table (view)      | one row per                                                    |
|-------------------|----------------------------------------------------------------|
| `baskets`         | buyer: whether its basket is open, when it last changed        |
| `baskets_items`   | item of an open basket: book id, quantity, when it was added   |
| `baskets_books`   | book: its current name, price, discount price, stock, deleted  |

The books are this model's own copy of the catalog (from the book events), so a basket shows
each book's current name and prices joined at read time, and a rename or reprice changes
every basket holding the book at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, Table, Text, Uuid

from read_side.projections.ordering_sql import MoneyCents, table_of
from read_side.targets.sql import UtcDateTime

NAME = "baskets"
ITEMS = "items"
BOOKS = "books"
SUFFIXES = ("", ITEMS, BOOKS)


def basket_columns() -> list[Any]:
    """One row per buyer that ever had a basket."""
    return [
        Column("buyer_id", Uuid, primary_key=True),
        Column("is_open", Boolean, nullable=False),
        Column("last_order_id", Uuid),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("version", Integer, nullable=False),
    ]


def item_columns() -> list[Any]:
    """One row per item of an open basket."""
    return [
        Column("buyer_id", Uuid, primary_key=True),
        Column("book_id", Uuid, primary_key=True),
        Column("quantity", Integer, nullable=False),
        Column("added_at", UtcDateTime, nullable=False),
        # The `$all` position of the event that added it: the items' display order.
        Column("seq", BigInteger, nullable=False),
    ]


def book_columns() -> list[Any]:
    """One row per book of the catalog."""
    return [
        Column("book_id", Uuid, primary_key=True),
        Column("name", Text, nullable=False),
        Column("price", MoneyCents, nullable=False),
        Column("discount_price", MoneyCents),
        Column("in_stock", Boolean, nullable=False),
        Column("deleted", Boolean, nullable=False),
    ]


COLUMNS = {"": basket_columns, ITEMS: item_columns, BOOKS: book_columns}


@dataclass(frozen=True)
class BasketTables:
    """The three tables of one build, or the three stable views."""

    baskets: Table
    items: Table
    books: Table

    @classmethod
    def named(cls, name: str) -> BasketTables:
        """The tables `<name>`, `<name>_items`, `<name>_books`."""
        return cls(
            table_of(name, basket_columns),
            table_of(f"{name}_{ITEMS}", item_columns),
            table_of(f"{name}_{BOOKS}", book_columns),
        )


#: What queries read: the live build through the stable views.
VIEWS = BasketTables.named(NAME)
