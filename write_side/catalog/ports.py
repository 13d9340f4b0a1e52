"""What the catalog's write side asks of the catalog's query side (wired by `bootstrap()`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from uuid import UUID


class CatalogUsage(ABC):
    """How many non-deleted books use an author, a category or a publisher.

    The answer comes from a model that follows the events, so it may lag the latest books
    (eventually consistent): a book created a moment before a delete may not be counted yet.
    """

    @abstractmethod
    def books_using_author(self, author_id: UUID) -> int:
        """How many non-deleted books name this author."""

    @abstractmethod
    def books_using_category(self, category_id: UUID) -> int:
        """How many non-deleted books are in this category."""

    @abstractmethod
    def books_using_publisher(self, publisher_id: UUID) -> int:
        """How many non-deleted books have this publisher."""
