"""`/books`: the catalog's books, queried by anyone and changed by admins; `/images`: their
uploaded images, served to anyone.

An image is uploaded as the raw request body (`PUT /books/{id}/image`), kept under
`<data dir>/images/<book id>-<sha256 prefix>.<ext>` (a name that changes with the bytes, so an
image is served as immutable), and named in the book's details (its `image`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated, Any
from uuid import UUID, uuid4

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Anyone, Paging, PlatformDep, QueryConn, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import FieldProblem, ProblemError, declared
from api.web.responses import json_response, page_response
from read_side.queries.catalog import BookQuery, BookSort, BookView, book_detail, list_books
from read_side.queries.catalog_cache import BOOK_DETAIL_TTL, detail_key, detail_tags
from read_side.queries.paging import Page
from write_side.catalog.book import Book
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
from write_side.domain import Command, Repository, StaleVersion

book_routes = APIRouter(prefix="/books", tags=["books"], dependencies=[rate_limited("catalog")])
image_routes = APIRouter(prefix="/images", tags=["books"], dependencies=[rate_limited("catalog")])

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


@book_routes.get(
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
    return page_response(request, list_books(conn, query, paging), read=read)


@book_routes.get(
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
    key = detail_key(build, book_id)
    cached = None if read.waited else platform.cache.get(key)
    if cached is None:
        cached = await _load_detail(platform, book_id, key, read)
    return json_response(cached, read=read, revision=int(orjson.loads(cached)["version"]))


async def _load_detail(platform: PlatformDep, book_id: UUID, key: str, read: ReadState) -> bytes:
    def load() -> bytes | None:
        with platform.queries.connect() as conn:
            view = book_detail(conn, book_id)
        if view is None:
            return None
        answer = view.model_dump_json().encode()
        platform.cache.set(key, answer, ttl=BOOK_DETAIL_TTL, tags=detail_tags(view))
        return answer

    found = await run_in_threadpool(load)
    if found is None:
        raise ProblemError(404, f"there is no book {book_id}", headers=read.headers())
    return found


# -- commands (admin) ---------------------------------------------------------------------------

_COMMAND_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)


def _location(book_id: UUID) -> str:
    return f"/api/v1/books/{book_id}"


@book_routes.post(
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


@book_routes.put(
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


@book_routes.put(
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


@book_routes.put(
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


@book_routes.put(
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


@book_routes.put(
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


@book_routes.put(
    "/{book_id}/stock",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Set whether a book is in stock",
)
def set_stock(book_id: UUID, body: BookStock, commands: Commands, _admin: AdminCaller) -> Response:
    """Set the book InStock or OutOfStock."""
    return commands.send(lambda e: SetBookStock(**e, book_id=book_id, status=body.status))


@book_routes.delete(
    "/{book_id}",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Delete a book",
)
def delete_book(book_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete the book: it leaves every query and takes no further command (409)."""
    return commands.send(lambda e: DeleteBook(**e, book_id=book_id))


# -- images -------------------------------------------------------------------------------------

#: The largest image accepted: 1 MiB.
MAX_IMAGE_BYTES = 1024 * 1024
#: How many hex digits of the image's SHA-256 its file name keeps.
HASH_PREFIX = 16
#: How often an upload is sent again when the book changed between reading its details and
#: the command (without `If-Match`; with it, the change is a 412).
IMAGE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class ImageType:
    """A media type accepted for images: its file extension and how its bytes begin."""

    extension: str
    matches: Callable[[bytes], bool]


