"""Field types with one canonical JSON form, for events and metadata alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

_CENT = Decimal("0.01")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _reject_float(value: Any) -> Any:
    # A float has already lost the exact amount; refusing it makes the caller pass a str or Decimal.
    if isinstance(value, float):
        raise ValueError("money must be given as a Decimal or a string, never a float")
    return value


def _to_cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


#: An aware datetime, normalised to UTC; serialized as ISO-8601 ending in "Z". Naive ones fail.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

#: An amount of money: a finite Decimal with at most 2 places, kept at exactly 2 ("12.50"),
#: serialized as a JSON string so it round-trips exactly.
Money = Annotated[
    Decimal,
    BeforeValidator(_reject_float),
    Field(decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
]
