"""`/authors`, `/categories`, `/publishers`: what books refer to, listed by anyone and changed
by admins. Category and publisher names are unique (case-insensitive, trimmed); author names
need not be.

Each kind has its own router (its tag, its query model); `router` holds the three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, TypeAdapter

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Anyone, QueryConn, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import ProblemError, declared
from api.web.responses import json_response
from read_side.queries.catalog import (
    ReferenceItem,
    find_author,
    find_category,
    find_publisher,
    list_authors,
    list_categories,
    list_publishers,
)
from write_side.catalog.commands import (
    AuthorName,
    CategoryName,
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteCategory,
    DeletePublisher,
    PublisherName,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
)
from write_side.domain import CommandResult

#: The projections the lists are read from (`read_side/projections/catalog_references.py`).
AUTHORS, CATEGORIES, PUBLISHERS = "authors", "categories", "publishers"
AuthorsRead = Annotated[ReadState, Fresh(AUTHORS)]
CategoriesRead = Annotated[ReadState, Fresh(CATEGORIES)]
PublishersRead = Annotated[ReadState, Fresh(PUBLISHERS)]

_LIST_PROBLEMS = declared(400, 401, 422, 429, 503)
_ITEM_PROBLEMS = declared(400, 401, 404, 422, 429, 503)
_CREATE_PROBLEMS = declared(400, 401, 403, 409, 412, 422, 429)
_CHANGE_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)

_ITEMS = TypeAdapter(list[ReferenceItem])


def _body_config(example: str) -> ConfigDict:
    return ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"name": example}]},
    )


class AuthorBody(BaseModel):
    """An author's name (at most 100 characters, trimmed)."""

    model_config = _body_config("Ada Lovelace")

    name: AuthorName


class CategoryBody(BaseModel):
    """A category's name (at most 50 characters, trimmed; no other category may bear it,
    whatever its case)."""

    model_config = _body_config("Poetry")

    name: CategoryName


class PublisherBody(BaseModel):
    """A publisher's name (at most 100 characters, trimmed; no other publisher may bear it,
    whatever its case)."""

    model_config = _body_config("Faber & Faber")

    name: PublisherName


# -- what every kind shares -------------------------------------------------------------------


def _list(items: list[ReferenceItem], read: ReadState) -> Response:
    return json_response(_ITEMS.dump_json(items), read=read)


def _one(item: ReferenceItem | None, kind: str, ref: UUID, read: ReadState) -> Response:
    if item is None:
        raise ProblemError(404, f"there is no {kind} {ref}", headers=read.headers())
    return json_response(item, read=read, revision=item.version)


def _located(path: str) -> Callable[[CommandResult], str]:
    def location(result: CommandResult) -> str:
        return f"/api/v1/{path}/{result.aggregate_id}"

    return location


# -- /authors ---------------------------------------------------------------------------------

authors = APIRouter(prefix="/authors", tags=["authors"], dependencies=[rate_limited("catalog")])


@authors.get(
    "", response_model=list[ReferenceItem], responses=_LIST_PROBLEMS, summary="List authors"
)
def all_authors(conn: QueryConn, read: AuthorsRead, _caller: Anyone) -> Response:
    """Every author (deleted ones never appear), by name; `version` is each one's ETag."""
    return _list(list_authors(conn), read)


@authors.get(
    "/{author_id}", response_model=ReferenceItem, responses=_ITEM_PROBLEMS, summary="Get an author"
)
def author(author_id: UUID, conn: QueryConn, read: AuthorsRead, _caller: Anyone) -> Response:
    """One author; `ETag` is its revision (the `If-Match` of a rename or delete)."""
    return _one(find_author(conn, author_id), "author", author_id, read)


@authors.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_CREATE_PROBLEMS,
    summary="Add an author",
)
def create_author(body: AuthorBody, commands: Commands, _admin: AdminCaller) -> Response:
    """Add an author. The new author's id is derived from the command id (the
    `Idempotency-Key`), so a retry adds no second author."""
    return commands.send(
        lambda e: CreateAuthor(**e, name=body.name), status_code=201, location=_located("authors")
    )


@authors.put(
    "/{author_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Rename an author",
)
def rename_author(
    author_id: UUID, body: AuthorBody, commands: Commands, _admin: AdminCaller
) -> Response:
    """Rename an author (the same name records nothing); every book shows the new name."""
    return commands.send(lambda e: RenameAuthor(**e, author_id=author_id, name=body.name))


