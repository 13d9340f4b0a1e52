"""Buyers: the caller's own, and for an admin any buyer or a page of them.

A forgotten buyer reads `[erased]` in its name, email and every part of its address, with
`erased` set; a deleted buyer still reads, with `deleted` set (its orders stay).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, RowMapping, func, select

from read_side.projections.buyers import BUYERS
from read_side.queries.ordering import Caller, NotAllowed
from read_side.queries.paging import Page, PageRequest


class AddressView(BaseModel):
    """A buyer's postal address."""

    model_config = ConfigDict(frozen=True)

    street: str
    city: str
    province: str


class BuyerView(BaseModel):
    """A buyer as the query model holds it."""

    model_config = ConfigDict(frozen=True)

    buyer_id: UUID
    name: str
    email: str
    address: AddressView
    deleted: bool
    erased: bool
    """True once the buyer was forgotten: every personal field reads `[erased]`."""
    created_at: datetime
    updated_at: datetime
    version: int
    """The revision of the buyer's stream this row reflects (its ETag)."""


def get_buyer(conn: Connection, caller: Caller, buyer_id: UUID | None = None) -> BuyerView | None:
    """The caller's buyer (a user), or buyer `buyer_id` (an admin); None when there is none.

    A user asking for another buyer is refused (`NotAllowed`).
    """
    if not caller.admin:
        if buyer_id is not None and buyer_id != caller.buyer_id:
            raise NotAllowed("a user sees only its own buyer")
        buyer_id = caller.buyer_id
    if buyer_id is None:
        raise ValueError("an admin names the buyer it asks for")
    row = conn.execute(select(BUYERS).where(BUYERS.c.buyer_id == buyer_id)).mappings().first()
    return None if row is None else _view(row)


def list_buyers(
    conn: Connection, caller: Caller, *, page: PageRequest | None = None
) -> Page[BuyerView]:
    """Every buyer, oldest first (admin only; `NotAllowed` otherwise)."""
    if not caller.admin:
        raise NotAllowed("only an admin lists buyers")
    page = page or PageRequest()
    total = conn.scalar(select(func.count()).select_from(BUYERS)) or 0
    rows = conn.execute(
        select(BUYERS)
        .order_by(BUYERS.c.created_at, BUYERS.c.buyer_id)
        .limit(page.limit)
        .offset(page.offset)
    ).mappings()
    return Page[BuyerView].of([_view(row) for row in rows], page, total)


def _view(row: RowMapping) -> BuyerView:
    fields: dict[str, Any] = dict(row)
    fields["address"] = {part: fields.pop(part) for part in ("street", "city", "province")}
    return BuyerView.model_validate(fields)
