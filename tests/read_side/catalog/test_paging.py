"""Paging edges as DOMAIN.md fixes them (the shared types every paged query answers)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from read_side.queries.paging import MAX_PAGE_SIZE, Page, PageRequest


def test_defaults_are_page_one_of_twenty() -> None:
    request = PageRequest()
    assert (request.page, request.page_size, request.offset, request.limit) == (1, 20, 0, 20)


@pytest.mark.parametrize(("page", "page_size"), [(0, 20), (-1, 20), (1, 0), (1, MAX_PAGE_SIZE + 1)])
def test_out_of_range_requests_are_refused(page: int, page_size: int) -> None:
    with pytest.raises(ValidationError):
        PageRequest(page=page, page_size=page_size)


def test_the_largest_page_size_is_allowed() -> None:
    assert PageRequest(page_size=MAX_PAGE_SIZE).limit == MAX_PAGE_SIZE


def test_an_empty_answer_has_no_pages() -> None:
    page = Page[int].of([], PageRequest(), 0)
    assert page.model_dump() == {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total_items": 0,
        "total_pages": 0,
        "has_previous": False,
        "has_next": False,
    }


def test_a_middle_page_has_both_neighbours() -> None:
    page = Page[int].of([3, 4], PageRequest(page=2, page_size=2), 5)
    assert (page.total_pages, page.has_previous, page.has_next) == (3, True, True)
    assert PageRequest(page=2, page_size=2).offset == 2


def test_the_last_page_has_no_next() -> None:
    page = Page[int].of([5], PageRequest(page=3, page_size=2), 5)
    assert (page.items, page.total_pages, page.has_previous, page.has_next) == ([5], 3, True, False)


def test_a_page_beyond_the_end_is_empty_with_the_real_totals() -> None:
    page = Page[int].of([], PageRequest(page=9, page_size=2), 5)
    assert (page.items, page.total_items, page.total_pages) == ([], 5, 3)
    assert (page.has_previous, page.has_next) == (True, False)
