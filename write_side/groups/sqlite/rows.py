"""A group's row and the codecs of what the group tables store (settings, filters, events)."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from write_side.eventstore.model import EventFilter, RecordedEvent
from write_side.groups.model import ALL_STREAMS, GroupSettings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_GROUP_COLUMNS = (
    "id, source, name, filter, from_end, start_position, settings, cursor, checkpoint, "
    "checkpointed_at, uncheckpointed, next_seq, rotation"
)


def at(us: int) -> datetime:
    """A stored time (microseconds since the epoch) as a datetime in UTC."""
    return _EPOCH + timedelta(microseconds=us)


@functools.lru_cache(maxsize=256)
def parse_settings(text: str) -> GroupSettings:
    """Settings as stored (JSON), parsed once per distinct text."""
    return GroupSettings(**orjson.loads(text))


def dump_settings(settings: GroupSettings) -> str:
    """Settings as stored."""
    fields = {name: getattr(settings, name) for name in GroupSettings.__dataclass_fields__}
    return orjson.dumps(fields).decode()


@functools.lru_cache(maxsize=256)
def parse_filter(text: str | None) -> EventFilter | None:
    """A group's filter as stored (JSON), parsed once per distinct text."""
    if text is None:
        return None
    raw = orjson.loads(text)
    return EventFilter(raw["on"], raw["regex"], bool(raw["exclude"]))


def dump_filter(event_filter: EventFilter | None) -> str | None:
    """A filter as stored."""
    if event_filter is None:
        return None
    raw = {"on": event_filter.on, "regex": event_filter.regex, "exclude": event_filter.exclude}
    return orjson.dumps(raw).decode()


def recorded(row: Sequence[Any]) -> RecordedEvent:
    """A `RecordedEvent` from the store's event columns (`EVENT_COLUMNS`), not copied."""
    return RecordedEvent.from_row(tuple(row))


@dataclass(slots=True)
class GroupRow:
    """A group's row, read at the start of a transaction and written back at its end."""

    id: int
    source: str
    name: str
    filter: EventFilter | None
    from_end: bool
    start_position: int | None
    settings: GroupSettings
    cursor: int
    checkpoint: int | None
    checkpointed_at: int
    uncheckpointed: int
    next_seq: int
    rotation: int

    @property
    def stream_name(self) -> str | None:
        """None for a group on `$all`."""
        return None if self.source == ALL_STREAMS else self.source

    @classmethod
    def load(
        cls, conn: sqlite3.Connection, where: str, args: tuple[object, ...]
    ) -> GroupRow | None:
        """The group matching `where` (on its id, or on source and name), or None."""
        row = conn.execute(
            f"SELECT {_GROUP_COLUMNS} FROM subscription_groups WHERE {where}", args
        ).fetchone()
        if row is None:
            return None
        return cls(
            row[0],
            row[1],
            row[2],
            parse_filter(row[3]),
            bool(row[4]),
            row[5],
            parse_settings(row[6]),
            *row[7:],
        )
