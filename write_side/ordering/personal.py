"""A buyer's personal data, always written `Sealed` under the buyer's key (subject = buyer id)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from write_side.domain import InvalidValue

#: Length limits, in characters.
NAME_MAX = 100
ADDRESS_PART_MAX = 50
#: **Decision**: DOMAIN.md gives no limit for the email; a buyer's email is where order emails
#: go, whose address the Notification context limits to 255.
EMAIL_MAX = 255

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class Contact(BaseModel):
    """A buyer's name and email; captured in each order placed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str
    email: str


class Address(BaseModel):
    """A buyer's postal address."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    street: str
    city: str
    province: str


def check_contact(contact: Contact) -> None:
    """Name required, ≤ 100; email required, an address, ≤ 255 (field `name`, `email`)."""
    _check_text(contact.name, "name", NAME_MAX, "name")
    _check_text(contact.email, "email", EMAIL_MAX, "email")
    if _EMAIL.fullmatch(contact.email) is None:
        raise InvalidValue(
            "email_invalid", f"{contact.email!r} is not an email address", field="email"
        )


def check_address(address: Address) -> None:
    """Street, city and province each required, ≤ 50 (fields `address.street`, …)."""
    for part in ("street", "city", "province"):
        _check_text(getattr(address, part), part, ADDRESS_PART_MAX, f"address.{part}")


def _check_text(value: str, name: str, limit: int, field: str) -> None:
    if not value:
        raise InvalidValue(f"{name}_required", f"the {name} is required", field=field)
    if len(value) > limit:
        raise InvalidValue(
            f"{name}_too_long",
            f"the {name} has {len(value)} characters, at most {limit}",
            field=field,
        )


__all__ = [
    "ADDRESS_PART_MAX",
    "EMAIL_MAX",
    "NAME_MAX",
    "Address",
    "Contact",
    "check_address",
    "check_contact",
]
