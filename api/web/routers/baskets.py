"""`/basket`: the calling user's own basket (its id is the token's subject, never a path).

A user reaches only the basket whose id is its own user id: no route takes a basket id, so
there is no other basket to name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.web.commands import CommandAnswer, CommandContext, Commands
from api.web.deps import OwnBuyerId, PlatformDep, QueryConn, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import ProblemError, declared
from api.web.responses import json_response
from read_side.queries.baskets import BasketView, get_basket
from write_side.basket.basket import MAX_BOOKS
from write_side.basket.commands import AddBasketItem, BasketLine, DeleteBasket, UpdateBasket
from write_side.domain import Command, DomainError

router = APIRouter(prefix="/basket", tags=["basket"], dependencies=[rate_limited("basket")])

#: The query model a basket answer reads.
BASKETS = "baskets"
Baskets = Annotated[ReadState, Fresh(BASKETS)]

#: The most copies of one book a request may name (**Decision** of the API, not DOMAIN.md:
#: it keeps a quantity within the 32-bit columns of the query models).
MAX_QUANTITY = 10_000

Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY, strict=True)]


#: The caller's basket id: its user id.
Owner = OwnBuyerId


class Line(BaseModel):
    """A book and how many copies of it."""

    model_config = ConfigDict(extra="forbid")

    book_id: UUID
    quantity: Quantity


class BasketItems(BaseModel):
    """The basket's whole item list: each book once, at most 50 books."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"items": [{"book_id": "0196b3f0-0000-7000-8000-000000000010", "quantity": 2}]}
            ]
        },
    )

    items: list[Line] = Field(min_length=1, max_length=MAX_BOOKS)


class NewItem(BaseModel):
    """Copies of one book to put in the basket."""

    model_config = ConfigDict(extra="forbid")

    book_id: UUID
    quantity: Quantity = 1


@router.get(
    "",
    response_model=BasketView,
    responses=declared(400, 401, 403, 404, 422, 429, 503),
    summary="Get my basket",
)
def basket(conn: QueryConn, platform: PlatformDep, read: Baskets, owner: Owner) -> Response:
    """The caller's open basket: each item with the book's current name, price and discount
    price, and the total of what can be ordered. `ETag` is the basket's revision (send it as
    `If-Match` with `PUT /basket`). 404 when the caller has no open basket (saying how fresh
    it is too).

    Served from the cache, except when `X-Min-Position` is given: then from the query model
    once it has passed that position (the cache is written just after it).
    """
    view = get_basket(conn, owner, cache=None if read.waited else platform.cache)
    if view is None:
        raise ProblemError(404, "you have no basket", headers=read.headers())
    return json_response(view, read=read, revision=view.version)


_COMMAND_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)


@router.put(
    "",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Replace my basket's items",
)
def replace_items(body: BasketItems, commands: Commands, owner: Owner) -> Response:
    """Replace the whole item list (opening a basket when none is open). Each book must exist
    and not be deleted (422 for a missing one, 409 for a deleted one) and be named once.

    With `If-Match` the change is refused (412) when the basket has changed since that ETag;
    without it, the last change wins.
    """
    lines = tuple(BasketLine(book_id=line.book_id, quantity=line.quantity) for line in body.items)
    return _send(commands, lambda e: UpdateBasket(**e, buyer_id=owner, items=lines))


@router.post(
    "/items",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Put a book in my basket",
)
def add_item(body: NewItem, commands: Commands, owner: Owner) -> Response:
    """Add copies of one book (1 unless told), to its line when the basket holds it already;
    opens a basket when none is open. Concurrent additions all count. A basket holding 50
    other books takes no 51st (409)."""
    return _send(commands, lambda e: AddBasketItem(**e, buyer_id=owner, **body.model_dump()))


@router.delete(
    "",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Throw my basket away",
)
def delete_basket(commands: Commands, owner: Owner) -> Response:
    """Delete the open basket (404 when there is none)."""
    return _send(commands, lambda e: DeleteBasket(**e, buyer_id=owner))


def _send(commands: CommandContext, build: Callable[[dict[str, Any]], Command]) -> Response:
    """Send a basket command, its problems located by JSON pointers.

    The basket names an item's field as `items[2].book_id`; the API's pointers read
    `#/items/2/book_id`.
    """
    try:
        return commands.send(build, targets={"buyer_id"})
    except DomainError as error:
        if error.field is not None:
            error.field = _pointer(error.field)
        raise
    except ProblemError as error:
        for problem in error.problem.errors or ():
            if problem.pointer is not None:
                problem.pointer = _pointer(problem.pointer)
        raise


_INDEX = re.compile(r"\[(\d+)\]")


def _pointer(field: str) -> str:
    return _INDEX.sub(r"/\1", field).replace(".", "/")
