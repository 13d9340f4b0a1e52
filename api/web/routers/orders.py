"""`/orders`: a user places orders from its basket and sees only its own; admins see and
settle every order.

An order of another user reads as absent (404), exactly like one that does not exist, so a
user learns nothing of other users' orders, not even that they exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from api.web.auth import Principal
from api.web.commands import CommandAnswer, Commands
from api.web.deps import (
    AdminCaller,
    Paging,
    QueryConn,
    UserCaller,
    UserOrAdmin,
    own_buyer_id,
    rate_limited,
)
from api.web.freshness import Fresh, ReadState
from api.web.platform import Platform
from api.web.problems import ProblemError, declared
from api.web.responses import json_response, page_response
from read_side.cache import ORDER_PLACEMENT_LOCK
from read_side.projections.order_sagas import NAME as SAGAS_MODEL
from read_side.projections.ordering_tables import NAME as ORDERS_MODEL
from read_side.queries.ordering import (
    Caller,
    OrderDetail,
    OrderSummary,
    get_order,
    list_orders,
)
from read_side.queries.ordering_sagas import OrderSagaView, get_order_saga
from read_side.queries.paging import Page
from write_side.domain import Command, NotFound
from write_side.ids import new_id
from write_side.ordering import (
    CancelOrder,
    CompleteOrder,
    DeleteOrder,
    OrderStatus,
    PlaceOrder,
    Role,
)

router = APIRouter(prefix="/orders", tags=["orders"], dependencies=[rate_limited("ordering")])

Orders = Annotated[ReadState, Fresh(ORDERS_MODEL)]
Sagas = Annotated[ReadState, Fresh(SAGAS_MODEL)]

#: **Decision**: DOMAIN.md sets no limit on a cancellation reason; the edge keeps it short.
REASON_MAX = 500


class Cancellation(BaseModel):
    """Why the order is cancelled (optional; a default names who cancelled)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "ordered the wrong edition"}]}
    )

    reason: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)
        ]
        | None
    ) = None


def _caller(principal: Principal) -> Caller:
    """The query caller: an admin sees every order, a user only its own."""
    if principal.is_admin:
        return Caller.administrator()
    return Caller.user(own_buyer_id(principal))


def _location(order_id: UUID) -> str:
    return f"/api/v1/orders/{order_id}"


# -- queries ------------------------------------------------------------------------------------

_QUERY_PROBLEMS = declared(400, 401, 403, 404, 422, 429, 503)


@router.get(
    "",
    response_model=Page[OrderSummary],
    responses=_QUERY_PROBLEMS,
    summary="List orders",
)
def orders(
    request: Request,
    conn: QueryConn,
    paging: Paging,
    read: Orders,
    principal: UserOrAdmin,
    status: Annotated[OrderStatus | None, Query(description="only orders in this status")] = None,
    buyer_id: Annotated[
        UUID | None, Query(description="only this buyer's orders (a user: its own id only)")
    ] = None,
    include_deleted: Annotated[
        bool, Query(description="admins: deleted orders too (a user never sees them)")
    ] = False,
) -> Response:
    """A page of orders, newest first: a user's own, or (admin) every buyer's."""
    page = list_orders(
        conn,
        _caller(principal),
        status=status,
        buyer_id=buyer_id,
        include_deleted=include_deleted,
        page=paging,
    )
    return page_response(request, page, read=read)


@router.get(
    "/{order_id}",
    response_model=OrderDetail,
    responses=_QUERY_PROBLEMS,
    summary="Get an order",
)
def order(order_id: UUID, conn: QueryConn, read: Orders, principal: UserOrAdmin) -> Response:
    """An order with its items and status history; `ETag` is its revision.

    A user sees only its own orders, and not deleted ones: any other reads as not found."""
    view = get_order(conn, _caller(principal), order_id)
    if view is None:
        raise ProblemError(404, f"there is no order {order_id}")
    return json_response(view, read=read, revision=view.version)


@router.get(
    "/{order_id}/saga",
    response_model=OrderSagaView,
    responses=_QUERY_PROBLEMS,
    summary="Get an order's saga",
)
def order_saga(order_id: UUID, conn: QueryConn, read: Sagas, _admin: AdminCaller) -> Response:
    """How the order's checkout went: its saga's state, attempts, pending timeout, outcome."""
    view = get_order_saga(conn, order_id)
    if view is None:
        raise ProblemError(404, f"order {order_id} has no saga (yet)")
    return json_response(view, read=read)


