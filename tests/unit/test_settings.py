"""The settings object: defaults need nothing, the environment and `.env` override them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BOOKWORM_ variable of the developer's shell leaks in; no `.env` is found by accident."""
    import os

    for name in list(os.environ):
        if name.startswith("BOOKWORM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_embedded_default_needs_no_configuration() -> None:
    """Without any variable, every store is a file under ./var."""
    settings = load_settings()
    assert settings.data_dir == Path("var")
    assert settings.event_store == "sqlite:///var/events.db"
    assert settings.query_db_url == "sqlite:///var/query.db"
    assert settings.key_store_url == "sqlite:///var/keys.db"
    assert settings.redis_url is None
    assert settings.redis_namespace == "bookworm"
    assert settings.cache_path == Path("var/cache.db")
    assert settings.search_path == Path("var/search")
    assert settings.outbox_path == Path("var/outbox")
    assert settings.warehouse_path == Path("var/warehouse")
    assert settings.dagster_home == Path("var/dagster_home")


def test_the_data_dir_moves_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """BOOKWORM_DATA_DIR relocates the derived file locations."""
    monkeypatch.setenv("BOOKWORM_DATA_DIR", "/srv/bookworm")
    settings = load_settings()
    assert settings.event_store == "sqlite:////srv/bookworm/events.db"
    assert settings.query_db_url == "sqlite:////srv/bookworm/query.db"
    assert settings.key_store_url == "sqlite:////srv/bookworm/keys.db"
    assert settings.cache_path == Path("/srv/bookworm/cache.db")


def test_explicit_urls_win_over_derived_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A named event store or query database is used as given."""
    monkeypatch.setenv("BOOKWORM_EVENT_STORE", "esdb://localhost:2113?Tls=false")
    monkeypatch.setenv("BOOKWORM_QUERY_DB_URL", "postgresql+psycopg://localhost/test")
    settings = load_settings()
    assert settings.event_store == "esdb://localhost:2113?Tls=false"
    assert settings.query_db_url == "postgresql+psycopg://localhost/test"


def test_a_dot_env_file_is_read(tmp_path: Path) -> None:
    """`.env` in the working directory supplies settings too."""
    (tmp_path / ".env").write_text("BOOKWORM_REDIS_URL=redis://127.0.0.1:6379/0\n")
    assert load_settings().redis_url == "redis://127.0.0.1:6379/0"


def test_secrets_are_masked_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """The JWT secret never appears in the described settings."""
    monkeypatch.setenv("BOOKWORM_JWT_SECRET", "s3cret-value")
    settings = load_settings()
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in str(settings.described())
    assert settings.described()["jwt_secret"] == "********"


def test_settings_are_immutable() -> None:
    """Settings are read once; nobody changes them afterwards."""
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.data_dir = Path("/elsewhere")  # type: ignore[misc]


def test_importing_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are read when loaded, not when modules are imported."""
    import importlib

    import api.settings

    monkeypatch.setenv("BOOKWORM_DATA_DIR", "/first")
    importlib.reload(api.settings)
    monkeypatch.setenv("BOOKWORM_DATA_DIR", "/second")
    assert api.settings.load_settings().data_dir == Path("/second")


def test_the_worker_live_window_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """BOOKWORM_WORKER_LIVE_WINDOW_S sets the worker's window; a negative one is refused,
    naming the variable's field."""
    assert load_settings().worker_live_window_s == 0.05
    monkeypatch.setenv("BOOKWORM_WORKER_LIVE_WINDOW_S", "0")
    assert load_settings().worker_live_window_s == 0.0
    monkeypatch.setenv("BOOKWORM_WORKER_LIVE_WINDOW_S", "-1")
    with pytest.raises(ValueError, match="worker_live_window_s"):
        load_settings()


def test_the_redis_namespace_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """`BOOKWORM_REDIS_NAMESPACE` names the deployment's keys; a value that would run into the
    `:` separators of the keys is refused, naming the setting."""
    monkeypatch.setenv("BOOKWORM_REDIS_NAMESPACE", "bookworm-staging")
    assert load_settings().redis_namespace == "bookworm-staging"
    monkeypatch.setenv("BOOKWORM_REDIS_NAMESPACE", "a:b")
    with pytest.raises(ValidationError, match="redis_namespace"):
        load_settings()
