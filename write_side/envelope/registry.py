"""The event registry: names and schema versions of event classes, upcasters, and JSON I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import orjson
from pydantic import ValidationError

from write_side.envelope.errors import (
    EventDecodeError,
    EventRegistryError,
    MissingUpcasterError,
    summarize_validation_error,
)
from write_side.envelope.events import DomainEvent, UnknownEvent
from write_side.envelope.metadata import EventMetadata
from write_side.envelope.stored import StoredEvent
from write_side.eventstore import NewEvent, RecordedEvent
from write_side.ids import new_id

#: Turns the data of one schema version into the next; it may change and return its argument.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_E = TypeVar("_E", bound=DomainEvent)
_U = TypeVar("_U", bound=Upcaster)

JSON_CONTENT_TYPE = "application/json"


class EventRegistry:
    """Maps event type names to event classes and their current schema versions.

    Register classes with `event` and version steps with `upcaster`, call `check` once at
    start-up, then write with `to_new_event` and read with `decode`.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        self._names: dict[type[DomainEvent], str] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def event(self, name: str, *, version: int = 1) -> Callable[[type[_E]], type[_E]]:
        """Class decorator registering a `DomainEvent` subclass as `name` at schema `version`."""
        if not name or name.startswith("$"):
            raise EventRegistryError(f"event type {name!r} must be non-empty and not start with $")
        if version < 1:
            raise EventRegistryError(f"event type {name!r}: version must be 1 or more")

        def register(cls: type[_E]) -> type[_E]:
            if name in self._classes:
                raise EventRegistryError(f"event type {name!r} is already registered")
            if "event_type" in vars(cls):
                raise EventRegistryError(
                    f"{cls.__qualname__} is already registered as {cls.event_type!r}"
                )
            cls.event_type = name
            cls.schema_version = version
            self._classes[name] = cls
            self._names[cls] = name
            return cls

        return register

    def upcaster(self, name: str, *, from_version: int) -> Callable[[_U], _U]:
        """Decorator registering the step from `name`'s data of `from_version` to the next."""
        if from_version < 1:
            raise EventRegistryError(f"upcaster of {name!r}: from_version must be 1 or more")

        def register(function: _U) -> _U:
            if (name, from_version) in self._upcasters:
                raise EventRegistryError(
                    f"an upcaster of {name!r} from version {from_version} is already registered"
                )
            self._upcasters[(name, from_version)] = function
            return function

        return register

    def check(self) -> None:
        """Raise unless every upcaster belongs to an event and every chain is complete."""
        for name, from_version in self._upcasters:
            cls = self._classes.get(name)
            if cls is None:
                raise EventRegistryError(f"upcaster of unregistered event type {name!r}")
            if from_version >= cls.schema_version:
                raise EventRegistryError(
                    f"upcaster of {name!r} from version {from_version}, but the current "
                    f"version is {cls.schema_version}"
                )
        for name, cls in self._classes.items():
            for step in range(1, cls.schema_version):
                if (name, step) not in self._upcasters:
                    raise MissingUpcasterError(name, step)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def class_for(self, name: str) -> type[DomainEvent] | None:
        """The class registered as `name`, or None."""
        return self._classes.get(name)

    def to_new_event(
        self, event: DomainEvent, metadata: EventMetadata, *, event_id: UUID | None = None
    ) -> NewEvent:
        """Serialize `event` for appending; the metadata's schema_version becomes the class's.

        Without `event_id` a new UUIDv7 is used; pass a derived one to make a retry idempotent.
        """
        name = self._names.get(type(event))
        if name is None:
            raise EventRegistryError(f"{type(event).__qualname__} is not registered here")
        version = type(event).schema_version
        if metadata.schema_version != version:
            metadata = metadata.model_copy(update={"schema_version": version})
        return NewEvent(
            type=name,
            data=orjson.dumps(event.model_dump(mode="json")),
            metadata=metadata.to_json(),
            content_type=JSON_CONTENT_TYPE,
            id=new_id() if event_id is None else event_id,
        )

    def decode(self, recorded: RecordedEvent) -> StoredEvent:
        """Wrap `recorded`; its metadata and data are decoded only when first accessed."""
        return StoredEvent(recorded, self)

    def decode_data(
        self, recorded: RecordedEvent, *, schema_version: int | None
    ) -> DomainEvent | UnknownEvent:
        """Decode the data of `recorded` now, upcasting it from `schema_version`.

        `schema_version` None means the data is taken at the current version (events written
        without our metadata). Unknown types give an `UnknownEvent`; data of a known type that
        cannot be decoded raises `EventDecodeError`.
        """
        cls = self._classes.get(recorded.type)
        if cls is None:
            return UnknownEvent(recorded.type, _raw_data(recorded.data))
        current = cls.schema_version
        written = current if schema_version is None else schema_version
        try:
            if written == current:
                # The common case: pydantic parses and validates the bytes in one pass.
                return cls.model_validate_json(recorded.data)
            return cls.model_validate(self._upcast(recorded, written, current))
        except orjson.JSONDecodeError as exc:
            raise EventDecodeError(recorded, f"data is not valid JSON: {exc}") from exc
        except ValidationError as exc:
            raise EventDecodeError(recorded, summarize_validation_error(exc)) from exc

    def _upcast(self, recorded: RecordedEvent, written: int, current: int) -> dict[str, Any]:
        if written > current:
            raise EventDecodeError(
                recorded,
                f"schema version {written} is newer than this code's version {current}",
            )
        loaded = orjson.loads(recorded.data)
        if not isinstance(loaded, dict):
            raise EventDecodeError(recorded, "data is not a JSON object")
        data: dict[str, Any] = loaded
        for step in range(written, current):
            upcast = self._upcasters.get((recorded.type, step))
            if upcast is None:
                missing = MissingUpcasterError(recorded.type, step)
                raise EventDecodeError(recorded, str(missing)) from missing
            try:
                data = upcast(data)
            except Exception as exc:
                # Any failure here is one bad event, to be parked, not a crash of the reader.
                reason = f"upcaster from version {step} failed: {exc!r}"
                raise EventDecodeError(recorded, reason) from exc
        return data


def _raw_data(data: bytes) -> dict[str, Any] | bytes:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data
    if isinstance(parsed, dict):
        return parsed
    return data
