"""Adapters of the personal-data key store port (`write_side.domain.personal.KeyStore`)."""

from write_side.keystore.sql import SqlKeyStore, SubjectForgotten
from write_side.keystore.sqlite import SqliteKeyStore

__all__ = ["SqlKeyStore", "SqliteKeyStore", "SubjectForgotten", "open_key_store"]


def open_key_store(url: str) -> SqlKeyStore | SqliteKeyStore:
    """The key store a URL names: `sqlite:///path` (the embedded file) or a SQLAlchemy URL
    (`postgresql+psycopg://…`)."""
    if url.startswith("sqlite:///"):
        return SqliteKeyStore(url.removeprefix("sqlite:///"))
    return SqlKeyStore(url)
