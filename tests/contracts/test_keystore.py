"""Contract of the personal-data key store, on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contracts.conftest import POSTGRES_URL
from write_side.domain import KeyStore
from write_side.keystore import SqliteKeyStore, SqlKeyStore, SubjectForgotten


@pytest.fixture(
    params=["sqlite", "sqlalchemy_sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def key_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SqliteKeyStore | SqlKeyStore]:
    """The embedded file (plain sqlite3, the default), the SQLAlchemy store on a SQLite file,
    and the SQLAlchemy store on this machine's PostgreSQL (production)."""
    store: SqliteKeyStore | SqlKeyStore
    if request.param == "sqlite":
        store = SqliteKeyStore(tmp_path / "keys.db")
    elif request.param == "sqlalchemy_sqlite":
        store = SqlKeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    else:
        store = SqlKeyStore(POSTGRES_URL, schema=f"k_{uuid.uuid4().hex[:12]}")
    yield store
    store.drop()
    store.close()


def test_a_key_is_made_once_and_kept(key_store: KeyStore) -> None:
    subject = uuid.uuid4()

    assert key_store.find(subject) is None
    made = key_store.key(subject)

    assert len(made) == 32
    assert key_store.key(subject) == made
    assert key_store.find(subject) == made
    assert key_store.key(uuid.uuid4()) != made


def test_concurrent_first_uses_agree_on_one_key(key_store: KeyStore) -> None:
    subject = uuid.uuid4()
    start = threading.Barrier(8)
    seen: list[bytes] = []

    def use() -> None:
        start.wait()
        seen.append(key_store.key(subject))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(seen)) == 1
    assert key_store.find(subject) == seen[0]


def test_a_forgotten_subject_has_no_key_ever_again(key_store: KeyStore) -> None:
    subject = uuid.uuid4()
    key_store.key(subject)

    assert key_store.forget(subject)

    assert key_store.find(subject) is None
    assert not key_store.forget(subject)
    with pytest.raises(SubjectForgotten):
        key_store.key(subject)


def test_forgetting_an_unknown_subject_blocks_it_too(key_store: KeyStore) -> None:
    subject = uuid.uuid4()

    assert not key_store.forget(subject)

    with pytest.raises(SubjectForgotten):
        key_store.key(subject)
