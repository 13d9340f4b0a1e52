"""The embedded email transport: each email becomes one `.eml` file in an outbox folder.

The file is named by the email's id and written atomically: the message goes to a temporary
file, is flushed to disk, and is then hard-linked to its name, which fails when the name
exists. So a reader never sees half a file, and an email handed over twice (by two senders)
still leaves exactly one file, the first. The file *is* the sent email, so this transport
knows what it sent (`find`), which lets the sender settle an attempt its sender abandoned.

The folder stands for a mail server's pickup directory: a file written there is an email sent.
**Decision**: forgetting a buyer later does not reach into it, as it cannot reach into a
mailbox an SMTP server delivered to; what the platform keeps (the email's stream) is sealed and
reads as erased, and an email not yet sent when its buyer is forgotten is never written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from email.policy import SMTP
from pathlib import Path
from typing import ClassVar
from uuid import UUID

from write_side.domain import Clock, SystemClock
from write_side.notification.transport import (
    DEFAULT_SENDER,
    EmailTransport,
    OutgoingEmail,
    TransportError,
)


class OutboxFolderTransport(EmailTransport):
    """Writes `<folder>/<email id>.eml` (RFC 5322, CRLF line ends), once per email."""

    knows_what_it_sent: ClassVar[bool] = True

    def __init__(
        self, folder: Path, *, sender: str = DEFAULT_SENDER, clock: Clock | None = None
    ) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self.clock = clock or SystemClock()

    def path_for(self, email_id: UUID) -> Path:
        """Where the email with this id is (or would be) written."""
        return self.folder / f"{email_id}.eml"

    def send(self, email: OutgoingEmail) -> str:
        """Write the email's file unless it exists; its file name."""
        final = self.path_for(email.email_id)
        if final.exists():
            return final.name
        data = email.to_mime(self.sender, self.clock.now()).as_bytes(policy=SMTP)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write_once(final, data)
        except OSError as error:
            raise TransportError(f"cannot write {final}: {error}") from error
        return final.name

    def find(self, email_id: UUID) -> str | None:
        """The file name of the email, None when it was never written."""
        path = self.path_for(email_id)
        return path.name if path.exists() else None

    def close(self) -> None:
        """Nothing to release."""

    def _write_once(self, final: Path, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{final.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another sender wrote it first
                os.link(temporary, final)
        finally:
            os.unlink(temporary)
        _fsync_folder(self.folder)


def _fsync_folder(folder: Path) -> None:
    # The new name must survive a power cut too; directories cannot be opened on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["OutboxFolderTransport"]
