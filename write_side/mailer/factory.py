"""The email transport the settings name."""

from __future__ import annotations

from pathlib import Path

from write_side.domain import Clock
from write_side.mailer.outbox import OutboxFolderTransport
from write_side.mailer.smtp import SmtpTransport
from write_side.notification.transport import DEFAULT_SENDER, EmailTransport


def open_email_transport(
    smtp_url: str | None,
    outbox_path: Path,
    *,
    sender: str = DEFAULT_SENDER,
    clock: Clock | None = None,
) -> EmailTransport:
    """SMTP when `smtp_url` is set (`BOOKWORM_SMTP_URL`), else `.eml` files in `outbox_path`."""
    if smtp_url:
        return SmtpTransport(smtp_url, sender=sender, clock=clock)
    return OutboxFolderTransport(outbox_path, sender=sender, clock=clock)


__all__ = ["open_email_transport"]
