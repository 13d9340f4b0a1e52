"""Contract of the personal-data key store, on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import POSTGRES_URL
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


def test_many_threads_making_keys_at_once_each_get_their_own(key_store: KeyStore) -> None:
    """Concurrent first uses of different subjects (the embedded store commits them together)
    each get a key of their own, readable afterwards; a forget among them takes effect."""
    forgotten = uuid.uuid4()
    key_store.key(forgotten)
    start = threading.Barrier(9)
    made: dict[uuid.UUID, bytes] = {}
    errors: list[BaseException] = []

    def make(count: int) -> None:
        start.wait()
        try:
            for _ in range(count):
                subject = uuid.uuid4()
                made[subject] = key_store.key(subject)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=make, args=(25,)) for _ in range(8)]
    threads.append(threading.Thread(target=lambda: (start.wait(), key_store.forget(forgotten))))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(made) == 200
    assert len(set(made.values())) == 200
    assert all(key_store.find(subject) == key for subject, key in made.items())
    assert key_store.find(forgotten) is None


def test_keys_made_by_concurrent_threads_are_durable(tmp_path: Path) -> None:
    """The embedded store's shared commits are durable: a new store on the file finds them."""
    path = tmp_path / "keys.db"
    first = SqliteKeyStore(path)
    subjects = [uuid.uuid4() for _ in range(64)]
    keys: dict[uuid.UUID, bytes] = {}

    def make(mine: list[uuid.UUID]) -> None:
        for subject in mine:
            keys[subject] = first.key(subject)

    threads = [threading.Thread(target=make, args=(subjects[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.close()

    reopened = SqliteKeyStore(path)
    try:
        assert {subject: reopened.find(subject) for subject in subjects} == keys
    finally:
        reopened.close()
