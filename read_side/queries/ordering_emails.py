"""Emails, for operators: their sending status, a page of them, those of an order; and the
resend job's question ("which failed emails to try again?") answered from the query model.

No personal data is kept (recipient and body stay sealed in the events), so nothing here
needs erasing when a buyer is forgotten.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select, true

from read_side.projections.emails import EMAILS
from read_side.queries.paging import Page, PageRequest
from write_side.notification import EmailKind, EmailStatus, FailedEmails


class EmailView(BaseModel):
    """An email about an order, and how sending it went."""

    model_config = ConfigDict(frozen=True)

    email_id: UUID
    buyer_id: UUID
    order_id: UUID
    kind: EmailKind
    subject: str
    status: EmailStatus
    attempts: int
    final: bool
    """True when it is never to be sent again (recipient erased, or an attempt in doubt)."""
    last_error: str | None
    transport_id: str | None
    queued_at: datetime
    sending_since: datetime | None
    sent_at: datetime | None
    updated_at: datetime


def get_email(conn: Connection, email_id: UUID) -> EmailView | None:
    """One email; None when it was never queued."""
    found = conn.execute(select(EMAILS).where(EMAILS.c.email_id == email_id)).mappings().first()
    return None if found is None else EmailView.model_validate(dict(found))


def list_emails(
    conn: Connection,
    *,
    status: EmailStatus | None = None,
    order_id: UUID | None = None,
    page: PageRequest | None = None,
) -> Page[EmailView]:
    """Emails newest first (in the order they were queued), by status and/or order."""
    page = page or PageRequest()
    where: ColumnElement[bool] = true()
    if status is not None:
        where = and_(where, EMAILS.c.status == EmailStatus(status).value)
    if order_id is not None:
        where = and_(where, EMAILS.c.order_id == order_id)
    total = conn.scalar(select(func.count()).select_from(EMAILS).where(where)) or 0
    rows = conn.execute(
        select(EMAILS)
        .where(where)
        .order_by(EMAILS.c.queued_position.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).mappings()
    return Page[EmailView].of([EmailView.model_validate(dict(row)) for row in rows], page, total)


class QueryModelFailedEmails(FailedEmails):
    """The resend job's port answered from the `emails` query model instead of folding `$all`.

    The model may lag the events a little: an email it still shows failed may have been sent
    meanwhile, which the sender's claim (appended at the stream's version) then refuses.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, *, limit: int, stale_before: datetime) -> list[UUID]:
        """At most `limit` emails to try again, in the order they were queued."""
        retry = or_(
            and_(EMAILS.c.status == EmailStatus.FAILED.value, ~EMAILS.c.final),
            and_(
                EMAILS.c.status == EmailStatus.SENDING.value,
                EMAILS.c.sending_since < stale_before,
            ),
        )
        query = select(EMAILS.c.email_id).where(retry).order_by(EMAILS.c.queued_position)
        with self.engine.connect() as conn:
            return list(conn.scalars(query.limit(limit)))
