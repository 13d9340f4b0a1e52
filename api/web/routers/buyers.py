"""`/buyers`: a user's own buyer record (`/buyers/me`), and every buyer for admins.

A user becomes a buyer under its own id (the token's subject), so a user can only ever read or
change its own record: no route takes a user's buyer id from the request.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Paging, QueryConn, UserCaller, own_buyer_id, rate_limited
from api.web.freshness import Fresh, ReadState
from api.web.problems import ProblemError, declared
from api.web.responses import json_response, page_response
from read_side.projections.buyers import NAME as BUYERS_MODEL
from read_side.queries.buyers import BuyerView, get_buyer, list_buyers
from read_side.queries.ordering import Caller
from read_side.queries.paging import Page
from write_side.ordering import (
    Address,
    ChangeBuyerAddress,
    CreateBuyer,
    DeleteBuyer,
    ForgetBuyer,
)
from write_side.ordering.personal import ADDRESS_PART_MAX, EMAIL_MAX, NAME_MAX

router = APIRouter(prefix="/buyers", tags=["buyers"], dependencies=[rate_limited("ordering")])

Buyers = Annotated[ReadState, Fresh(BUYERS_MODEL)]

# The domain's own rules (`write_side.ordering.personal`), checked here too so that a bad value
# is a 422 pointing into the body (`#/address/city`) before any command is built.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=EMAIL_MAX,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$",
    ),
]
AddressPart = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ADDRESS_PART_MAX)
]


class PostalAddress(BaseModel):
    """A postal address: street, city and province, each required, at most 50 characters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"street": "1 Harbour Road", "city": "Porthaven", "province": "Cornwall"}]
        },
    )

    street: AddressPart
    city: AddressPart
    province: AddressPart

    def to_domain(self) -> Address:
        """The address as the write side takes it."""
        return Address(street=self.street, city=self.city, province=self.province)


class NewBuyer(BaseModel):
    """The calling user's buyer record: name (≤ 100), email (≤ 255) and address."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Reader",
                    "email": "ada@example.com",
                    "address": {
                        "street": "1 Harbour Road",
                        "city": "Porthaven",
                        "province": "Cornwall",
                    },
                }
            ]
        },
    )

    name: Name
    email: Email
    address: PostalAddress


# -- the caller's own record (user) -------------------------------------------------------------

_COMMAND_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)
_QUERY_PROBLEMS = declared(400, 401, 403, 404, 422, 429, 503)
ME = "/api/v1/buyers/me"


@router.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Become a buyer",
)
def create_buyer(body: NewBuyer, commands: Commands, user: UserCaller) -> Response:
    """Make the calling user a buyer, under its own id. A user is a buyer once (409 after)."""
    buyer_id = own_buyer_id(user)
    return commands.send(
        lambda envelope: CreateBuyer(
            **envelope,
            buyer_id=buyer_id,
            name=body.name,
            email=body.email,
            address=body.address.to_domain(),
        ),
        status_code=201,
        location=lambda _result: ME,
        targets={"buyer_id"},
    )


@router.get(
    "/me",
    response_model=BuyerView,
    responses=_QUERY_PROBLEMS,
    summary="Get my buyer record",
)
def my_buyer(conn: QueryConn, read: Buyers, user: UserCaller) -> Response:
    """The calling user's buyer record; `ETag` is its revision (for `If-Match`)."""
    view = get_buyer(conn, Caller.user(own_buyer_id(user)))
    if view is None:
        raise ProblemError(404, "the caller is not a buyer yet (POST /api/v1/buyers)")
    return json_response(view, read=read, revision=view.version)


@router.put(
    "/me/address",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Change my address",
)
def change_my_address(body: PostalAddress, commands: Commands, user: UserCaller) -> Response:
    """Replace the calling buyer's address (nothing is written when it is the same)."""
    buyer_id = own_buyer_id(user)
    return commands.send(
        lambda envelope: ChangeBuyerAddress(
            **envelope, buyer_id=buyer_id, address=body.to_domain()
        ),
        targets={"buyer_id"},
    )


# -- every buyer (admin) ------------------------------------------------------------------------


@router.get(
    "",
    response_model=Page[BuyerView],
    responses=_QUERY_PROBLEMS,
    summary="List buyers",
)
def buyers(
    request: Request, conn: QueryConn, paging: Paging, read: Buyers, _admin: AdminCaller
) -> Response:
    """A page of every buyer, oldest first (deleted and forgotten ones included, flagged)."""
    return page_response(request, list_buyers(conn, Caller.administrator(), page=paging), read=read)


@router.get(
    "/{buyer_id}",
    response_model=BuyerView,
    responses=_QUERY_PROBLEMS,
    summary="Get a buyer",
)
def buyer(buyer_id: UUID, conn: QueryConn, read: Buyers, _admin: AdminCaller) -> Response:
    """One buyer; `ETag` is its revision."""
    view = get_buyer(conn, Caller.administrator(), buyer_id)
    if view is None:
        raise ProblemError(404, f"there is no buyer {buyer_id}")
    return json_response(view, read=read, revision=view.version)


@router.delete(
    "/{buyer_id}",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Delete a buyer",
)
def delete_buyer(buyer_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Delete a buyer: it places no more orders; its orders stay."""
    return commands.send(lambda envelope: DeleteBuyer(**envelope, buyer_id=buyer_id))


@router.post(
    "/{buyer_id}/forget",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Forget a buyer (erase its personal data)",
)
def forget_buyer(buyer_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Crypto-shredding: the buyer's key is deleted, so its name, email and address read as
    `[erased]` in every event, order and query model from then on. It cannot be undone."""
    return commands.send(lambda envelope: ForgetBuyer(**envelope, buyer_id=buyer_id))
