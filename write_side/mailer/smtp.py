"""The SMTP email transport (`BOOKWORM_SMTP_URL`: `smtp://[user:password@]host[:port]`, with
`?starttls=true` to upgrade the connection, or `smtps://` for TLS from the start).

One connection per email: emails are few and a connection kept open would only go stale. The
transport tells a refusal (the server answered with an error: not delivered) from a broken
connection after the whole message went out (`in_doubt`: the server may have taken it). SMTP
gives no way to ask afterwards, so this transport does not know what it sent.
"""

from __future__ import annotations

import smtplib
import ssl
from email.policy import SMTP
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from write_side.domain import Clock, SystemClock
from write_side.notification.transport import (
    DEFAULT_SENDER,
    EmailTransport,
    OutgoingEmail,
    TransportError,
)

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class SmtpTransport(EmailTransport):
    """Sends each email to an SMTP server; its transport id is the Message-ID."""

    def __init__(
        self,
        url: str,
        *,
        sender: str = DEFAULT_SENDER,
        timeout_s: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an SMTP URL (smtp://host:port or smtps://…): {url!r}")
        self.host = parts.hostname
        self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() == "true"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout_s = timeout_s
        self.clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host}:{self.port})"

    def send(self, email: OutgoingEmail) -> str:
        """Deliver one email to the server; its Message-ID."""
        message = email.to_mime(self.sender, self.clock.now()).as_bytes(policy=SMTP)
        envelope_from = parseaddr(self.sender)[1]
        data_started = False
        try:
            smtp = self._connect()
            try:
                code, reply = smtp.mail(envelope_from)
                if code != 250:
                    raise TransportError(f"MAIL FROM refused: {code} {reply!r}")
                code, reply = smtp.rcpt(email.to_address)
                if code not in (250, 251):
                    raise TransportError(f"RCPT TO refused: {code} {reply!r}")
                data_started = True
                code, reply = smtp.data(message)
                if code != 250:  # an answer, so the server did not take it
                    raise TransportError(f"message refused: {code} {reply!r}")
            finally:
                _close_quietly(smtp)
        except smtplib.SMTPDataError as refused:
            raise TransportError(
                f"message refused: {refused.smtp_code} {refused.smtp_error!r}"
            ) from refused
        except (smtplib.SMTPException, OSError) as error:
            # Once DATA began, a broken connection leaves the outcome unknown (taken as in doubt:
            # an email is rather lost than sent twice).
            raise TransportError(f"SMTP failed: {error!r}", in_doubt=data_started) from error
        return email.message_id

    def close(self) -> None:
        """Nothing to release (one connection per email)."""

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        smtp.ehlo()
        if self.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self.username is not None:
            smtp.login(self.username, self.password or "")
        return smtp


def _close_quietly(smtp: smtplib.SMTP) -> None:
    # A failing QUIT changes nothing: the server took the message or refused it before.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


__all__ = ["SmtpTransport"]
