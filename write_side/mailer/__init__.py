"""Adapters of the email transport port (`write_side.notification.transport`): the outbox folder
of `.eml` files (the embedded default) and SMTP."""

from write_side.mailer.factory import open_email_transport
from write_side.mailer.outbox import OutboxFolderTransport
from write_side.mailer.smtp import SmtpTransport

__all__ = ["OutboxFolderTransport", "SmtpTransport", "open_email_transport"]