# -- commands -----------------------------------------------------------------------------------

_COMMAND_PROBLEMS = declared(400, 401, 403, 404, 409, 412, 422, 429)


class PlacementLock:
    """DOMAIN.md's "one placement at a time per buyer": a lock per buyer on the cache port,
    taken by one request (`take`, a 409 when another holds it) and released when it is done."""

    def __init__(self, platform: Platform, buyer_id: UUID) -> None:
        self._cache = platform.cache
        self.name = f"order-placement:{buyer_id}"
        self._owner = str(new_id())
        self.held = False

    def take(self, _command: Command) -> None:
        """Take the lock, or answer 409 with `Retry-After`."""
        self.held = self._cache.acquire_lock(self.name, self._owner, ttl=ORDER_PLACEMENT_LOCK)
        if not self.held:
            raise ProblemError(
                409,
                "another order of this buyer is being placed; retry shortly",
                type="/problems/order_placement_in_progress",
                headers={"Retry-After": "1"},
            )

    @contextmanager
    def released(self) -> Iterator[PlacementLock]:
        """Release the lock on the way out, if this request took it."""
        try:
            yield self
        finally:
            if self.held:
                self._cache.release_lock(self.name, self._owner)
                self.held = False


@router.post(
    "",
    status_code=201,
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Place an order from my basket",
)
def place_order(commands: Commands, user: UserCaller) -> Response:
    """Order what the calling buyer's basket holds, priced now; the order saga then checks
    the basket out. Send an `Idempotency-Key`: the order's id is derived from it, so a retry
    places no second order.

    One placement at a time per buyer: while another is being placed, 409 with `Retry-After`.
    The caller must be a buyer (404 otherwise). An absent or empty basket is a 409 (a basket
    holds at least one item, so an empty one is no basket at all), as are a deleted or
    out-of-stock book in it.
    """
    buyer_id = own_buyer_id(user)
    lock = PlacementLock(commands.platform, buyer_id)
    try:
        with lock.released():
            return commands.send(
                lambda envelope: PlaceOrder(**envelope, buyer_id=buyer_id),
                status_code=201,
                location=lambda result: _location(result.aggregate_id),
                before=lock.take,
                targets={"buyer_id"},
            )
    except NotFound as error:
        if error.rule != "basket_not_found":
            raise
        raise ProblemError(
            409,
            f"{error}: put books in the basket first",
            type="/problems/basket_empty",
        ) from error


@router.post(
    "/{order_id}/complete",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Complete (ship) an order",
)
def complete_order(order_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Complete a New order (409 in any other status)."""
    return commands.send(lambda envelope: CompleteOrder(**envelope, order_id=order_id))


@router.post(
    "/{order_id}/cancel",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Cancel an order",
)
def cancel_order(
    order_id: UUID,
    commands: Commands,
    principal: UserOrAdmin,
    body: Annotated[Cancellation | None, Body()] = None,
) -> Response:
    """Cancel a New order (409 in any other status): a user its own only (another's reads as
    not found), an admin any."""
    roles = _command_roles(principal)
    reason = body.reason if body is not None else None
    return commands.send(
        lambda envelope: CancelOrder(**envelope, order_id=order_id, roles=roles, reason=reason)
    )


def _command_roles(principal: Principal) -> frozenset[Role]:
    """The verified token's roles that `CancelOrder` decides on (never from the request)."""
    roles: set[Role] = set()
    if "admin" in principal.roles:
        roles.add("admin")
    if "user" in principal.roles:
        roles.add("user")
    return frozenset(roles)


@router.delete(
    "/{order_id}",
    response_model=CommandAnswer,
    responses=_COMMAND_PROBLEMS,
    summary="Delete an order",
)
def delete_order(order_id: UUID, commands: Commands, _admin: AdminCaller) -> Response:
    """Soft-delete an order, in any status: it leaves users' queries; admins still see it."""
    return commands.send(lambda envelope: DeleteOrder(**envelope, order_id=order_id))
