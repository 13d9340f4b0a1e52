"""What other contexts may ask the catalog about a book (Basket and Ordering do)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class BookInfo:
    """A book as another context needs it: to show it, price it and tell if it can be sold."""

    id: UUID
    name: str
    price: Decimal
    discount_price: Decimal | None
    in_stock: bool
    deleted: bool

    @property
    def unit_price(self) -> Decimal:
        """What one copy costs now: the discount price if any, else the price."""
        return self.price if self.discount_price is None else self.discount_price

    @property
    def sellable(self) -> bool:
        """Not deleted and in stock."""
        return self.in_stock and not self.deleted


class BookLookup(ABC):
    """Answers what a book is now (from its stream: always current, never a stale model)."""

    @abstractmethod
    def find(self, book_id: UUID) -> BookInfo | None:
        """The book, or None when it never existed."""
