"""Errors of the envelope layer: misuse of a registry, and events that cannot be decoded."""

from __future__ import annotations

from pydantic import ValidationError

from write_side.eventstore import RecordedEvent


class EnvelopeError(Exception):
    """Base class of every error raised by the envelope layer."""


class EventRegistryError(EnvelopeError):
    """An event registry was used wrongly: a duplicate name, a bad version, an unknown class."""


class MissingUpcasterError(EventRegistryError):
    """An event's upcaster chain has a gap, so old data of it cannot reach the current version."""

    def __init__(self, event_type: str, from_version: int) -> None:
        self.event_type = event_type
        self.from_version = from_version
        super().__init__(
            f"no upcaster for {event_type!r} from version {from_version} to {from_version + 1}"
        )


class EventDecodeError(EnvelopeError):
    """A recorded event of a known type whose data or metadata cannot be decoded."""

    def __init__(self, recorded: RecordedEvent, reason: str) -> None:
        self.event_id = recorded.id
        self.stream = recorded.stream
        self.revision = recorded.revision
        self.event_type = recorded.type
        self.reason = reason
        super().__init__(
            f"cannot decode event {recorded.id} of type {recorded.type!r} "
            f"(stream {recorded.stream!r}, revision {recorded.revision}): {reason}"
        )


def summarize_validation_error(exc: ValidationError) -> str:
    """Field paths and messages of a validation error, without the input values.

    The values are left out because events may carry personal data, and this text ends up in
    logs and dead-letter records.
    """
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )
