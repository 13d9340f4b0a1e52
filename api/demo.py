"""`bookworm events sample`: a small sample appended and read back (the first demo of the store).

Today it exercises the event store end to end: typed events are appended with expected versions,
a retried append is shown to be idempotent, a conflicting one is refused, and a catch-up
subscription reads everything back. Later issues replace the sample with the real platform.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from write_side.envelope import DomainEvent, EventMetadata, EventRegistry, Money
from write_side.eventstore import (
    CaughtUp,
    EventFilter,
    EventStore,
    RecordedEvent,
    StreamState,
    WrongExpectedVersion,
)
from write_side.ids import new_id

sample = EventRegistry()


@sample.event("SampleBookListed")
class SampleBookListed(DomainEvent):
    """A book put on sale (a stand-in until the catalog's real events exist)."""

    name: str
    price: Money


@sample.event("SampleBookRepriced")
class SampleBookRepriced(DomainEvent):
    """A book's price changed."""

    old_price: Money
    new_price: Money


BOOKS = [("The Pragmatic Programmer", "39.99"), ("Dune", "9.99"), ("Domain-Driven Design", "54.50")]


def run_demo(store: EventStore, console: Console) -> int:
    """Append the sample, show idempotency and a conflict, read it back; return events read."""
    started = time.perf_counter()
    run_id = new_id().hex[-8:]  # the random end: the start is the timestamp
    metadata = EventMetadata.new_correlation(occurred_at=datetime.now(UTC), actor="demo")

    streams: list[str] = []
    for title, price in BOOKS:
        stream = f"samplebook-{run_id}-{len(streams)}"
        listed = sample.to_new_event(SampleBookListed(name=title, price=Decimal(price)), metadata)
        store.append(stream, [listed], expected_version=StreamState.NO_STREAM)
        repriced = sample.to_new_event(
            SampleBookRepriced(old_price=Decimal(price), new_price=Decimal(price) - 1), metadata
        )
        first = store.append(stream, [repriced], expected_version=0)
        retried = store.append(stream, [repriced], expected_version=0)
        if retried != first:
            raise RuntimeError(f"a retried append returned {retried}, the first {first}")
        streams.append(stream)
    console.print(
        f"appended {2 * len(BOOKS)} events to {len(BOOKS)} streams; "
        "each reprice was sent twice and written once (idempotent by event id)"
    )

    try:
        store.append(streams[0], [repriced], expected_version=StreamState.NO_STREAM)
    except WrongExpectedVersion as conflict:
        console.print(f"conflicting append refused, nothing written: [yellow]{conflict}[/]")

    table = Table(title=f"sample streams of run {run_id}, read back by a catch-up subscription")
    for column in ("position", "stream", "rev", "type", "data"):
        table.add_column(column)
    seen = 0
    with store.subscribe_to_all(
        filter=EventFilter.stream_prefixes(f"samplebook-{run_id}"), include_caught_up=True
    ) as subscription:
        for item in subscription:
            if isinstance(item, CaughtUp):
                break
            assert isinstance(item, RecordedEvent)
            event = sample.decode(item).event
            shown = event.model_dump(mode="json") if isinstance(event, DomainEvent) else event.data
            table.add_row(
                str(item.position),
                item.stream,
                str(item.revision),
                item.type,
                json.dumps(shown, default=repr, separators=(",", ":")),
            )
            seen += 1
    console.print(table)

    total = sum(1 for _ in store.read_all())
    console.print(
        f"the store now holds {total} events (head position {store.head_position()}); "
        f"done in {time.perf_counter() - started:.2f}s"
    )
    return seen
