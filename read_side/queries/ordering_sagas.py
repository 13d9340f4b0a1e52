"""Order sagas, for operators: one order's saga, and a page of them newest first by state.

The sagas show how each order's checkout went (attempts, pending timeout, outcome); they are
an admin's view (the API allows the `admin` role only).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from read_side.projections.order_sagas import ORDER_SAGAS
from read_side.queries.paging import Page, PageRequest
from write_side.finance import SagaState


class OrderSagaView(BaseModel):
    """An order saga: its state, the checkout attempts asked for, and how it ended."""

    model_config = ConfigDict(frozen=True)

    order_id: UUID
    buyer_id: UUID
    state: SagaState
    attempts: int
    """Checkout attempts asked for so far (1, 2, …)."""
    checked_out: bool
    item_count: int
    pending_due: datetime | None
    """When the pending checkout timeout elapses (None when none is pending)."""
    checkout_failure: str | None
    end_reason: str | None
    started_at: datetime
    updated_at: datetime


def get_order_saga(conn: Connection, order_id: UUID) -> OrderSagaView | None:
    """The saga of one order; None before it started."""
    row = conn.execute(select(ORDER_SAGAS).where(ORDER_SAGAS.c.order_id == order_id))
    found = row.mappings().first()
    return None if found is None else OrderSagaView.model_validate(dict(found))


def list_order_sagas(
    conn: Connection, *, state: SagaState | None = None, page: PageRequest | None = None
) -> Page[OrderSagaView]:
    """Sagas newest first (by when they started), optionally in one state."""
    page = page or PageRequest()
    query, count = select(ORDER_SAGAS), select(func.count()).select_from(ORDER_SAGAS)
    if state is not None:
        query = query.where(ORDER_SAGAS.c.state == SagaState(state).value)
        count = count.where(ORDER_SAGAS.c.state == SagaState(state).value)
    total = conn.scalar(count) or 0
    rows = conn.execute(
        query.order_by(ORDER_SAGAS.c.started_at.desc(), ORDER_SAGAS.c.started_position.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).mappings()
    return Page[OrderSagaView].of(
        [OrderSagaView.model_validate(dict(row)) for row in rows], page, total
    )
