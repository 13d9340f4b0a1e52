"""Personal data, encrypted with a key per person, so deleting the key erases it everywhere.

Events and snapshots never hold personal data in the clear: a field typed `Sealed[T]` holds a
`T` (a buyer's name, email and address; a reviewer's names) as ciphertext under the key of
its `subject` (the person). The repository seals before writing and opens after reading;
once the subject's key is forgotten (`ForgetBuyer`), opening yields an erased value, never an
error, and the events themselves stay as they were.
"""

from __future__ import annotations

import base64
import ssl
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_serializer

T = TypeVar("T", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)

#: What erased personal text shows as in read models and answers.
ERASED = "[erased]"

_NONCE_BYTES = 12


class PersonalDataNotSealed(Exception):
    """Personal data was about to be written in the clear (a bug: seal before writing)."""


class Sealed(BaseModel, Generic[T]):
    """Personal data of one subject: stored as ciphertext, readable while the key exists.

    Build one with `Sealed.of(subject, value)`; the repository seals it (sets `ciphertext`)
    before it is written. After reading, `value` is the data, or None when `erased`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: UUID
    ciphertext: str | None = None
    _value: Any = PrivateAttr(default=None)
    _erased: bool = PrivateAttr(default=False)

    @classmethod
    def of(cls, subject: UUID, value: T) -> Sealed[T]:
        """Personal data in the clear, to be sealed before it is written."""
        if not cls.__pydantic_generic_metadata__["args"]:
            # Parametrize by the value's type, so a field typed Sealed[X] takes it as it is.
            return Sealed[type(value)].of(subject, value)  # type: ignore[misc,no-any-return]
        sealed: Sealed[T] = cls(subject=subject)
        sealed._value = value
        return sealed

    @property
    def value(self) -> T | None:
        """The data (None when erased, or not opened yet)."""
        return self._value  # type: ignore[no-any-return]

    @property
    def erased(self) -> bool:
        """True when the subject's key is gone: the data can never be read again."""
        return self._erased

    def require(self) -> T:
        """The data; raises `PersonalDataErased` when it is erased."""
        if self._value is None:
            raise PersonalDataErased(self.subject)
        return self._value  # type: ignore[no-any-return]

    @model_serializer(mode="plain")
    def _serialize(self) -> dict[str, str]:
        if self.ciphertext is None:
            raise PersonalDataNotSealed(f"personal data of {self.subject} is not sealed")
        return {"subject": str(self.subject), "ciphertext": self.ciphertext}

    def __repr__(self) -> str:
        state = "erased" if self._erased else ("open" if self._value is not None else "sealed")
        return f"Sealed(subject={self.subject}, {state})"


class PersonalDataErased(Exception):
    """The personal data asked for was erased (its subject was forgotten)."""

    def __init__(self, subject: UUID) -> None:
        self.subject = subject
        super().__init__(f"the personal data of {subject} was erased")


class KeyStore(ABC):
    """One secret key per person; forgetting the key erases the person's data everywhere."""

    @abstractmethod
    def key(self, subject: UUID) -> bytes:
        """The subject's key, made on first use (32 random bytes)."""

    @abstractmethod
    def find(self, subject: UUID) -> bytes | None:
        """The subject's key, or None when it was never made or has been forgotten."""

    @abstractmethod
    def forget(self, subject: UUID) -> bool:
        """Delete the subject's key for good; False when there was none. Never made again."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class Crypto:
    """Seals and opens every `Sealed` field of a model (events, aggregates), recursively."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def seal(self, model: M) -> M:
        """A copy of `model` whose personal data is encrypted (already sealed parts kept)."""
        return self._walk(model, self._seal_one)

    def open(self, model: M) -> M:
        """A copy of `model` whose personal data is readable, or marked erased."""
        return self._walk(model, self._open_one)

    def _walk(self, model: M, each: Any) -> M:
        changes: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            replaced = self._replace(value, each)
            if replaced is not value:
                changes[name] = replaced
        return model.model_copy(update=changes) if changes else model

    def _replace(self, value: Any, each: Any) -> Any:
        if isinstance(value, Sealed):
            return each(value)
        if isinstance(value, BaseModel):
            return self._walk(value, each)
        if isinstance(value, list | tuple):
            items = [self._replace(item, each) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return type(value)(items)
        if isinstance(value, dict):
            mapped = {key: self._replace(item, each) for key, item in value.items()}
            if all(mapped[key] is value[key] for key in value):
                return value
            return mapped
        return value

    def _seal_one(self, sealed: Sealed[Any]) -> Sealed[Any]:
        if sealed.ciphertext is not None:
            return sealed
        value = sealed.value
        if value is None:
            raise PersonalDataNotSealed(f"personal data of {sealed.subject} has no value")
        # OpenSSL's generator, not os.urandom: the getrandom call would release the GIL, a thread
        # switch each way for every sealed value when a process runs commands in many threads.
        nonce = ssl.RAND_bytes(_NONCE_BYTES)
        plain = value.model_dump_json().encode()
        secret = AESGCM(self.keys.key(sealed.subject)).encrypt(nonce, plain, sealed.subject.bytes)
        out: Sealed[Any] = type(sealed)(
            subject=sealed.subject, ciphertext=base64.b64encode(nonce + secret).decode()
        )
        out._value = value
        return out

    def _open_one(self, sealed: Sealed[Any]) -> Sealed[Any]:
        if sealed.value is not None or sealed.erased or sealed.ciphertext is None:
            return sealed
        out: Sealed[Any] = type(sealed)(subject=sealed.subject, ciphertext=sealed.ciphertext)
        key = self.keys.find(sealed.subject)
        if key is None:
            out._erased = True
            return out
        raw = base64.b64decode(sealed.ciphertext)
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], sealed.subject.bytes)
        out._value = _value_type(type(sealed)).model_validate_json(plain)
        return out


def _value_type(sealed_type: type[Sealed[Any]]) -> type[BaseModel]:
    arguments = sealed_type.__pydantic_generic_metadata__["args"]
    if not arguments:
        raise TypeError("use Sealed[SomeModel], not bare Sealed, as a field type")
    value_type = arguments[0]
    if not (isinstance(value_type, type) and issubclass(value_type, BaseModel)):
        raise TypeError(f"Sealed[{value_type!r}]: the value must be a pydantic model")
    return value_type
