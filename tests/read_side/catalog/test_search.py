"""Keyword search over name and description: one interface, FTS5 on SQLite and full-text
search on PostgreSQL, answering the same."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from read_side.projections.catalog_search import terms
from read_side.queries.catalog import BookQuery, BookSort, list_books
from read_side.queries.paging import PageRequest
from tests.domain.contexts import Shelf
from tests.read_side.catalog.conftest import World
from write_side.catalog import DeleteBook, UpdateBookDetails


@dataclass(frozen=True)
class Shelved:
    """Three books with words to find."""

    world: World
    shelf: Shelf
    ids: dict[str, uuid.UUID]

    def found(self, text: str, **query: object) -> list[str]:
        """Then: the names of the books the search text finds, by name."""
        page = self.world.ask(list_books, BookQuery(text=text, **query))
        return [book.name for book in page.items]


@pytest.fixture
def shelved(world: World) -> Shelved:
    """ "Notes on the Engine", "Émile's Garden" and "Poems of Straße" with descriptions."""
    shelf = world.shelf()
    books = {
        "Notes on the Engine": "On the Analytical Engine, by its first programmer.",
        "Émile's Garden": "Flowers, engines of spring; a naïve gardener's notes.",
        "Poems of Straße": "Street verse.",
    }
    ids = {name: world.book(shelf, name=name, description=text) for name, text in books.items()}
    return Shelved(world, shelf, ids)


def test_a_word_of_the_name_or_the_description_finds_the_book(shelved: Shelved) -> None:
    assert shelved.found("programmer") == ["Notes on the Engine"]
    assert shelved.found("garden") == ["Émile's Garden"]
    assert shelved.found("verse") == ["Poems of Straße"]


def test_words_match_as_prefixes_ignoring_case(shelved: Shelved) -> None:
    # (Names sort by code point on both stores: "É" after "N".)
    assert shelved.found("ENGINE") == ["Notes on the Engine", "Émile's Garden"]
    assert shelved.found("analyt") == ["Notes on the Engine"]
    assert shelved.found("gard") == ["Émile's Garden"]


def test_every_word_must_occur(shelved: Shelved) -> None:
    assert shelved.found("notes engine") == ["Notes on the Engine", "Émile's Garden"]
    assert shelved.found("notes programmer") == ["Notes on the Engine"]
    assert shelved.found("notes verse") == []


def test_letters_beyond_ascii_match_as_written(shelved: Shelved) -> None:
    assert shelved.found("émile") == ["Émile's Garden"]
    assert shelved.found("ÉMILE naïve") == ["Émile's Garden"]
    assert shelved.found("straße") == ["Poems of Straße"]


def test_operators_and_punctuation_are_plain_text(shelved: Shelved) -> None:
    assert shelved.found('engine!!! "notes" (programmer)') == ["Notes on the Engine"]
    assert shelved.found("NOT programmer") == ["Notes on the Engine"]  # "not" as in "notes"
    assert shelved.found("engine OR verse") == []
    assert shelved.found("engine:* & verse | !x") == []
    assert shelved.found("' OR 1=1 --") == []


def test_a_text_without_words_filters_nothing(shelved: Shelved) -> None:
    assert len(shelved.found("")) == 3
    assert len(shelved.found("*** --- ;")) == 3


def test_search_follows_renames_and_deletions(shelved: Shelved) -> None:
    world = shelved.world
    world.bus.dispatch(
        UpdateBookDetails(
            book_id=shelved.ids["Notes on the Engine"],
            name="Sketch of the Machine",
            description="Translated with notes.",
            image=None,
        )
    )
    world.bus.dispatch(DeleteBook(book_id=shelved.ids["Émile's Garden"]))

    assert shelved.found("engine") == []
    assert shelved.found("machine translated") == ["Sketch of the Machine"]
    assert shelved.found("notes") == ["Sketch of the Machine"]


def test_search_combines_with_filters_sorts_and_pages(shelved: Shelved) -> None:
    world = shelved.world
    other = world.shelf()
    world.book(other, name="Engines of Tomorrow", description="Steam.")

    assert shelved.found("engine", category_ids=(other.category_id,)) == ["Engines of Tomorrow"]
    assert shelved.found("engine", sort=BookSort.NEWEST) == [
        "Engines of Tomorrow",
        "Émile's Garden",
        "Notes on the Engine",
    ]
    page = world.ask(list_books, BookQuery(text="engine"), PageRequest(page=2, page_size=2))
    assert [b.name for b in page.items] == ["Émile's Garden"]
    assert (page.total_items, page.total_pages) == (3, 2)


def test_terms_are_the_words_once_each() -> None:
    assert terms("Engine engine, ENGINE's: Straße") == ["engine", "s", "straße"]
    assert terms("snake_case & 1984!") == ["snake", "case", "1984"]
