"""What a book refers to: the Author, Category and Publisher aggregates.

Each is a name that can be renamed and soft-deleted. Their own rules live here; the unique
names of categories and publishers are claimed by the handlers (reservation streams, see
`names.py`), and how many books still use one is asked through the `CatalogUsage` port and
handed to `delete` as `books_using`.
"""

from __future__ import annotations

from write_side.catalog.commands import (
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
)
from write_side.catalog.events import (
    AuthorCreated,
    AuthorDeleted,
    AuthorRenamed,
    CategoryCreated,
    CategoryDeleted,
    CategoryRenamed,
    PublisherCreated,
    PublisherDeleted,
    PublisherRenamed,
)
from write_side.domain import Aggregate, DomainError, NotFound, applies
from write_side.envelope import DomainEvent


class NamedAggregate(Aggregate):
    """An aggregate known by its name, renamed and soft-deleted; its rules are named after its
    stream category (`category_not_found`, `category_deleted`, `category_in_use`)."""

    name: str = ""
    deleted: bool = False

    def require_new(self) -> None:
        """Raise `<category>_exists` when the aggregate exists already."""
        if self.exists:
            raise DomainError(f"{self.category}_exists", f"{self.stream} exists already")

    def require_live(self) -> None:
        """Raise `NotFound` when it never existed, `<category>_deleted` (409) when deleted."""
        if not self.exists:
            raise NotFound(f"{self.category}_not_found", f"no {self.category} {self.id}")
        if self.deleted:
            raise DomainError(f"{self.category}_deleted", f"{self.category} {self.id} is deleted")

    def require_unused(self, books_using: int) -> None:
        """Raise `<category>_in_use` (409) while a non-deleted book uses it."""
        if books_using > 0:
            raise DomainError(
                f"{self.category}_in_use",
                f"{self.category} {self.id} is used by {books_using} book(s)",
            )

    @property
    def live(self) -> bool:
        """Exists and is not deleted."""
        return self.exists and not self.deleted


class Author(NamedAggregate):
    """An author of books (names need not be unique)."""

    category = "author"

    def create(self, command: CreateAuthor) -> list[DomainEvent]:
        """A new author."""
        self.require_new()
        return [AuthorCreated(author_id=self.id, name=command.name)]

    def rename(self, command: RenameAuthor) -> list[DomainEvent]:
        """Another name (the same name records nothing)."""
        self.require_live()
        return [] if command.name == self.name else [AuthorRenamed(name=command.name)]

    def delete(self, *, books_using: int) -> list[DomainEvent]:
        """Soft delete, unless a non-deleted book names the author."""
        self.require_live()
        self.require_unused(books_using)
        return [AuthorDeleted()]

    @applies(AuthorCreated, AuthorRenamed)
    def _named(self, event: AuthorCreated | AuthorRenamed) -> None:
        self.name = event.name

    @applies(AuthorDeleted)
    def _deleted(self, event: AuthorDeleted) -> None:
        self.deleted = True


class Category(NamedAggregate):
    """A category of books, with a unique name."""

    category = "category"

    def create(self, command: CreateCategory) -> list[DomainEvent]:
        """A new category."""
        self.require_new()
        return [CategoryCreated(category_id=self.id, name=command.name)]

    def rename(self, command: RenameCategory) -> list[DomainEvent]:
        """Another name (the same name records nothing)."""
        self.require_live()
        return [] if command.name == self.name else [CategoryRenamed(name=command.name)]

    def delete(self, *, books_using: int) -> list[DomainEvent]:
        """Soft delete, unless a non-deleted book is in the category."""
        self.require_live()
        self.require_unused(books_using)
        return [CategoryDeleted()]

    @applies(CategoryCreated, CategoryRenamed)
    def _named(self, event: CategoryCreated | CategoryRenamed) -> None:
        self.name = event.name

    @applies(CategoryDeleted)
    def _deleted(self, event: CategoryDeleted) -> None:
        self.deleted = True


class Publisher(NamedAggregate):
    """A publisher of books, with a unique name."""

    category = "publisher"

    def create(self, command: CreatePublisher) -> list[DomainEvent]:
        """A new publisher."""
        self.require_new()
        return [PublisherCreated(publisher_id=self.id, name=command.name)]

    def rename(self, command: RenamePublisher) -> list[DomainEvent]:
        """Another name (the same name records nothing)."""
        self.require_live()
        return [] if command.name == self.name else [PublisherRenamed(name=command.name)]

    def delete(self, *, books_using: int) -> list[DomainEvent]:
        """Soft delete, unless a non-deleted book has this publisher."""
        self.require_live()
        self.require_unused(books_using)
        return [PublisherDeleted()]

    @applies(PublisherCreated, PublisherRenamed)
    def _named(self, event: PublisherCreated | PublisherRenamed) -> None:
        self.name = event.name

    @applies(PublisherDeleted)
    def _deleted(self, event: PublisherDeleted) -> None:
        self.deleted = True
