"""Errors of the domain: a broken business rule names the rule and the field it concerns."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a rule of the domain; nothing was written.

    `rule` is a stable snake_case name (`book_deleted`, `category_name_taken`), `field` the
    command field at fault when there is one; the API turns both into problem details.
    """

    status = 409

    def __init__(self, rule: str, message: str, *, field: str | None = None) -> None:
        self.rule = rule
        self.field = field
        super().__init__(message)


class InvalidValue(DomainError):
    """A command field's value breaks a rule of its own (required, too long, malformed, out of
    range), whatever the aggregate's state: a validation error (422) at the edge."""

    status = 422


class NotFound(DomainError):
    """The aggregate a command or a reference names does not exist."""

    status = 404


class ConcurrencyConflict(DomainError):
    """The aggregate changed under the command more often than it retries, or it was not at the
    version the caller said it had read (`If-Match`)."""

    status = 409


class StaleVersion(ConcurrencyConflict):
    """The caller's expected version (`If-Match`) is not the aggregate's: 412 at the edge."""

    status = 412
