"""Paging as DOMAIN.md fixes it: 1-based `page` (default 1), `page_size` (default 20, max 100).

Every paged query takes a `PageRequest` and answers a `Page[T]`. A page beyond the end is not an
error: it answers no items, the real totals, `has_previous` true and `has_next` false.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PAGE = 1
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


class PageRequest(BaseModel):
    """Which page to answer; out-of-range values raise `pydantic.ValidationError` (a 422)."""

    model_config = ConfigDict(frozen=True)

    page: int = Field(default=DEFAULT_PAGE, ge=1)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        """Rows to skip before this page (for SQL `OFFSET`)."""
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        """Rows on a full page (for SQL `LIMIT`)."""
        return self.page_size


def total_pages(total_items: int, page_size: int) -> int:
    """How many pages `total_items` fill (0 when there are none)."""
    return -(-total_items // page_size)


class Page(BaseModel, Generic[T]):
    """One page of a query's answer, with the totals the API turns into `Link` headers."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    page: int
    page_size: int
    total_items: int
    total_pages: int
    has_previous: bool
    has_next: bool

    @classmethod
    def of(cls, items: Sequence[T], request: PageRequest, total_items: int) -> Page[T]:
        """The page `request` asked for, holding `items`, out of `total_items` in all."""
        pages = total_pages(total_items, request.page_size)
        return cls(
            items=list(items),
            page=request.page,
            page_size=request.page_size,
            total_items=total_items,
            total_pages=pages,
            has_previous=request.page > 1,
            has_next=request.page < pages,
        )
