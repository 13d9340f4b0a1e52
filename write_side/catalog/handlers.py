"""Handlers of the catalog's commands: plain functions of the command and the services.

Each appends to one stream through the repository, so a repeated command answers its first
result and writes nothing. A created aggregate's id is derived from the command id (a retried
create targets the same stream). What a decision needs from other streams (do the category,
publisher and authors exist? is a category still used?) is asked inside the decision, so a
repeated command is answered before anything is asked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from write_side.catalog.book import Book
from write_side.catalog.commands import (
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPrice,
    ChangeBookPublisher,
    CreateAuthor,
    CreateBook,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteBook,
    DeleteCategory,
    DeletePublisher,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.catalog.names import CATEGORY_NAMES, PUBLISHER_NAMES
from write_side.catalog.ports import CatalogUsage
from write_side.catalog.references import Author, Category, NamedAggregate, Publisher
from write_side.domain import Command, CommandResult, Handler, NotFound, Repository, Services
from write_side.envelope import DomainEvent
from write_side.ids import derive_id


def new_id_for(command: Command, kind: type[Book] | type[NamedAggregate]) -> UUID:
    """The id of the aggregate a create command makes: derived from the command id."""
    return derive_id(command.command_id, kind.category)


def require_existing(
    repository: Repository, kind: type[NamedAggregate], id: UUID, *, field: str
) -> None:
    """Raise `NotFound(<category>_not_found)` for `field` unless `id` exists, not deleted."""
    if not repository.load(kind, id).live:
        raise NotFound(f"{kind.category}_not_found", f"no {kind.category} {id}", field=field)


def require_authors(repository: Repository, author_ids: Sequence[UUID]) -> None:
    """Every author exists and is not deleted (the error points at the first missing one)."""
    for index, author_id in enumerate(author_ids):
        require_existing(repository, Author, author_id, field=f"author_ids/{index}")


def catalog_usage(services: Services) -> CatalogUsage:
    """The wired `CatalogUsage`."""
    return services.port(CatalogUsage)


# -- books --------------------------------------------------------------------------------------


def create_book(command: CreateBook, services: Services) -> CommandResult:
    """Add a book whose category, publisher and authors exist."""
    repository = services.repository

    def decide(book: Book) -> Sequence[DomainEvent]:
        require_existing(repository, Category, command.category_id, field="category_id")
        require_existing(repository, Publisher, command.publisher_id, field="publisher_id")
        require_authors(repository, command.author_ids)
        return book.create(command)

    return repository.execute(Book, new_id_for(command, Book), command, decide)


def update_book_details(command: UpdateBookDetails, services: Services) -> CommandResult:
    """New name, description and image."""
    return services.repository.execute(
        Book, command.book_id, command, lambda book: book.update_details(command)
    )


def change_book_price(command: ChangeBookPrice, services: Services) -> CommandResult:
    """New price and discount price."""
    return services.repository.execute(
        Book, command.book_id, command, lambda book: book.change_price(command)
    )


def change_book_authors(command: ChangeBookAuthors, services: Services) -> CommandResult:
    """Replace the authors with existing ones."""
    repository = services.repository

    def decide(book: Book) -> Sequence[DomainEvent]:
        book.require_live()
        require_authors(repository, command.author_ids)
        return book.replace_authors(command)

    return repository.execute(Book, command.book_id, command, decide)


def change_book_category(command: ChangeBookCategory, services: Services) -> CommandResult:
    """Move to an existing category."""
    repository = services.repository

    def decide(book: Book) -> Sequence[DomainEvent]:
        book.require_live()
        require_existing(repository, Category, command.category_id, field="category_id")
        return book.change_category(command)

    return repository.execute(Book, command.book_id, command, decide)


def change_book_publisher(command: ChangeBookPublisher, services: Services) -> CommandResult:
    """Move to an existing publisher."""
    repository = services.repository

    def decide(book: Book) -> Sequence[DomainEvent]:
        book.require_live()
        require_existing(repository, Publisher, command.publisher_id, field="publisher_id")
        return book.change_publisher(command)

    return repository.execute(Book, command.book_id, command, decide)


def set_book_stock(command: SetBookStock, services: Services) -> CommandResult:
    """In or out of stock."""
    return services.repository.execute(
        Book, command.book_id, command, lambda book: book.set_stock(command)
    )


def delete_book(command: DeleteBook, services: Services) -> CommandResult:
    """Soft-delete."""
    return services.repository.execute(
        Book, command.book_id, command, lambda book: book.delete(command)
    )


# -- authors ------------------------------------------------------------------------------------


def create_author(command: CreateAuthor, services: Services) -> CommandResult:
    """Add an author."""
    return services.repository.execute(
        Author, new_id_for(command, Author), command, lambda author: author.create(command)
    )


def rename_author(command: RenameAuthor, services: Services) -> CommandResult:
    """Rename an author."""
    return services.repository.execute(
        Author, command.author_id, command, lambda author: author.rename(command)
    )


def delete_author(command: DeleteAuthor, services: Services) -> CommandResult:
    """Soft-delete an author no non-deleted book names."""
    usage = catalog_usage(services)

    def decide(author: Author) -> Sequence[DomainEvent]:
        author.require_live()  # before the (slow) question, and to answer 404 first
        return author.delete(books_using=usage.books_using_author(author.id))

    return services.repository.execute(Author, command.author_id, command, decide)


# -- categories ---------------------------------------------------------------------------------


def create_category(command: CreateCategory, services: Services) -> CommandResult:
    """Add a category under a name no other category bears."""
    return CATEGORY_NAMES.create(
        services,
        Category,
        new_id_for(command, Category),
        command,
        command.name,
        lambda category: category.create(command),
    )


def rename_category(command: RenameCategory, services: Services) -> CommandResult:
    """Rename a category to a name no other category bears; its old name becomes free."""
    return CATEGORY_NAMES.rename(
        services,
        Category,
        command.category_id,
        command,
        command.name,
        lambda category: category.rename(command),
    )


def delete_category(command: DeleteCategory, services: Services) -> CommandResult:
    """Soft-delete a category no non-deleted book is in; its name becomes free."""
    usage = catalog_usage(services)

    def decide(category: Category) -> Sequence[DomainEvent]:
        category.require_live()
        return category.delete(books_using=usage.books_using_category(category.id))

    result = services.repository.execute(Category, command.category_id, command, decide)
    CATEGORY_NAMES.release_if_deleted(services, Category, command.category_id, command)
    return result


# -- publishers ---------------------------------------------------------------------------------


def create_publisher(command: CreatePublisher, services: Services) -> CommandResult:
    """Add a publisher under a name no other publisher bears."""
    return PUBLISHER_NAMES.create(
        services,
        Publisher,
        new_id_for(command, Publisher),
        command,
        command.name,
        lambda publisher: publisher.create(command),
    )


def rename_publisher(command: RenamePublisher, services: Services) -> CommandResult:
    """Rename a publisher to a name no other publisher bears; its old name becomes free."""
    return PUBLISHER_NAMES.rename(
        services,
        Publisher,
        command.publisher_id,
        command,
        command.name,
        lambda publisher: publisher.rename(command),
    )


def delete_publisher(command: DeletePublisher, services: Services) -> CommandResult:
    """Soft-delete a publisher no non-deleted book has; its name becomes free."""
    usage = catalog_usage(services)

    def decide(publisher: Publisher) -> Sequence[DomainEvent]:
        publisher.require_live()
        return publisher.delete(books_using=usage.books_using_publisher(publisher.id))

    result = services.repository.execute(Publisher, command.publisher_id, command, decide)
    PUBLISHER_NAMES.release_if_deleted(services, Publisher, command.publisher_id, command)
    return result


#: Every catalog command and its handler, for the command bus.
HANDLERS: dict[type[Command], Handler] = {
    CreateBook: create_book,
    UpdateBookDetails: update_book_details,
    ChangeBookPrice: change_book_price,
    ChangeBookAuthors: change_book_authors,
    ChangeBookCategory: change_book_category,
    ChangeBookPublisher: change_book_publisher,
    SetBookStock: set_book_stock,
    DeleteBook: delete_book,
    CreateAuthor: create_author,
    RenameAuthor: rename_author,
    DeleteAuthor: delete_author,
    CreateCategory: create_category,
    RenameCategory: rename_category,
    DeleteCategory: delete_category,
    CreatePublisher: create_publisher,
    RenamePublisher: rename_publisher,
    DeletePublisher: delete_publisher,
}
