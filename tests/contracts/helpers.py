"""Small builders shared by the contract tests."""

from __future__ import annotations

import json
from collections.abc import Callable

from write_side.eventstore import NewEvent

#: The `stream` fixture: makes a fresh stream name of a category.
Names = Callable[[str], str]


def events(count: int, type: str = "Happened", **data: object) -> list[NewEvent]:
    """`count` new events with JSON data carrying their index."""
    return [
        NewEvent(type=type, data=json.dumps({"n": n, **data}).encode(), metadata=b'{"m": 1}')
        for n in range(count)
    ]
