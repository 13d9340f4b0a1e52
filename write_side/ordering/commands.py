"""The commands of Ordering: buyers and orders.

Who the caller is: `actor` is the caller's user id (the verified token's subject; a process
manager sends `system:<name>`). The API checks the route's role (user or admin) before
sending a command; a handler checks the caller itself only where the answer depends on the
data, which is `CancelOrder` (a user cancels only its own order): that command also carries
the caller's `roles`, copied by the API from the verified token, never from the request body.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from write_side.domain import Command
from write_side.ids import derive_id
from write_side.ordering.personal import Address

#: The roles a caller may hold: those of DOMAIN.md, and `process` for a process manager (the
#: order saga), which no token carries.
Role = Literal["admin", "user", "reporter", "process"]


class CreateBuyer(Command):
    """The caller (a user) becomes a buyer; `buyer_id` is its user id."""

    buyer_id: UUID
    name: str
    email: str
    address: Address


class ChangeBuyerAddress(Command):
    """The buyer (the calling user) moves."""

    buyer_id: UUID
    address: Address


class DeleteBuyer(Command):
    """An admin deletes a buyer; its orders stay."""

    buyer_id: UUID


class ForgetBuyer(Command):
    """An admin erases a buyer's personal data everywhere: its key is deleted from the key
    store and `BuyerForgotten` appended. Events and snapshots stay; their personal fields read
    as erased from then on, never as an error."""

    buyer_id: UUID


class PlaceOrder(Command):
    """The buyer (the calling user) orders what its basket holds.

    The order's id is derived from the command id (the request's `Idempotency-Key`), so the
    same request placed twice is one order. "One placement at a time per buyer" is not this
    command's business: the API holds a lock per buyer (1 minute, on the cache port) around
    sending it, so two different requests of one buyer cannot both order the same basket.
    """

    buyer_id: UUID

    @property
    def order_id(self) -> UUID:
        """The id of the order this command places."""
        return order_id_for(self.command_id)


class CompleteOrder(Command):
    """An admin completes (ships) a New order."""

    order_id: UUID


class CancelOrder(Command):
    """Cancel a New order: an admin or a process any order, a user only its own.

    `roles` are the caller's (see the module's docstring); a user's `actor` must be the
    order's buyer id, else the order reads as not found. `reason` defaults by caller.
    """

    order_id: UUID
    roles: frozenset[Role] = frozenset()
    reason: str | None = None


class DeleteOrder(Command):
    """Soft-delete an order: an admin, or the order saga's compensation (with its `cause`)."""

    order_id: UUID
    reason: str = "deleted by an admin"


def order_id_for(command_id: UUID) -> UUID:
    """The id of the order placed by the command with this id."""
    return derive_id(command_id, "order")


__all__ = [
    "CancelOrder",
    "ChangeBuyerAddress",
    "CompleteOrder",
    "CreateBuyer",
    "DeleteBuyer",
    "DeleteOrder",
    "ForgetBuyer",
    "PlaceOrder",
    "Role",
    "order_id_for",
]
