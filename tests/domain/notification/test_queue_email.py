"""QueueEmail: given an order, when the saga queues an email, then EmailQueued says what to whom
(sealed), rendered from the order; the rules of its values; once however often it comes."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from tests.domain.notification.conftest import Mail
from write_side.domain import DomainError, InvalidValue, NotFound
from write_side.notification import (
    Email,
    EmailKind,
    EmailQueued,
    EmailStatus,
    render_body,
    render_subject,
)
from write_side.ordering import OrderLine


def test_an_email_is_queued_with_its_subject_and_body_rendered_from_the_order(
    mail: Mail,
) -> None:
    email_id = mail.queue(EmailKind.ORDER_RECEIVED)

    [queued] = mail.events(email_id)
    assert isinstance(queued, EmailQueued)
    assert (queued.email_id, queued.buyer_id, queued.order_id, queued.kind) == (
        email_id,
        mail.buyer_id,
        mail.order_id,
        EmailKind.ORDER_RECEIVED,
    )
    assert queued.subject == f"BookWorm: we received your order #{mail.order_id.hex[:8]}"
    content = queued.content.require()
    assert (content.to_name, content.to_address) == (mail.name, mail.address)
    body = content.html_body
    assert f"Dear {mail.name}," in body
    assert "<td>Dune</td><td>2</td><td>9.99</td>" in body
    assert "<td>Emma &lt;&amp; Co&gt;</td><td>1</td><td>10.00</td>" in body
    assert "<td>Total</td><td>29.98</td>" in body.replace(' colspan="2"', "")
    assert mail.email(email_id).status is EmailStatus.QUEUED


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (EmailKind.ORDER_RECEIVED, "we received your order"),
        (EmailKind.ORDER_COMPLETED, "is completed and shipped"),
        (EmailKind.ORDER_CANCELLED, "was cancelled"),
    ],
)
def test_each_kind_has_its_subject(mail: Mail, kind: EmailKind, subject: str) -> None:
    email = mail.email(mail.queue(kind))

    assert email.subject.startswith("BookWorm: ")
    assert subject in email.subject
    assert len(email.subject) <= 100
    assert email.kind is kind


def test_the_recipient_and_body_are_never_stored_in_the_clear(mail: Mail) -> None:
    email_id = mail.queue()

    [raw] = mail.repository.store.read_stream(Email.stream_for(email_id))
    assert mail.name.encode() not in raw.data
    assert mail.address.encode() not in raw.data
    assert b"Dune" not in raw.data
    assert mail.order_id.hex[:8].encode() in raw.data  # the subject stays readable


def test_the_same_command_twice_queues_once(mail: Mail) -> None:
    command = mail.queue_command()

    first = mail.send(command)
    again = mail.send(command)

    assert again.replayed
    assert (again.revision, again.position) == (first.revision, first.position)
    assert len(mail.events(command.email_id)) == 1


def test_another_request_for_the_same_email_writes_nothing(mail: Mail) -> None:
    email_id = mail.queue()

    repeat = mail.send(mail.queue_command(email_id=email_id))

    assert repeat.events == ()
    assert len(mail.events(email_id)) == 1


def test_the_same_email_id_for_another_kind_is_refused(mail: Mail) -> None:
    email_id = mail.queue(EmailKind.ORDER_RECEIVED)

    with pytest.raises(DomainError) as refused:
        mail.send(mail.queue_command(EmailKind.ORDER_CANCELLED, email_id=email_id))

    assert refused.value.rule == "email_exists"
    assert len(mail.events(email_id)) == 1


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"to_name": ""}, "to_name_required"),
        ({"to_name": "x" * 101}, "to_name_too_long"),
        ({"to_name": "Ada\r\nBcc: all@example.org"}, "to_name_invalid"),
        ({"to_address": ""}, "to_address_required"),
        ({"to_address": "a" * 244 + "@example.org"}, "to_address_too_long"),
        ({"to_address": "not an address"}, "to_address_invalid"),
    ],
)
def test_recipient_rules(mail: Mail, changes: dict[str, object], rule: str) -> None:
    command = mail.queue_command(EmailKind.ORDER_RECEIVED, **changes)

    with pytest.raises(InvalidValue) as refused:
        mail.send(command)

    assert refused.value.rule == rule
    assert mail.events(command.email_id) == []


def test_the_longest_recipient_is_taken(mail: Mail) -> None:
    email_id = mail.queue(to_name="x" * 100, to_address="a" * 243 + "@example.org")

    content = mail.email(email_id).content
    assert content is not None
    assert len(content.require().to_address) == 255


def test_an_email_about_an_unknown_order_is_refused(mail: Mail) -> None:
    command = mail.queue_command(order_id=uuid4())

    with pytest.raises(NotFound):
        mail.send(command)

    assert mail.events(command.email_id) == []


def test_a_long_order_lists_its_first_lines_within_the_body_limit() -> None:
    order_id = uuid4()
    lines = [
        OrderLine(book_id=uuid4(), book_name=f"{n:03} " + "x" * 46, quantity=1, unit_price=1)
        for n in range(200)
    ]

    body = render_body(EmailKind.ORDER_RECEIVED, "Ada", order_id, lines, Decimal("200.00"))

    assert len(body) <= 10_000
    assert "<td>000 " in body
    assert "more</td>" in body
    assert body.endswith("</html>")
    assert len(render_subject(EmailKind.ORDER_COMPLETED, order_id)) <= 100
