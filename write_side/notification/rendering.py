"""What each kind of email says: its subject and its HTML body, rendered from the order.

Rendering happens once, when the email is queued, and what it gives is written in the event:
the email sent later (or re-sent an hour later) says exactly what was queued, whatever the
templates have become since. Every value is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from uuid import UUID

from write_side.notification.commands import EmailKind
from write_side.notification.email import BODY_MAX, SUBJECT_PREFIX
from write_side.ordering import OrderLine

_SUBJECTS = {
    EmailKind.ORDER_RECEIVED: "we received your order {ref}",
    EmailKind.ORDER_COMPLETED: "your order {ref} is completed and shipped",
    EmailKind.ORDER_CANCELLED: "your order {ref} was cancelled",
}

_INTROS = {
    EmailKind.ORDER_RECEIVED: "Thank you for your order. We have received it and are "
    "preparing it now.",
    EmailKind.ORDER_COMPLETED: "Good news: your order is completed and on its way to you.",
    EmailKind.ORDER_CANCELLED: "Your order was cancelled. Nothing will be charged or shipped.",
}


def order_reference(order_id: UUID) -> str:
    """How an email names an order: `#` and the first 8 hex digits of its id."""
    return f"#{order_id.hex[:8]}"


def render_subject(kind: EmailKind, order_id: UUID) -> str:
    """The subject of an email of `kind` about the order (≤ 100 characters)."""
    return SUBJECT_PREFIX + _SUBJECTS[kind].format(ref=order_reference(order_id))


def render_body(
    kind: EmailKind,
    to_name: str,
    order_id: UUID,
    items: Sequence[OrderLine],
    total: Decimal | None,
) -> str:
    """The HTML body: a greeting, what happened, the order's lines and total.

    An order too long for the body's limit lists its first lines and says how many more.
    """
    shown = len(items)
    while True:
        body = _body(kind, to_name, order_id, items[:shown], len(items) - shown, total)
        if len(body) <= BODY_MAX or shown == 0:
            return body[:BODY_MAX]
        shown = max(0, shown - max(1, shown // 4))


def _body(
    kind: EmailKind,
    to_name: str,
    order_id: UUID,
    items: Sequence[OrderLine],
    more: int,
    total: Decimal | None,
) -> str:
    rows = "".join(
        f"<tr><td>{escape(line.book_name)}</td><td>{line.quantity}</td>"
        f"<td>{line.unit_price}</td></tr>"
        for line in items
    )
    if more:
        rows += f'<tr><td colspan="3">and {more} more</td></tr>'
    table = ""
    if rows:
        total_row = "" if total is None else f'<tr><td colspan="2">Total</td><td>{total}</td></tr>'
        table = (
            "<table><tr><th>Book</th><th>Quantity</th><th>Unit price</th></tr>"
            f"{rows}{total_row}</table>"
        )
    return (
        "<!DOCTYPE html><html><body>"
        f"<p>Dear {escape(to_name)},</p>"
        f"<p>{_INTROS[kind]}</p>"
        f"<p>Order {order_reference(order_id)} ({order_id})</p>"
        f"{table}"
        "<p>BookWorm</p>"
        "</body></html>"
    )


__all__ = ["order_reference", "render_body", "render_subject"]