@authors.delete(
    "/{author_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Delete an author",
)
def delete_author(author_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete an author; refused (409 `author_in_use`) while a book that is not deleted
    still names it.

    That "still used by a book" check reads the catalog query model (`book_catalog`), which is
    eventually consistent: a book added or changed a moment ago may not be counted yet.
    """
    return commands.send(lambda e: DeleteAuthor(**e, author_id=author_id))


# -- /categories ------------------------------------------------------------------------------

categories = APIRouter(
    prefix="/categories", tags=["categories"], dependencies=[rate_limited("catalog")]
)


@categories.get(
    "", response_model=list[ReferenceItem], responses=_LIST_PROBLEMS, summary="List categories"
)
def all_categories(conn: QueryConn, read: CategoriesRead, _caller: Anyone) -> Response:
    """Every category (deleted ones never appear), by name; `version` is each one's ETag."""
    return _list(list_categories(conn), read)


@categories.get(
    "/{category_id}",
    response_model=ReferenceItem,
    responses=_ITEM_PROBLEMS,
    summary="Get a category",
)
def category(category_id: UUID, conn: QueryConn, read: CategoriesRead, _caller: Anyone) -> Response:
    """One category; `ETag` is its revision (the `If-Match` of a rename or delete)."""
    return _one(find_category(conn, category_id), "category", category_id, read)


@categories.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_CREATE_PROBLEMS,
    summary="Add a category",
)
def create_category(body: CategoryBody, commands: Commands, _admin: AdminCaller) -> Response:
    """Add a category under a name no other category bears (409 `category_name_taken`). The
    new category's id is derived from the command id (the `Idempotency-Key`), so a retry adds
    no second category."""
    return commands.send(
        lambda e: CreateCategory(**e, name=body.name),
        status_code=201,
        location=_located("categories"),
    )


@categories.put(
    "/{category_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Rename a category",
)
def rename_category(
    category_id: UUID, body: CategoryBody, commands: Commands, _admin: AdminCaller
) -> Response:
    """Rename a category to a name no other category bears (409 `category_name_taken`); its
    old name becomes free, and every book shows the new one."""
    return commands.send(lambda e: RenameCategory(**e, category_id=category_id, name=body.name))


@categories.delete(
    "/{category_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Delete a category",
)
def delete_category(category_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete a category and free its name; refused (409 `category_in_use`) while a book
    that is not deleted is still in it.

    That "still used by a book" check reads the catalog query model (`book_catalog`), which is
    eventually consistent: a book added or moved a moment ago may not be counted yet.
    """
    return commands.send(lambda e: DeleteCategory(**e, category_id=category_id))


# -- /publishers ------------------------------------------------------------------------------

publishers = APIRouter(
    prefix="/publishers", tags=["publishers"], dependencies=[rate_limited("catalog")]
)


@publishers.get(
    "", response_model=list[ReferenceItem], responses=_LIST_PROBLEMS, summary="List publishers"
)
def all_publishers(conn: QueryConn, read: PublishersRead, _caller: Anyone) -> Response:
    """Every publisher (deleted ones never appear), by name; `version` is each one's ETag."""
    return _list(list_publishers(conn), read)


@publishers.get(
    "/{publisher_id}",
    response_model=ReferenceItem,
    responses=_ITEM_PROBLEMS,
    summary="Get a publisher",
)
def publisher(
    publisher_id: UUID, conn: QueryConn, read: PublishersRead, _caller: Anyone
) -> Response:
    """One publisher; `ETag` is its revision (the `If-Match` of a rename or delete)."""
    return _one(find_publisher(conn, publisher_id), "publisher", publisher_id, read)


@publishers.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_CREATE_PROBLEMS,
    summary="Add a publisher",
)
def create_publisher(body: PublisherBody, commands: Commands, _admin: AdminCaller) -> Response:
    """Add a publisher under a name no other publisher bears (409 `publisher_name_taken`). The
    new publisher's id is derived from the command id (the `Idempotency-Key`), so a retry adds
    no second publisher."""
    return commands.send(
        lambda e: CreatePublisher(**e, name=body.name),
        status_code=201,
        location=_located("publishers"),
    )


@publishers.put(
    "/{publisher_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Rename a publisher",
)
def rename_publisher(
    publisher_id: UUID, body: PublisherBody, commands: Commands, _admin: AdminCaller
) -> Response:
    """Rename a publisher to a name no other publisher bears (409 `publisher_name_taken`); its
    old name becomes free, and every book shows the new one."""
    return commands.send(lambda e: RenamePublisher(**e, publisher_id=publisher_id, name=body.name))


@publishers.delete(
    "/{publisher_id}",
    response_model=CommandAnswer,
    responses=_CHANGE_PROBLEMS,
    summary="Delete a publisher",
)
def delete_publisher(publisher_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete a publisher and free its name; refused (409 `publisher_in_use`) while a book
    that is not deleted still has it.

    That "still used by a book" check reads the catalog query model (`book_catalog`), which is
    eventually consistent: a book added or moved a moment ago may not be counted yet.
    """
    return commands.send(lambda e: DeletePublisher(**e, publisher_id=publisher_id))


router = APIRouter()
router.include_router(authors)
router.include_router(categories)
router.include_router(publishers)