IMAGE_TYPES = {
    "image/jpeg": ImageType("jpg", lambda data: data.startswith(b"\xff\xd8\xff")),
    "image/png": ImageType("png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/webp": ImageType("webp", lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP"),
}
_MEDIA_TYPES = {kind.extension: media for media, kind in IMAGE_TYPES.items()}
#: An image's file name: `<book id>-<hash prefix>.<ext>` (nothing else is ever served).
IMAGE_NAME = (
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    rf"-[0-9a-f]{{{HASH_PREFIX}}}\.(?:jpg|png|webp)$"
)
_BINARY = {"schema": {"type": "string", "format": "binary"}}


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded image: its media type and its bytes (checked to be of that type)."""

    media_type: str
    data: bytes

    def name_for(self, book_id: UUID) -> str:
        """The image's file name, for this book."""
        digest = hashlib.sha256(self.data).hexdigest()[:HASH_PREFIX]
        return f"{book_id}-{digest}.{IMAGE_TYPES[self.media_type].extension}"


def _too_large() -> ProblemError:
    return ProblemError(413, f"an image may be at most {MAX_IMAGE_BYTES} bytes (1 MiB)")


async def read_upload(request: Request) -> Upload:
    """The request body as an image: 415 for another media type, 413 beyond 1 MiB (read no
    further), 422 when the bytes do not begin as that type's do."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in IMAGE_TYPES:
        accepted = ", ".join(IMAGE_TYPES)
        raise ProblemError(
            415,
            f"an image is sent as the raw body, with Content-Type {accepted}",
            errors=[FieldProblem(header="Content-Type", detail=f"must be one of {accepted}")],
        )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_IMAGE_BYTES:
        raise _too_large()
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_IMAGE_BYTES:
            raise _too_large()
    data = bytes(received)
    # Starlette's cache of the body: the command's Idempotency-Key hash reads it again.
    request._body = data
    if not IMAGE_TYPES[media_type].matches(data):
        detail = f"the body is not {media_type}: it does not begin with that format's signature"
        raise ProblemError(422, detail, errors=[FieldProblem(pointer="#", detail=detail)])
    return Upload(media_type, data)


def _image_path(platform: PlatformDep, name: str) -> FilePath:
    return platform.settings.data_dir / "images" / name


def _store(path: FilePath, data: bytes) -> None:
    """Write the image unless it is there (its name holds its hash: same name, same bytes)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid4().hex}.part")
    partial.write_bytes(data)
    os.replace(partial, path)  # readers never see half an image


def _send_image(
    commands: Commands, repository: Repository, book_id: UUID, name: str, save: Callable[[], None]
) -> Response:
    """One try: `UpdateBookDetails` with the book's name and description as the write side has
    them now, decided at exactly that version (a change in between is a `StaleVersion`)."""
    book = repository.load(Book, book_id)
    if not book.exists:
        book.require_live()  # 404
    version = book.version if commands.expected_version is None else commands.expected_version

    def before(_command: Command) -> None:
        # After the idempotency check (a replay writes nothing), before the command: a deleted
        # book or a stale If-Match leaves no file behind.
        book.require_live()
        if version != book.version:
            raise StaleVersion("stale_version", f"{book.stream} is at version {book.version}")
        save()

    return commands.send(
        lambda e: UpdateBookDetails(
            **(e | {"expected_version": version}),
            book_id=book_id,
            name=book.name,
            description=book.description,
            image=name,
        ),
        before=before,
    )


UploadDep = Annotated[Upload, Depends(read_upload)]


@book_routes.put(
    "/{book_id}/image",
    response_model=CommandAnswer,
    responses=declared(400, 401, 403, 404, 409, 412, 413, 415, 422, 429),
    summary="Upload a book's image",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The image's bytes (at most 1 MiB), not multipart.",
            "content": dict.fromkeys(IMAGE_TYPES, _BINARY),
        }
    },
)
def upload_image(
    book_id: UUID,
    platform: PlatformDep,
    _admin: AdminCaller,
    upload: UploadDep,
    commands: Commands,
) -> Response:
    """Replace a book's image with the request body: JPEG, PNG or WebP (its `Content-Type`;
    415 otherwise), at most 1 MiB (413), whose bytes are of that type (422).

    The book's details then name the image (`image`: `<book id>-<hash>.<ext>`, served at
    `/api/v1/images/{name}`); its name and description stay as they are.
    """
    name = upload.name_for(book_id)
    path = _image_path(platform, name)
    repository = platform.bus.services.repository
    for _ in range(IMAGE_RETRIES - 1):
        try:
            return _send_image(
                commands, repository, book_id, name, lambda: _store(path, upload.data)
            )
        except StaleVersion:
            if commands.expected_version is not None:
                raise
    return _send_image(commands, repository, book_id, name, lambda: _store(path, upload.data))


_IMAGE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "The image's bytes", "content": dict.fromkeys(IMAGE_TYPES, _BINARY)}
}


@image_routes.get(
    "/{name}",
    response_class=Response,
    responses={**_IMAGE_ANSWER, **declared(400, 401, 404, 422, 429)},
    summary="Get a book's image",
)
def image(
    name: Annotated[str, Path(pattern=IMAGE_NAME, description="`<book id>-<hash>.<ext>`")],
    platform: PlatformDep,
    _caller: Anyone,
) -> Response:
    """An uploaded image, as its bytes; it never changes (a new upload has a new name), so it
    may be cached for good."""
    path = _image_path(platform, name)
    if not path.is_file():
        raise ProblemError(404, f"there is no image {name}")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[path.suffix.removeprefix(".")],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


router = APIRouter()
router.include_router(book_routes)
router.include_router(image_routes)
