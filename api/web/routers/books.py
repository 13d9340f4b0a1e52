"""`/books`: the catalog's books, queried by anyone and changed by admins (their images:
`api/web/routers/images.py`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Anyone, Paging, PlatformDep, QueryConn, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import ProblemError, declared, validation_problem
from api.web.responses import json_response, page_response
from read_side.queries.catalog import BookQuery, BookSort, BookView, list_books
from read_side.queries.catalog_cache import detail_key, load_book_detail
from read_side.queries.paging import Page
from write_side.catalog.commands import (
    AuthorIds,
    BookName,
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPrice,
    ChangeBookPublisher,
    CreateBook,
    DeleteBook,
    Description,
    ImageReference,
    Price,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.catalog.events import BookStatus

router = APIRouter(prefix="/books", tags=["books"], dependencies=[rate_limited("catalog")])

#: The query models a book answer reads.
CATALOG = "book_catalog"
Catalog = Annotated[ReadState, Fresh(CATALOG)]


class NewBook(BaseModel):
    """A book to add to the catalog."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "The Quiet Harbour",
                    "description": "A lighthouse keeper's last winter.",
                    "price": "18.50",
                    "discount_price": "14.99",
                    "category_id": "0196b3f0-0000-7000-8000-000000000001",
                    "publisher_id": "0196b3f0-0000-7000-8000-000000000002",
                    "author_ids": ["0196b3f0-0000-7000-8000-000000000003"],
                }
            ]
        },
    )

    name: BookName
    description: Description = ""
    image: ImageReference | None = None
    price: Price
    discount_price: Price | None = None
    category_id: UUID
    publisher_id: UUID
    author_ids: AuthorIds


class BookDetails(BaseModel):
    """A book's name, description and image reference (all replaced)."""

    model_config = ConfigDict(extra="forbid")

    name: BookName
    description: Description = ""
    image: ImageReference | None = None


class BookPrice(BaseModel):
    """A price and an optional discount price (0 < discount price ≤ price)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"price": "20.00"}]})

    price: Price
    discount_price: Price | None = None


class BookAuthors(BaseModel):
    """The book's authors (at least one, each named once)."""

    model_config = ConfigDict(extra="forbid")

    author_ids: AuthorIds


class BookCategory(BaseModel):
    """The book's category."""

    model_config = ConfigDict(extra="forbid")

    category_id: UUID


class BookPublisher(BaseModel):
    """The book's publisher."""

    model_config = ConfigDict(extra="forbid")

    publisher_id: UUID


class BookStock(BaseModel):
    """Whether the book is in stock."""

    model_config = ConfigDict(extra="forbid")

    status: BookStatus


# -- queries ----------------------------------------------------------------------------------


@router.get(
    "",
    response_model=Page[BookView],
    responses=declared(400, 401, 422, 429, 503),
    summary="List books",
)
def books(
    request: Request,
    conn: QueryConn,
    paging: Paging,
    read: Catalog,
    _caller: Anyone,
    text: Annotated[
        str | None, Query(max_length=200, description="words in name or description")
    ] = None,
    min_price: Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2)] = None,
    category_id: Annotated[list[UUID] | None, Query(description="any of these categories")] = None,
    publisher_id: Annotated[list[UUID] | None, Query(description="any of these publishers")] = None,
    author_id: Annotated[
        list[UUID] | None, Query(description="books by any of these authors")
    ] = None,
    in_stock_only: bool = False,
    sort: BookSort = BookSort.NAME,
    descending: bool = False,
) -> Response:
    """A page of the books that pass every filter given (deleted books never appear), in the
    order asked for (by name by default)."""
    try:
        query = BookQuery(
            text=text,
            min_price=min_price,
            max_price=max_price,
            category_ids=tuple(category_id or ()),
            publisher_ids=tuple(publisher_id or ()),
            author_ids=tuple(author_id or ()),
            in_stock_only=in_stock_only,
            sort=sort,
            descending=descending,
        )
    except ValidationError as error:  # a rule across parameters (the price range)
        raise validation_problem(
            [{**e, "loc": ("query", *e["loc"])} for e in error.errors()]
        ) from None
    return page_response(request, list_books(conn, query, paging), read=read)


