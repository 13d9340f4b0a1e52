"""Opening a buyer's sealed personal data for a read model, erased once the buyer is forgotten.

`ForgetBuyer` deletes the key first and then records `BuyerForgotten`. A projection that opens
an event while the key still exists writes plaintext; when it later sees `BuyerForgotten` it
erases those rows, and from then on it must never write the buyer's plaintext again, even if
it meets an older event of the buyer whose data could (through some other key copy, or a key
store that lags) still be opened. So each model remembers whom it has seen forgotten and asks
`PersonalData.open` with that knowledge.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from write_side.domain import ERASED, Crypto, KeyStore, Sealed
from write_side.envelope import DomainEvent

T = TypeVar("T", bound=BaseModel)
E = TypeVar("E", bound=DomainEvent)

__all__ = ["ERASED", "KeyStoreMissing", "PersonalData"]


class KeyStoreMissing(RuntimeError):
    """A projection that reads personal data was built without the key store."""


class PersonalData:
    """Opens the `Sealed` fields of events with the key store, for one projection."""

    def __init__(self, keys: KeyStore | None, projection: str) -> None:
        self._crypto = None if keys is None else Crypto(keys)
        self._projection = projection

    def opened(self, event: E) -> E:
        """A copy of `event` whose personal data is readable, or marked erased."""
        if self._crypto is None:
            raise KeyStoreMissing(
                f"{self._projection} reads personal data: give it the key store "
                "(all_projections(keys=...))"
            )
        return self._crypto.open(event)

    @staticmethod
    def value(sealed: Sealed[T], *, forgotten: bool) -> T | None:
        """The opened value, or None when erased or its subject is known to be forgotten."""
        return None if forgotten else sealed.value
