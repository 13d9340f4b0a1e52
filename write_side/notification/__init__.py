"""The Notification bounded context: emails to buyers about their orders (stream `email-{id}`),
queued by the order saga and sent by the email sender."""

from write_side.notification.commands import EmailKind, QueueEmail

__all__ = ["EmailKind", "QueueEmail"]