@router.get(
    "/{book_id}",
    response_model=BookView,
    responses=declared(400, 401, 404, 422, 429, 503),
    summary="Get a book",
)
async def book(book_id: UUID, platform: PlatformDep, read: Catalog, _caller: Anyone) -> Response:
    """A book with its category, publisher, authors and rating; `ETag` is its revision.

    Served from the cache (30 minutes, evicted by any change to the book or its ratings), except
    when `X-Min-Position` is given: then from the query model once it has passed that position
    (a 404 says how fresh it is too).
    """
    build = platform.catalog_build()
    if build is None:
        raise ProblemError(404, f"there is no book {book_id}", headers=read.headers())
    cached = None if read.waited else platform.cache.get(detail_key(build, book_id))
    if cached is None:
        cached = await _load_detail(platform, build, book_id, read)
    return json_response(cached, read=read, revision=int(orjson.loads(cached)["version"]))


async def _load_detail(platform: PlatformDep, build: int, book_id: UUID, read: ReadState) -> bytes:
    def load() -> bytes | None:
        with platform.queries.connect() as conn:
            return load_book_detail(conn, platform.cache, build, book_id)

    found = await run_in_threadpool(load)
    if found is None:
        raise ProblemError(404, f"there is no book {book_id}", headers=read.headers())
    return found


# -- commands (admin) ---------------------------------------------------------------------------

_COMMAND_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)


def _location(book_id: UUID) -> str:
    return f"/api/v1/books/{book_id}"


@router.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Add a book",
)
def create_book(body: NewBook, commands: Commands, _admin: AdminCaller) -> Response:
    """Add a book, InStock. Its category, publisher and authors must exist (422 otherwise).
    The new book's id is derived from the `Idempotency-Key`, so a retry adds no second book."""
    return commands.send(
        lambda envelope: CreateBook(**envelope, **body.model_dump()),
        status_code=201,
        location=lambda result: _location(result.aggregate_id),
    )


@router.put(
    "/{book_id}",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Change a book's details",
)
def update_book(
    book_id: UUID, body: BookDetails, commands: Commands, _admin: AdminCaller
) -> Response:
    """Replace a book's name, description and image reference."""
    return commands.send(lambda e: UpdateBookDetails(**e, book_id=book_id, **body.model_dump()))


@router.put(
    "/{book_id}/price",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Change a book's price",
)
def change_price(
    book_id: UUID, body: BookPrice, commands: Commands, _admin: AdminCaller
) -> Response:
    """Set the price and the discount price (none when left out)."""
    return commands.send(lambda e: ChangeBookPrice(**e, book_id=book_id, **body.model_dump()))


@router.put(
    "/{book_id}/authors",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Replace a book's authors",
)
def change_authors(
    book_id: UUID, body: BookAuthors, commands: Commands, _admin: AdminCaller
) -> Response:
    """Replace the authors; each must exist."""
    return commands.send(lambda e: ChangeBookAuthors(**e, book_id=book_id, **body.model_dump()))


@router.put(
    "/{book_id}/category",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Move a book to another category",
)
def change_category(
    book_id: UUID, body: BookCategory, commands: Commands, _admin: AdminCaller
) -> Response:
    """Move the book to another existing category."""
    return commands.send(lambda e: ChangeBookCategory(**e, book_id=book_id, **body.model_dump()))


@router.put(
    "/{book_id}/publisher",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Give a book another publisher",
)
def change_publisher(
    book_id: UUID, body: BookPublisher, commands: Commands, _admin: AdminCaller
) -> Response:
    """Give the book another existing publisher."""
    return commands.send(lambda e: ChangeBookPublisher(**e, book_id=book_id, **body.model_dump()))


@router.put(
    "/{book_id}/stock",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Set whether a book is in stock",
)
def set_stock(book_id: UUID, body: BookStock, commands: Commands, _admin: AdminCaller) -> Response:
    """Set the book InStock or OutOfStock."""
    return commands.send(lambda e: SetBookStock(**e, book_id=book_id, status=body.status))


@router.delete(
    "/{book_id}",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Delete a book",
)
def delete_book(book_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete the book: it leaves every query and takes no further command (409)."""
    return commands.send(lambda e: DeleteBook(**e, book_id=book_id))
