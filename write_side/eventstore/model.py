"""Value types of the event store port: what goes in, what comes out, and how reads are filtered."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    FULL_GROUP_INFO = "full_group_info"
    """A group's info gives its filter and its running totals of acknowledged, retried,
    skipped and parked events (EventStoreDB's does not)."""
    DISPATCH_ON_RECEIVE = "dispatch_on_receive"
    """A group hands an event out when a consumer asks for one, and takes acknowledgements
    (moving its checkpoint) as they are sent: what a stopped consumer never handed to its
    caller comes back untouched, and a replay overtakes events appended before it.
    EventStoreDB pushes events ahead into a consumer's buffer and checkpoints on a timer."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its id makes a retried append idempotent."""

    type: str
    data: bytes
    metadata: bytes = b""
    content_type: str = "application/json"
    id: uuid.UUID = field(default_factory=new_id)


#: A recorded event as the store keeps it: id as 16 bytes, recorded-at as microseconds since the
#: Unix epoch (UTC), the rest as they are (see `RecordedEvent` for the order).
RecordedRow = tuple[bytes, str, bytes, bytes, str, str, int, int, int]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RecordedEvent:
    """An event as the store recorded it, with its place in its stream and in `$all`.

    Immutable. It holds one tuple in the store's own form and decodes the id and the time on
    access: a read of `$all` makes hundreds of thousands of these a second, and most readers
    never look at either. `from_row` wraps a store's row without copying it.
    """

    __slots__ = ("_row",)
    _row: RecordedRow

    def __init__(
        self,
        id: uuid.UUID,
        type: str,
        data: bytes,
        metadata: bytes,
        content_type: str,
        stream: str,
        revision: int,
        position: int,
        recorded_at: datetime,
    ) -> None:
        if recorded_at.tzinfo is None:
            raise ValueError("recorded_at must be timezone-aware")
        micros = (recorded_at - _EPOCH) // timedelta(microseconds=1)
        row = (id.bytes, type, data, metadata, content_type, stream, revision, position, micros)
        object.__setattr__(self, "_row", row)

    @classmethod
    def from_row(cls, row: RecordedRow) -> RecordedEvent:
        """The event of a store row (id bytes, type, data, metadata, content type, stream,
        revision, position, recorded-at in microseconds)."""
        event = object.__new__(cls)
        _set_row(event, row)
        return event

    @property
    def id(self) -> uuid.UUID:
        """The event's id, as given to `append`."""
        return uuid.UUID(bytes=self._row[0])

    @property
    def type(self) -> str:
        """The event type."""
        return self._row[1]

    @property
    def data(self) -> bytes:
        """The event's data, as appended."""
        return self._row[2]

    @property
    def metadata(self) -> bytes:
        """The event's metadata, as appended."""
        return self._row[3]

    @property
    def content_type(self) -> str:
        """The content type of the data."""
        return self._row[4]

    @property
    def stream(self) -> str:
        """The stream the event was appended to."""
        return self._row[5]

    @property
    def revision(self) -> int:
        """The event's revision in its stream (from 0, no gaps)."""
        return self._row[6]

    @property
    def position(self) -> int:
        """The event's commit position in `$all` (increasing, not contiguous)."""
        return self._row[7]

    @property
    def recorded_at(self) -> datetime:
        """When the store recorded the event (UTC)."""
        return _EPOCH + timedelta(microseconds=self._row[8])

    @property
    def recorded_at_us(self) -> int:
        """`recorded_at` in microseconds since the Unix epoch: for vectorised readers."""
        return self._row[8]

    @property
    def is_system(self) -> bool:
        """True for events of `$`-prefixed (system and metadata) streams."""
        return self._row[5].startswith("$")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RecordedEvent is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RecordedEvent is immutable (cannot delete {name!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return self._row == other._row

    def __hash__(self) -> int:
        return hash(self._row)

    def __reduce__(self) -> tuple[object, tuple[RecordedRow]]:
        return (RecordedEvent.from_row, (self._row,))

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(id={self.id!r}, type={self.type!r}, stream={self.stream!r}, "
            f"revision={self.revision}, position={self.position}, "
            f"recorded_at={self.recorded_at.isoformat()!r}, data={self.data!r}, "
            f"metadata={self.metadata!r}, content_type={self.content_type!r})"
        )


# The slot's own setter: `RecordedEvent.__setattr__` refuses every change, and a read of `$all`
# calls this for every event.
_set_row: Callable[[RecordedEvent, RecordedRow], None] = RecordedEvent.__dict__["_row"].__set__


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

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled regex (searched, not matched: see the class)."""
        return self._pattern

    def matches(self, stream: str, event_type: str) -> bool:
        """Whether an event of this stream and type passes the filter."""
        subject = stream if self.on == "stream_name" else event_type
        return (self._pattern.search(subject) is not None) != self.exclude


def _alternation(words: tuple[str, ...], *, whole: bool) -> str:
    if not words:
        raise ValueError("a filter needs at least one name")
    body = "|".join(re.escape(w) for w in words)
    return f"^(?:{body})$" if whole else f"^(?:{body})"


#: Name prefixes of the streams `$all` readers skip unless asked: system and snapshot streams.
HIDDEN_STREAM_PREFIXES = ("$", SNAPSHOT_STREAM_PREFIX)


def is_excluded_by_default(stream: str) -> bool:
    """System (`$`-prefixed) and snapshot streams, which `$all` readers skip unless asked."""
    return stream.startswith(HIDDEN_STREAM_PREFIXES)
