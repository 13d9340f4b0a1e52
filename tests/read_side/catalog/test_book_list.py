"""The book list: given four books, every filter and every sort answers this, page by page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from pydantic import ValidationError

from read_side.queries.catalog import BookQuery, BookSort, list_books
from read_side.queries.paging import Page, PageRequest
from tests.domain.contexts import Shelf
from tests.read_side.catalog.conftest import World
from write_side.catalog import BookStatus, DeleteBook, SetBookStock


@dataclass(frozen=True)
class Library:
    """Four books on two shelves (created in this order), with ratings."""

    world: World
    a: Shelf
    b: Shelf
    ids: dict[str, uuid.UUID]

    def names(self, query: BookQuery | None = None, page: PageRequest | None = None) -> list[str]:
        """Then: the names on the page `query` answers."""
        return [book.name for book in self.page(query, page).items]

    def page(self, query: BookQuery | None = None, page: PageRequest | None = None) -> Page:  # type: ignore[type-arg]
        """Then: the page `query` answers."""
        return self.world.ask(list_books, query, page)


@pytest.fixture
def library(world: World) -> Library:
    """Alpha 10.00 (A, author a0, rated 5), beta 20.00/15.00 (A, a0+a1, rated 3 and 4),
    Gamma 30.00/12.00 (B, b0, out of stock, unrated), delta 20.00 (B, b1, rated 1)."""
    a, b = world.shelf(), world.shelf()
    ids = {
        "Alpha": world.book(a, name="Alpha", price=Decimal("10.00"), discount_price=None),
        "beta": world.book(
            a,
            name="beta",
            price=Decimal("20.00"),
            discount_price=Decimal("15.00"),
            author_ids=a.author_ids,
        ),
        "Gamma": world.book(
            b, name="Gamma", price=Decimal("30.00"), discount_price=Decimal("12.00")
        ),
        "delta": world.book(
            b,
            name="delta",
            price=Decimal("20.00"),
            discount_price=None,
            author_ids=b.author_ids[1:],
        ),
    }
    world.bus.dispatch(SetBookStock(book_id=ids["Gamma"], status=BookStatus.OUT_OF_STOCK))
    for name, ratings in {"Alpha": (5,), "beta": (3, 4), "delta": (1,)}.items():
        for rating in ratings:
            world.feedback(ids[name], rating)
    return Library(world, a, b, ids)


@pytest.mark.parametrize(
    ("sort", "ascending", "descending"),
    [
        (BookSort.NAME, "Alpha beta delta Gamma", "Gamma delta beta Alpha"),
        (BookSort.PRICE, "Alpha beta delta Gamma", "Gamma beta delta Alpha"),
        (BookSort.DISCOUNT_PRICE, "Gamma beta Alpha delta", "beta Gamma Alpha delta"),
        (BookSort.STATUS, "Alpha beta delta Gamma", "Gamma Alpha beta delta"),
        (BookSort.AVERAGE_RATING, "Gamma delta beta Alpha", "Alpha beta delta Gamma"),
        (BookSort.NEWEST, "delta Gamma beta Alpha", "Alpha beta Gamma delta"),
    ],
)
def test_every_sort_both_ways(
    library: Library, sort: BookSort, ascending: str, descending: str
) -> None:
    assert library.names(BookQuery(sort=sort)) == ascending.split()
    assert library.names(BookQuery(sort=sort, descending=True)) == descending.split()


def test_the_default_order_is_by_name_ignoring_case(library: Library) -> None:
    assert library.names() == ["Alpha", "beta", "delta", "Gamma"]


def test_list_items_carry_references_and_ratings(library: Library) -> None:
    (beta,) = library.page(BookQuery(author_ids=(library.a.author_ids[1],))).items

    assert beta.id == library.ids["beta"]
    assert [a.id for a in beta.authors] == list(library.a.author_ids)
    assert (beta.category.id, beta.publisher.id) == (library.a.category_id, library.a.publisher_id)
    assert (beta.price, beta.discount_price) == (Decimal("20.00"), Decimal("15.00"))
    assert (beta.total_reviews, beta.average_rating) == (2, 3.5)


def test_list_items_carry_their_stream_revision(library: Library) -> None:
    versions = {book.name: book.version for book in library.page().items}

    assert versions == {"Alpha": 0, "beta": 0, "Gamma": 1, "delta": 0}  # Gamma: out of stock


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("20", None, "beta delta Gamma"),
        (None, "20", "Alpha beta delta"),
        ("20", "20", "beta delta"),
        ("10", "30", "Alpha beta delta Gamma"),
        ("10.001", None, "beta delta Gamma"),
        (None, "29.999", "Alpha beta delta"),
        ("30.01", None, ""),
    ],
)
def test_price_bounds_are_inclusive(
    library: Library, low: str | None, high: str | None, expected: str
) -> None:
    query = BookQuery(
        min_price=None if low is None else Decimal(low),
        max_price=None if high is None else Decimal(high),
    )
    assert library.names(query) == expected.split()


def test_an_upside_down_price_range_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"must be at least min_price \(20\)"):
        BookQuery(min_price=Decimal("20"), max_price=Decimal("19.99"))


def test_categories_and_publishers_any_of_them(library: Library) -> None:
    a, b = library.a, library.b

    assert library.names(BookQuery(category_ids=(a.category_id,))) == ["Alpha", "beta"]
    both = (a.category_id, b.category_id)
    assert library.names(BookQuery(category_ids=both)) == ["Alpha", "beta", "delta", "Gamma"]
    assert library.names(BookQuery(publisher_ids=(b.publisher_id,))) == ["delta", "Gamma"]
    assert library.names(BookQuery(category_ids=(uuid.uuid4(),))) == []


def test_books_with_any_of_the_authors_each_once(library: Library) -> None:
    a, b = library.a.author_ids, library.b.author_ids

    assert library.names(BookQuery(author_ids=(a[1],))) == ["beta"]
    assert library.names(BookQuery(author_ids=(a[1], b[0]))) == ["beta", "Gamma"]
    assert library.names(BookQuery(author_ids=a)) == ["Alpha", "beta"]
    assert library.page(BookQuery(author_ids=a)).total_items == 2


def test_in_stock_only(library: Library) -> None:
    assert library.names(BookQuery(in_stock_only=True)) == ["Alpha", "beta", "delta"]


def test_filters_combine(library: Library) -> None:
    query = BookQuery(
        category_ids=(library.a.category_id, library.b.category_id),
        in_stock_only=True,
        min_price=Decimal("15"),
        sort=BookSort.AVERAGE_RATING,
    )
    assert library.names(query) == ["delta", "beta"]


def test_deleted_books_never_appear(library: Library) -> None:
    library.world.bus.dispatch(DeleteBook(book_id=library.ids["beta"]))

    assert library.names() == ["Alpha", "delta", "Gamma"]
    assert library.names(BookQuery(author_ids=library.a.author_ids[1:])) == []


def test_pages_through_to_the_last_and_beyond(library: Library) -> None:
    first = library.page(page=PageRequest(page=1, page_size=3))
    last = library.page(page=PageRequest(page=2, page_size=3))
    beyond = library.page(page=PageRequest(page=3, page_size=3))

    assert [b.name for b in first.items] == ["Alpha", "beta", "delta"]
    assert (first.total_items, first.total_pages, first.has_previous, first.has_next) == (
        4,
        2,
        False,
        True,
    )
    assert [b.name for b in last.items] == ["Gamma"]
    assert (last.has_previous, last.has_next) == (True, False)
    assert (beyond.items, beyond.total_items, beyond.total_pages) == ([], 4, 2)
    assert (beyond.page, beyond.has_previous, beyond.has_next) == (3, True, False)


def test_a_filtered_page_counts_only_what_passes(library: Library) -> None:
    page = library.page(BookQuery(in_stock_only=True), PageRequest(page=2, page_size=2))

    assert [b.name for b in page.items] == ["delta"]
    assert (page.total_items, page.total_pages) == (3, 2)


def test_an_empty_catalog_answers_an_empty_page(world: World) -> None:
    world.shelf()

    page = world.ask(list_books)

    assert page.model_dump() == {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total_items": 0,
        "total_pages": 0,
        "has_previous": False,
        "has_next": False,
    }


def test_default_and_largest_page_sizes(world: World) -> None:
    shelf = world.shelf()
    for n in range(21):
        world.book(shelf, name=f"Volume {n:02d}")

    first = world.ask(list_books)
    second = world.ask(list_books, None, PageRequest(page=2))
    everything = world.ask(list_books, None, PageRequest(page_size=100))

    assert (len(first.items), first.total_pages, first.has_next) == (20, 2, True)
    assert [b.name for b in second.items] == ["Volume 20"]
    assert [b.name for b in everything.items] == [f"Volume {n:02d}" for n in range(21)]
