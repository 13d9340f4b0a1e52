"""Bearer tokens: who calls, with which roles.

Embedded mode signs and verifies HS256 tokens with `BOOKWORM_JWT_SECRET` (or a secret generated
once into `<data dir>/jwt-secret`); production verifies the identity provider's tokens with its
public key, issuer and audience. A token carries `sub` (a user's id is its buyer id, a UUID)
and `roles` (`admin`, `user`, `reporter`). No token at all is an anonymous caller, who may read
the catalog and post feedback; a token that is present but invalid is always a 401.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from uuid import UUID

import jwt

from api.settings import Settings

Role = Literal["admin", "user", "reporter"]
ROLES: frozenset[str] = frozenset(get_args(Role))

#: How long a development token minted by `bookworm token` lives unless told otherwise.
DEFAULT_TOKEN_TTL = timedelta(days=30)


class InvalidToken(Exception):
    """The bearer token cannot be trusted (bad signature, expired, wrong issuer, bad claims)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: its subject (None when anonymous) and roles."""

    subject: str | None
    roles: frozenset[str]

    @classmethod
    def anonymous(cls) -> Principal:
        """A caller without a token."""
        return cls(subject=None, roles=frozenset())

    @property
    def is_admin(self) -> bool:
        """Whether the caller holds the `admin` role."""
        return "admin" in self.roles

    @property
    def user_id(self) -> UUID | None:
        """The caller's user id (its buyer and basket id) when it is a user, else None."""
        if "user" not in self.roles or self.subject is None:
            return None
        return UUID(self.subject)

    @property
    def actor(self) -> str:
        """Who the events of the caller's commands say asked."""
        return self.subject or "anonymous"


def signing_secret(settings: Settings) -> str:
    """The HS256 secret: the configured one, else the one generated into the data folder."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.jwt_secret_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created with 0600 and never overwritten: a second process racing us keeps ours.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Authenticator:
    """Verifies bearer tokens (and mints development ones) as the settings say."""

    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        if settings.jwt_public_key:
            self._key: str = settings.jwt_public_key
            self._algorithms = ["RS256", "ES256"]
            self._secret: str | None = None
        else:
            self._secret = signing_secret(settings)
            self._key = self._secret
            self._algorithms = ["HS256"]

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `InvalidToken` saying why otherwise."""
        required = (
            ["sub", "exp"] + (["iss"] if self._issuer else []) + (["aud"] if self._audience else [])
        )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": required, "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        subject, roles = claims.get("sub"), claims.get("roles", [])
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("the token's subject must be a non-empty string")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidToken("the token's roles must be a list of strings")
        known = frozenset(roles) & ROLES
        if "user" in known:
            try:
                UUID(subject)
            except ValueError:
                raise InvalidToken("a user's subject must be its id (a UUID)") from None
        return Principal(subject=subject, roles=known)

    def mint(
        self, subject: str, roles: Iterable[str], *, ttl: timedelta = DEFAULT_TOKEN_TTL
    ) -> str:
        """A signed token for `subject` with `roles` (embedded mode only)."""
        if self._secret is None:
            raise ValueError("tokens are issued by the identity provider when a public key is set")
        unknown = sorted(set(roles) - ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {sorted(ROLES)}")
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": subject,
            "roles": sorted(set(roles)),
            "iat": now,
            "exp": now + ttl,
        }
        if self._issuer:
            claims["iss"] = self._issuer
        if self._audience:
            claims["aud"] = self._audience
        if "user" in claims["roles"]:
            UUID(subject)  # a user's subject is its buyer id: refuse anything else now
        return jwt.encode(claims, self._secret, algorithm="HS256")
