"""The Book aggregate (`book-{id}`): a book of the catalog, soft-deleted at the end of its life.

Whether the category, publisher and authors a command names exist is asked by the handlers
(through the repository) before the book decides; the book holds its own rules: it exists,
it is not deleted, and a change that changes nothing records nothing.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from write_side.catalog.commands import (
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPrice,
    ChangeBookPublisher,
    CreateBook,
    DeleteBook,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.catalog.events import (
    BookAuthorsReplaced,
    BookCategoryChanged,
    BookCreated,
    BookDeleted,
    BookDetailsUpdated,
    BookPriceChanged,
    BookPublisherChanged,
    BookStatus,
    BookStockStatusChanged,
)
from write_side.catalog.lookup import BookInfo
from write_side.domain import Aggregate, DomainError, NotFound, applies
from write_side.envelope import DomainEvent


class Book(Aggregate):
    """A book: name, description, image, price, discount price, stock status, category,
    publisher, authors and whether it is deleted."""

    category = "book"

    name: str = ""
    description: str = ""
    image: str | None = None
    price: Decimal = Decimal("0.00")
    discount_price: Decimal | None = None
    status: BookStatus = BookStatus.IN_STOCK
    category_id: UUID | None = None
    publisher_id: UUID | None = None
    author_ids: tuple[UUID, ...] = ()
    deleted: bool = False

    # -- decisions ------------------------------------------------------------------------------

    def create(self, command: CreateBook) -> list[DomainEvent]:
        """A new book, in stock."""
        if self.exists:
            raise DomainError("book_exists", f"book {self.id} exists already")
        return [
            BookCreated(
                book_id=self.id,
                name=command.name,
                description=command.description,
                image=command.image,
                price=command.price,
                discount_price=command.discount_price,
                status=BookStatus.IN_STOCK,
                category_id=command.category_id,
                publisher_id=command.publisher_id,
                author_ids=command.author_ids,
            )
        ]

    def update_details(self, command: UpdateBookDetails) -> list[DomainEvent]:
        """New name, description and image reference."""
        self.require_live()
        if (command.name, command.description, command.image) == (
            self.name,
            self.description,
            self.image,
        ):
            return []
        return [
            BookDetailsUpdated(
                name=command.name, description=command.description, image=command.image
            )
        ]

    def change_price(self, command: ChangeBookPrice) -> list[DomainEvent]:
        """New price and discount price, recorded with the old ones."""
        self.require_live()
        if (command.price, command.discount_price) == (self.price, self.discount_price):
            return []
        return [
            BookPriceChanged(
                old_price=self.price,
                old_discount_price=self.discount_price,
                price=command.price,
                discount_price=command.discount_price,
            )
        ]

    def replace_authors(self, command: ChangeBookAuthors) -> list[DomainEvent]:
        """Exactly these authors, in this order."""
        self.require_live()
        if command.author_ids == self.author_ids:
            return []
        return [BookAuthorsReplaced(author_ids=command.author_ids)]

    def change_category(self, command: ChangeBookCategory) -> list[DomainEvent]:
        """Another category."""
        self.require_live()
        if command.category_id == self.category_id:
            return []
        return [BookCategoryChanged(category_id=command.category_id)]

    def change_publisher(self, command: ChangeBookPublisher) -> list[DomainEvent]:
        """Another publisher."""
        self.require_live()
        if command.publisher_id == self.publisher_id:
            return []
        return [BookPublisherChanged(publisher_id=command.publisher_id)]

    def set_stock(self, command: SetBookStock) -> list[DomainEvent]:
        """In or out of stock."""
        self.require_live()
        if command.status == self.status:
            return []
        return [BookStockStatusChanged(status=command.status)]

    def delete(self, command: DeleteBook) -> list[DomainEvent]:
        """Soft delete: the book takes no further command."""
        self.require_live()
        return [BookDeleted()]

    def require_live(self) -> None:
        """Raise `NotFound` when the book never existed, `book_deleted` (409) when deleted."""
        if not self.exists:
            raise NotFound("book_not_found", f"no book {self.id}")
        if self.deleted:
            raise DomainError("book_deleted", f"book {self.id} is deleted")

    def info(self) -> BookInfo:
        """The book as other contexts see it (`BookLookup`)."""
        return BookInfo(
            id=self.id,
            name=self.name,
            price=self.price,
            discount_price=self.discount_price,
            in_stock=self.status is BookStatus.IN_STOCK,
            deleted=self.deleted,
        )

    # -- evolution ------------------------------------------------------------------------------

    @applies(BookCreated)
    def _created(self, event: BookCreated) -> None:
        self.name, self.description, self.image = event.name, event.description, event.image
        self.price, self.discount_price = event.price, event.discount_price
        self.status = event.status
        self.category_id, self.publisher_id = event.category_id, event.publisher_id
        self.author_ids = event.author_ids

    @applies(BookDetailsUpdated)
    def _details_updated(self, event: BookDetailsUpdated) -> None:
        self.name, self.description, self.image = event.name, event.description, event.image

    @applies(BookPriceChanged)
    def _price_changed(self, event: BookPriceChanged) -> None:
        self.price, self.discount_price = event.price, event.discount_price

    @applies(BookAuthorsReplaced)
    def _authors_replaced(self, event: BookAuthorsReplaced) -> None:
        self.author_ids = event.author_ids

    @applies(BookCategoryChanged)
    def _category_changed(self, event: BookCategoryChanged) -> None:
        self.category_id = event.category_id

    @applies(BookPublisherChanged)
    def _publisher_changed(self, event: BookPublisherChanged) -> None:
        self.publisher_id = event.publisher_id

    @applies(BookStockStatusChanged)
    def _stock_changed(self, event: BookStockStatusChanged) -> None:
        self.status = event.status

    @applies(BookDeleted)
    def _deleted(self, event: BookDeleted) -> None:
        self.deleted = True
