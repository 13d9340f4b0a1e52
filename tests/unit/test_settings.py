"""The settings object: defaults need nothing, the environment and `.env` override them."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import InvalidSettings, load_settings


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
    monkeypatch.setenv("BOOKWORM_JWT_SECRET", "s3cret-value-of-32-characters-ok")
    settings = load_settings()
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == "s3cret-value-of-32-characters-ok"
    assert "s3cret-value-of-32-characters-ok" not in str(settings.described())
    assert settings.described()["jwt_secret"] == "********"


def test_settings_are_immutable() -> None:
    """Settings are read once; nobody changes them afterwards."""
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.data_dir = Path("/elsewhere")  # type: ignore[misc]


def test_importing_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are read when loaded, not when modules are imported."""
    import importlib.util
    import sys

    import api.settings

    # A fresh copy of the module, imported beside the one every other test holds (a reload
    # would swap the classes those tests imported).
    spec = importlib.util.spec_from_file_location("fresh_settings", api.settings.__file__)
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fresh_settings", fresh)  # pydantic resolves names there
    monkeypatch.setenv("BOOKWORM_DATA_DIR", "/first")
    spec.loader.exec_module(fresh)
    monkeypatch.setenv("BOOKWORM_DATA_DIR", "/second")
    assert fresh.load_settings().data_dir == Path("/second")


def test_the_worker_live_window_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """BOOKWORM_WORKER_LIVE_WINDOW_S sets the worker's window; a negative one is refused,
    naming the variable's field."""
    assert load_settings().worker_live_window_s == 0.05
    monkeypatch.setenv("BOOKWORM_WORKER_LIVE_WINDOW_S", "0")
    assert load_settings().worker_live_window_s == 0.0
    monkeypatch.setenv("BOOKWORM_WORKER_LIVE_WINDOW_S", "-1")
    with pytest.raises(InvalidSettings, match="BOOKWORM_WORKER_LIVE_WINDOW_S"):
        load_settings()


def test_the_redis_namespace_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """`BOOKWORM_REDIS_NAMESPACE` names the deployment's keys; a value that would run into the
    `:` separators of the keys is refused, naming the setting."""
    monkeypatch.setenv("BOOKWORM_REDIS_NAMESPACE", "bookworm-staging")
    assert load_settings().redis_namespace == "bookworm-staging"
    monkeypatch.setenv("BOOKWORM_REDIS_NAMESPACE", "a:b")
    with pytest.raises(InvalidSettings, match=r"^BOOKWORM_REDIS_NAMESPACE: String should match"):
        load_settings()


def test_refused_values_name_each_variable_and_hide_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every refused variable is one line: its name, the reason, and the value given, except
    for a secret's."""
    monkeypatch.setenv("BOOKWORM_READ_WAIT_S", "soon")
    monkeypatch.setenv("BOOKWORM_WORKER_LIVE_WINDOW_S", "9")
    monkeypatch.setenv("BOOKWORM_JWT_SECRET", "too-short-a-secret")
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    assert str(refused.value).splitlines() == [
        "BOOKWORM_JWT_SECRET: Value error, an HS256 secret needs at least 32 characters, got 18",
        "BOOKWORM_READ_WAIT_S: Input should be a valid number, unable to parse string as a "
        "number (given: 'soon')",
        "BOOKWORM_WORKER_LIVE_WINDOW_S: Input should be less than or equal to 5 (given: '9')",
    ]
    assert "too-short-a-secret" not in str(refused.value)
