"""Commands of the catalog, validated as DOMAIN.md says (all of them for the `admin` role).

Lengths and ranges are checked here, so a malformed command never reaches an aggregate (the
API answers 422 with the field); rules that need state (a deleted book, a taken name, a
category still in use) are the aggregates' and handlers' (`DomainError`). Strings are trimmed
(`Command`'s `str_strip_whitespace`) before their length is checked, so a blank name is missing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from write_side.catalog.events import BookStatus
from write_side.domain import Command
from write_side.envelope import Money


def _distinct(ids: tuple[UUID, ...]) -> tuple[UUID, ...]:
    if len(set(ids)) != len(ids):
        raise ValueError("each author may be named once")
    return ids


BookName = Annotated[str, Field(min_length=1, max_length=50)]
Description = Annotated[str, Field(max_length=500)]
#: Where the book's image is (a blob name or URL); the upload itself is checked by the API.
ImageReference = Annotated[str, Field(min_length=1, max_length=255)]
Price = Annotated[Money, Field(gt=0)]
AuthorIds = Annotated[tuple[UUID, ...], Field(min_length=1), AfterValidator(_distinct)]
AuthorName = Annotated[str, Field(min_length=1, max_length=100)]
CategoryName = Annotated[str, Field(min_length=1, max_length=50)]
PublisherName = Annotated[str, Field(min_length=1, max_length=100)]


class _Priced(Command):
    """A price and an optional discount price: price > 0 and 0 < discount price ≤ price."""

    price: Price
    discount_price: Price | None = None

    @field_validator("discount_price")
    @classmethod
    def _discount_not_above_price(
        cls, value: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        # A field validator (not a model one), so the error names `discount_price`. The price
        # is validated first (it is declared first) and missing from `data` when invalid.
        price = info.data.get("price")
        if value is not None and price is not None and value > price:
            raise PydanticCustomError(
                "discount_above_price", "the discount price must not exceed the price"
            )
        return value


# -- books --------------------------------------------------------------------------------------


class CreateBook(_Priced):
    """Add a book (InStock); its id is derived from the command id."""

    name: BookName
    description: Description = ""
    image: ImageReference | None = None
    category_id: UUID
    publisher_id: UUID
    author_ids: AuthorIds


class UpdateBookDetails(Command):
    """Replace a book's name, description and image reference."""

    book_id: UUID
    name: BookName
    description: Description = ""
    image: ImageReference | None = None


class ChangeBookPrice(_Priced):
    """Set a book's price and discount price (no discount price: none)."""

    book_id: UUID


class ChangeBookAuthors(Command):
    """Replace a book's authors (at least one, each existing)."""

    book_id: UUID
    author_ids: AuthorIds


class ChangeBookCategory(Command):
    """Move a book to another existing category."""

    book_id: UUID
    category_id: UUID


class ChangeBookPublisher(Command):
    """Give a book another existing publisher."""

    book_id: UUID
    publisher_id: UUID


class SetBookStock(Command):
    """Set whether a book is in stock (**Decision**: the reference never changes it)."""

    book_id: UUID
    status: BookStatus


class DeleteBook(Command):
    """Soft-delete a book; it takes no further command."""

    book_id: UUID


# -- authors, categories, publishers ------------------------------------------------------------


class CreateAuthor(Command):
    """Add an author; its id is derived from the command id."""

    name: AuthorName


class RenameAuthor(Command):
    """Rename an author."""

    author_id: UUID
    name: AuthorName


class DeleteAuthor(Command):
    """Soft-delete an author no non-deleted book names."""

    author_id: UUID


class CreateCategory(Command):
    """Add a category with a name no other category bears; id derived from the command id."""

    name: CategoryName


class RenameCategory(Command):
    """Rename a category to a name no other category bears."""

    category_id: UUID
    name: CategoryName


class DeleteCategory(Command):
    """Soft-delete a category no non-deleted book is in; its name becomes free."""

    category_id: UUID


class CreatePublisher(Command):
    """Add a publisher with a name no other publisher bears; id derived from the command id."""

    name: PublisherName


class RenamePublisher(Command):
    """Rename a publisher to a name no other publisher bears."""

    publisher_id: UUID
    name: PublisherName


class DeletePublisher(Command):
    """Soft-delete a publisher no non-deleted book has; its name becomes free."""

    publisher_id: UUID
