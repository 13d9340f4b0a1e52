"""Feedback queries: a book's feedbacks, paged, by rating or date, reviewer names opened with
the key store (an erased reviewer shows as `ERASED`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Row, and_, func, select

from read_side.projections.feedbacks import feedback_table
from read_side.queries.paging import Page, PageRequest
from write_side.domain import ERASED, Crypto, KeyStore, Sealed
from write_side.rating.events import ReviewerName

#: The stable view of the feedbacks, made once (a new Table per query recompiles its SQL).
FEEDBACKS = feedback_table("feedbacks")


class FeedbackView(BaseModel):
    """A feedback as a book's reviews page shows it."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    book_id: UUID
    first_name: str
    last_name: str
    """Both names read `ERASED` once the reviewer's key is forgotten."""
    comment: str
    rating: int
    created_at: datetime


class FeedbackSort(StrEnum):
    """What a book's feedbacks are ordered by (ties: newest first, then id)."""

    DATE = "date"
    RATING = "rating"


class FeedbackQuery(BaseModel):
    """Order of a book's feedbacks; by default the newest first."""

    model_config = ConfigDict(frozen=True)

    sort: FeedbackSort = FeedbackSort.DATE
    descending: bool = True


class _Sealed(BaseModel):
    """A carrier for `Crypto.open`, which opens the `Sealed` fields of a model."""

    reviewer: Sealed[ReviewerName]


def book_feedbacks(
    conn: Connection,
    keys: KeyStore,
    book_id: UUID,
    query: FeedbackQuery | None = None,
    page: PageRequest | None = None,
) -> Page[FeedbackView]:
    """A page of the book's active feedbacks (none for an unknown book)."""
    query, page = query or FeedbackQuery(), page or PageRequest()
    table = FEEDBACKS
    where = and_(table.c.book_id == book_id, table.c.active)
    total = conn.scalar(select(func.count()).select_from(table).where(where)) or 0
    if page.offset >= total:
        return Page[FeedbackView].of([], page, total)
    primary = table.c.rating if query.sort is FeedbackSort.RATING else table.c.created_at
    order = [
        primary.desc() if query.descending else primary.asc(),
        table.c.created_at.desc(),
        table.c.position.desc(),
        table.c.id.asc(),
    ]
    rows = conn.execute(
        select(table).where(where).order_by(*order).limit(page.limit).offset(page.offset)
    ).all()
    crypto = Crypto(keys)
    return Page[FeedbackView].of([_view(crypto, row) for row in rows], page, total)


def _view(crypto: Crypto, row: Row[Any]) -> FeedbackView:
    sealed = Sealed[ReviewerName](subject=row.reviewer_subject, ciphertext=row.reviewer_sealed)
    reviewer = crypto.open(_Sealed(reviewer=sealed)).reviewer.value
    return FeedbackView(
        id=row.id,
        book_id=row.book_id,
        first_name=ERASED if reviewer is None else reviewer.first_name,
        last_name=ERASED if reviewer is None else reviewer.last_name,
        comment=row.comment,
        rating=row.rating,
        created_at=row.created_at,
    )
