"""Value types of the event store port: what goes in, what comes out, and how reads are filtered."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, Literal

from write_side.ids import new_id

#: The `$tb` value EventStoreDB writes into a stream's metadata when the stream is soft-deleted.
DELETED_TRUNCATE_BEFORE = 2**63 - 1

#: Streams whose names start with this prefix hold snapshots; `$all` consumers skip them.
SNAPSHOT_STREAM_PREFIX = "snapshot-"


class StreamState(Enum):
    """Expected versions that are not an exact revision."""

    NO_STREAM = "no_stream"
    STREAM_EXISTS = "stream_exists"
    ANY = "any"

    def __str__(self) -> str:
        return self.name


#: What `expected_version` accepts: an exact last revision, or one of the stream states.
ExpectedVersion = int | StreamState


class Capability(StrEnum):
    """Optional guarantees an adapter may offer; contract tests skip when one is missing."""

    MULTI_PROCESS = "multi_process"
    CRASH_DURABLE = "crash_durable"
    GROUP_COMMIT = "group_commit"
    PERSISTENT_GROUPS = "persistent_groups"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its id makes a retried append idempotent."""

    type: str
    data: bytes
    metadata: bytes = b""
    content_type: str = "application/json"
    id: uuid.UUID = field(default_factory=new_id)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the store recorded it, with its place in its stream and in `$all`."""

    id: uuid.UUID
    type: str
    data: bytes
    metadata: bytes
    content_type: str
    stream: str
    revision: int
    position: int
    recorded_at: datetime

    @property
    def is_system(self) -> bool:
        """True for events of `$`-prefixed (system and metadata) streams."""
        return self.stream.startswith("$")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A subscription has considered every event up to and including `position`.

    A filtered consumer stores it to move forward over long runs of events it does not want.
    """

    position: int


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """A subscription has delivered all history; what follows is the live tail.

    `position` is the last position considered (None when the store was empty).
    """

    position: int | None


@dataclass(frozen=True, slots=True)
class StreamMetadata:
    """A stream's metadata, as EventStoreDB defines it, plus custom keys.

    `max_count` keeps only the newest N events visible, `max_age` hides events recorded longer
    ago, `truncate_before` hides revisions below it. All three hide events from stream reads
    only; `$all` still returns them.
    """

    max_count: int | None = None
    max_age: timedelta | None = None
    truncate_before: int | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("max_count", "truncate_before"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.max_count is not None and self.max_count < 1:
            raise ValueError("max_count must be at least 1")
        if self.max_age is not None and self.max_age.total_seconds() < 1:
            raise ValueError("max_age must be at least one second")
        if any(key.startswith("$") for key in self.custom):
            raise ValueError("custom metadata keys may not start with '$'")

    @property
    def is_deleted(self) -> bool:
        """True when this metadata marks its stream as soft-deleted."""
        return self.truncate_before == DELETED_TRUNCATE_BEFORE

    def to_json_dict(self) -> dict[str, Any]:
        """The EventStoreDB wire form: `$maxCount`, `$maxAge` (seconds), `$tb`, then custom keys."""
        out: dict[str, Any] = {}
        if self.max_count is not None:
            out["$maxCount"] = self.max_count
        if self.max_age is not None:
            out["$maxAge"] = int(self.max_age.total_seconds())
        if self.truncate_before is not None:
            out["$tb"] = self.truncate_before
        out.update(self.custom)
        return out

    @classmethod
    def from_json_dict(cls, raw: Mapping[str, Any]) -> StreamMetadata:
        """Parse the EventStoreDB wire form; unknown `$` keys (ACLs, cache control) are dropped."""
        max_age = raw.get("$maxAge")
        return cls(
            max_count=raw.get("$maxCount"),
            max_age=None if max_age is None else timedelta(seconds=int(max_age)),
            truncate_before=raw.get("$tb"),
            custom={k: v for k, v in raw.items() if not k.startswith("$")},
        )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """A server-side filter for `$all`: one regex on stream names or on event types.

    Matching follows EventStoreDB: the regex is searched anywhere in the name, so anchor it
    (the class methods do) to match a prefix or a whole name.
    """

    on: Literal["stream_name", "event_type"]
    regex: str
    exclude: bool = False
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.on not in ("stream_name", "event_type"):
            raise ValueError(f"filter on must be 'stream_name' or 'event_type', got {self.on!r}")
        object.__setattr__(self, "_pattern", re.compile(self.regex))

    @classmethod
    def stream_prefixes(cls, *prefixes: str, exclude: bool = False) -> EventFilter:
        """Events of streams whose names start with any of `prefixes`."""
        return cls("stream_name", _alternation(prefixes, whole=False), exclude)

    @classmethod
    def event_types(cls, *types: str, exclude: bool = False) -> EventFilter:
        """Events whose type is exactly one of `types`."""
        return cls("event_type", _alternation(types, whole=True), exclude)

    def matches(self, stream: str, event_type: str) -> bool:
        """Whether an event of this stream and type passes the filter."""
        subject = stream if self.on == "stream_name" else event_type
        return (self._pattern.search(subject) is not None) != self.exclude


def _alternation(words: tuple[str, ...], *, whole: bool) -> str:
    if not words:
        raise ValueError("a filter needs at least one name")
    body = "|".join(re.escape(w) for w in words)
    return f"^(?:{body})$" if whole else f"^(?:{body})"


def is_excluded_by_default(stream: str) -> bool:
    """System (`$`-prefixed) and snapshot streams, which `$all` readers skip unless asked."""
    return stream.startswith(("$", SNAPSHOT_STREAM_PREFIX))
