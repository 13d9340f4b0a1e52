"""Adapters of the personal-data key store port (`write_side.domain.personal.KeyStore`)."""

from write_side.keystore.sql import SqlKeyStore, SubjectForgotten

__all__ = ["SqlKeyStore", "SubjectForgotten"]
