"""The platform's settings: environment variables (or `.env`), read once into one typed object.

Nothing reads the environment at import time: a composition root (the command line, the API's
`create_app`, Dagster's definitions) calls `load_settings()` once and passes the object down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The shortest HS256 secret accepted (RFC 7518: a key of at least 256 bits).
MIN_JWT_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Where every part of the platform keeps its data; the defaults need no server at all."""

    model_config = SettingsConfigDict(
        env_prefix="BOOKWORM_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("var")
    """Root of every embedded file: events, query tables, cache, search index, warehouse."""
    event_store: str = ""
    """`sqlite:///<path>` (default `<data dir>/events.db`), or `esdb://…` / `esdb+discover://…`."""
    query_db_url: str = ""
    """SQLAlchemy URL of the query tables (default `sqlite:///<data dir>/query.db`)."""
    key_store_url: str = ""
    """SQLAlchemy URL of the personal-data keys (default `sqlite:///<data dir>/keys.db`); kept
    apart from the events, which a key must never travel with."""
    redis_url: str | None = None
    """Redis for cache, idempotency keys and locks; unset: the file `<data dir>/cache.db`."""
    redis_namespace: str = Field(default="bookworm", pattern=r"^[A-Za-z0-9_.-]+$")
    """The prefix of every key the platform writes to Redis (`<namespace>:…`): deployments
    sharing one Redis (staging beside production, say) each take their own."""
    qdrant_url: str | None = None
    """Qdrant server; unset: the in-process Qdrant Edge index at `<data dir>/search/`."""
    amqp_url: str | None = None
    """RabbitMQ for integration events; unset: no broker."""
    jwt_secret: SecretStr | None = None
    """HS256 secret of the API's bearer tokens (embedded mode), at least 32 characters; unset: a
    secret generated once into `<data dir>/jwt-secret`, shared by `bookworm serve` and `bookworm
    token`."""
    jwt_public_key: str | None = None
    """PEM public key of the identity provider (production): tokens are then verified with it
    (RS256/ES256), and must carry `jwt_issuer` and `jwt_audience`."""
    jwt_issuer: str | None = None
    """The `iss` a token must carry (checked when set)."""
    jwt_audience: str | None = None
    """The `aud` a token must carry (checked when set)."""
    rate_limits: bool = True
    """Whether the API enforces DOMAIN.md's per-client rate limits (off for load tests)."""
    read_wait_s: float = 2.0
    """How long a query with `X-Min-Position` waits for its query model to reach it."""
    ready_max_lag_s: float = 30.0
    """`/ready` fails while a projection's oldest unread event is older than this."""
    worker_live_window_s: float = Field(default=0.05, ge=0.0, le=5.0)
    """`bookworm worker`, on the live tail: how long its subscriptions let new commits gather
    before reading them, and its projections let a batch gather before applying it. A steady
    stream of commits then costs each projection one read and one transaction per window, not
    one per commit; a query model shows an event up to about twice this later (0: at once)."""
    smtp_url: str | None = None
    """SMTP server for emails; unset: `.eml` files in `<data dir>/outbox/`."""

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        # RFC 7518 3.2: an HS256 key has at least 256 bits; anything shorter can be guessed.
        if secret is not None and len(secret.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(
                f"an HS256 secret needs at least {MIN_JWT_SECRET_LENGTH} characters, "
                f"got {len(secret.get_secret_value())}"
            )
        return secret

    @model_validator(mode="before")
    @classmethod
    def _derive_defaults(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        for name, url in embedded_urls(Path(values.get("data_dir") or "var")).items():
            if not values.get(name):
                values[name] = url
        return values

    @property
    def cache_path(self) -> Path:
        """The SQLite-file twin of Redis, used when `redis_url` is unset."""
        return self.data_dir / "cache.db"

    @property
    def search_path(self) -> Path:
        """The embedded search index, used when `qdrant_url` is unset."""
        return self.data_dir / "search"

    @property
    def outbox_path(self) -> Path:
        """Where the embedded email transport writes `.eml` files."""
        return self.data_dir / "outbox"

    @property
    def jwt_secret_path(self) -> Path:
        """Where the generated embedded-mode token secret is kept when `jwt_secret` is unset."""
        return self.data_dir / "jwt-secret"

    @property
    def demo_path(self) -> Path:
        """Where `bookworm demo` keeps the store it simulates (a data directory of its own)."""
        return self.data_dir / "demo"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse and its published snapshots."""
        return self.data_dir / "warehouse"

    @property
    def dagster_home(self) -> Path:
        """Dagster's home (run storage, logs)."""
        return self.data_dir / "dagster_home"

    def described(self) -> dict[str, str]:
        """Every setting as text for display, secrets masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "********"
            else:
                shown[name] = "(unset)" if value is None else str(value)
        return shown


def embedded_urls(data_dir: Path) -> dict[str, str]:
    """The embedded stores' connection strings in `data_dir`: events, query tables, keys."""
    return {
        "event_store": f"sqlite:///{data_dir / 'events.db'}",
        "query_db_url": f"sqlite:///{data_dir / 'query.db'}",
        "key_store_url": f"sqlite:///{data_dir / 'keys.db'}",
    }


class InvalidSettings(ValueError):
    """A setting's value is refused: one line per variable, naming it and the reason."""


def load_settings(**overrides: Any) -> Settings:
    """Read the environment and `.env` once; keyword overrides win (tests, command-line flags).

    Raises `InvalidSettings` naming each refused variable (`BOOKWORM_…`), the reason, and the
    value given unless it is a secret.
    """
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise InvalidSettings("\n".join(_refusals(error))) from error


def _refusals(error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        field = Settings.model_fields.get(name)
        secret = field is not None and field.annotation in (SecretStr, SecretStr | None)
        given = "" if secret or "input" not in problem else f" (given: {problem['input']!r})"
        lines.append(f"BOOKWORM_{name.upper()}: {problem['msg']}{given}")
    return lines
