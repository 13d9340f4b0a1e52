"""Events of the catalog: books, authors, categories and publishers.

Each aggregate's stream names it (`book-{id}`, …), so only an aggregate's first event repeats
its id. Money is the envelope's `Money` (a Decimal with 2 places, stored as a JSON string).
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from write_side.envelope import DomainEvent, Money
from write_side.registry import REGISTRY


class BookStatus(StrEnum):
    """Whether a book can be sold now."""

    IN_STOCK = "InStock"
    OUT_OF_STOCK = "OutOfStock"


# -- books --------------------------------------------------------------------------------------


@REGISTRY.event("BookCreated")
class BookCreated(DomainEvent):
    """A book was added to the catalog: its full initial state."""

    book_id: UUID
    name: str
    description: str
    image: str | None
    price: Money
    discount_price: Money | None
    status: BookStatus
    category_id: UUID
    publisher_id: UUID
    author_ids: tuple[UUID, ...]


@REGISTRY.event("BookDetailsUpdated")
class BookDetailsUpdated(DomainEvent):
    """A book's name, description and image reference now read so."""

    name: str
    description: str
    image: str | None


@REGISTRY.event("BookPriceChanged")
class BookPriceChanged(DomainEvent):
    """A book's price and discount price changed (both old and new are recorded)."""

    old_price: Money
    old_discount_price: Money | None
    price: Money
    discount_price: Money | None


@REGISTRY.event("BookAuthorsReplaced")
class BookAuthorsReplaced(DomainEvent):
    """A book's authors are now exactly these."""

    author_ids: tuple[UUID, ...]


@REGISTRY.event("BookCategoryChanged")
class BookCategoryChanged(DomainEvent):
    """A book moved to another category."""

    category_id: UUID


@REGISTRY.event("BookPublisherChanged")
class BookPublisherChanged(DomainEvent):
    """A book has another publisher."""

    publisher_id: UUID


@REGISTRY.event("BookStockStatusChanged")
class BookStockStatusChanged(DomainEvent):
    """A book went in or out of stock."""

    status: BookStatus


@REGISTRY.event("BookDeleted")
class BookDeleted(DomainEvent):
    """A book was soft-deleted: it stays in its stream, takes no further command, is never
    listed, and cannot be ordered."""


#: Every event of a book stream.
BOOK_EVENTS: tuple[type[DomainEvent], ...] = (
    BookCreated,
    BookDetailsUpdated,
    BookPriceChanged,
    BookAuthorsReplaced,
    BookCategoryChanged,
    BookPublisherChanged,
    BookStockStatusChanged,
    BookDeleted,
)


# -- authors, categories, publishers ------------------------------------------------------------


@REGISTRY.event("AuthorCreated")
class AuthorCreated(DomainEvent):
    """An author was added."""

    author_id: UUID
    name: str


@REGISTRY.event("AuthorRenamed")
class AuthorRenamed(DomainEvent):
    """An author's name now reads so."""

    name: str


@REGISTRY.event("AuthorDeleted")
class AuthorDeleted(DomainEvent):
    """An author was soft-deleted (no non-deleted book named it then)."""


@REGISTRY.event("CategoryCreated")
class CategoryCreated(DomainEvent):
    """A category was added; its name is unique (case-insensitive)."""

    category_id: UUID
    name: str


@REGISTRY.event("CategoryRenamed")
class CategoryRenamed(DomainEvent):
    """A category's name now reads so."""

    name: str


@REGISTRY.event("CategoryDeleted")
class CategoryDeleted(DomainEvent):
    """A category was soft-deleted (no non-deleted book was in it then); its name is free."""


@REGISTRY.event("PublisherCreated")
class PublisherCreated(DomainEvent):
    """A publisher was added; its name is unique (case-insensitive)."""

    publisher_id: UUID
    name: str


@REGISTRY.event("PublisherRenamed")
class PublisherRenamed(DomainEvent):
    """A publisher's name now reads so."""

    name: str


@REGISTRY.event("PublisherDeleted")
class PublisherDeleted(DomainEvent):
    """A publisher was soft-deleted (no non-deleted book had it then); its name is free."""
