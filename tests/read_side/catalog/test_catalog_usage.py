"""`CatalogUsage` answered from `book_catalog`: the counts, and the write side's delete rules
wired to it as the composition root wires it."""

from __future__ import annotations

import pytest

from read_side.queries.catalog_usage import BookCatalogUsage, CatalogNotBuilt
from tests.read_side.catalog.conftest import World
from write_side.bootstrap import bootstrap
from write_side.catalog import (
    CatalogUsage,
    ChangeBookAuthors,
    DeleteAuthor,
    DeleteBook,
    DeleteCategory,
    DeletePublisher,
    EventStoreCatalogUsage,
)
from write_side.domain import DomainError


def test_counts_non_deleted_books_per_reference(world: World) -> None:
    shelf, other = world.shelf(), world.shelf()
    first = world.book(shelf, author_ids=shelf.author_ids)
    world.book(shelf)
    deleted = world.book(shelf)
    world.bus.dispatch(DeleteBook(book_id=deleted))
    world.bus.dispatch(ChangeBookAuthors(book_id=first, author_ids=other.author_ids[:1]))
    world.project()
    usage = BookCatalogUsage(world.db.engine)

    assert usage.books_using_category(shelf.category_id) == 2
    assert usage.books_using_publisher(shelf.publisher_id) == 2
    assert usage.books_using_author(shelf.author_ids[0]) == 1
    assert usage.books_using_author(shelf.author_ids[1]) == 0
    assert usage.books_using_author(other.author_ids[0]) == 1
    assert usage.books_using_category(other.category_id) == 0
    assert usage.books_using_publisher(other.publisher_id) == 0


def test_deletes_are_refused_while_the_model_counts_a_book(world: World) -> None:
    bus = bootstrap(
        world.store,
        world.keys,
        clock=world.clock,
        ports={CatalogUsage: BookCatalogUsage(world.db.engine)},
    )
    shelf = world.shelf()
    book_id = world.book(shelf)
    world.project()
    deletes = [
        DeleteCategory(category_id=shelf.category_id),
        DeletePublisher(publisher_id=shelf.publisher_id),
        DeleteAuthor(author_id=shelf.author_ids[0]),
    ]
    for command in deletes:
        with pytest.raises(DomainError, match="is used by 1 book") as refused:
            bus.dispatch(command)
        assert refused.value.rule.endswith("_in_use")

    world.bus.dispatch(DeleteBook(book_id=book_id))
    world.project()

    assert [bus.dispatch(command).events for command in deletes] == [
        ("CategoryDeleted",),
        ("PublisherDeleted",),
        ("AuthorDeleted",),
    ]


def test_until_the_model_is_built_the_fallback_answers_then_the_model(world: World) -> None:
    shelf = world.shelf()
    world.book(shelf)
    usage = BookCatalogUsage(world.db.engine, until_built=EventStoreCatalogUsage(world.store))
    alone = BookCatalogUsage(world.db.engine)

    assert usage.books_using_category(shelf.category_id) == 1  # the event-store scan
    with pytest.raises(CatalogNotBuilt):
        alone.books_using_category(shelf.category_id)

    world.project()
    world.book(shelf)  # not projected yet: the model, eventually consistent, lags

    assert usage.books_using_category(shelf.category_id) == 1
    assert alone.books_using_publisher(shelf.publisher_id) == 1
    assert alone.books_using_author(shelf.author_ids[0]) == 1
