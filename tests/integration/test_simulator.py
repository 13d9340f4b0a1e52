"""The traffic simulator on the embedded store: a seed gives the same streams every time (also
split over worker processes), another seed gives others, and `bookworm simulate` reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from api import bootstrap
from api.cli_simulate import simulate
from api.settings import Settings, load_settings
from api.simulator import SimulationConfig, SimulationError, SimulationReport, run_simulation
from write_side.domain import ERASED, Crypto, Sealed
from write_side.envelope import DomainEvent
from write_side.registry import REGISTRY

SMALL = SimulationConfig(seed=11, books=60, buyers=160, days=10, readers=40)
#: Big enough for the rarer flows: deletions, stock-outs, forgotten buyers.
MEDIUM = SimulationConfig(seed=7, books=150, buyers=800, days=20, readers=200)

#: One stream's events as the simulation decided them: everything but the commit position,
#: the store's `recorded_at` and the ciphertext of personal data (opened instead).
Streams = dict[str, list[dict[str, Any]]]


def settings_in(directory: Path) -> Settings:
    """Settings of a fresh embedded store (whatever the environment names)."""
    return load_settings(
        data_dir=directory,
        event_store=f"sqlite:///{directory / 'events.db'}",
        key_store_url=f"sqlite:///{directory / 'keys.db'}",
    )


def plain(value: Any) -> Any:
    """`value` as plain data, personal data opened (or marked erased), never its ciphertext."""
    if isinstance(value, Sealed):
        opened = ERASED if value.erased else plain(value.value)
        return {"subject": str(value.subject), "value": opened}
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, UUID | Decimal | datetime | Enum):
        return str(value)
    return value


def streams_of(settings: Settings) -> Streams:
    """Every stream of the store, event by event (system and snapshot streams left out)."""
    streams: Streams = defaultdict(list)
    keys = bootstrap.key_store(settings)
    try:
        crypto = Crypto(keys)
        with bootstrap.event_store(settings) as store:
            for recorded in store.read_all():
                stored = REGISTRY.decode(recorded)
                event = stored.event
                assert isinstance(event, DomainEvent), recorded.type
                metadata = stored.metadata
                streams[recorded.stream].append(
                    {
                        "revision": recorded.revision,
                        "id": str(recorded.id),
                        "type": recorded.type,
                        "data": plain(crypto.open(event)),
                        "metadata": None if metadata is None else plain(metadata),
                    }
                )
    finally:
        keys.close()
    return dict(streams)


def occurred(event: dict[str, Any]) -> datetime:
    """The business time of an event of `streams_of`."""
    return datetime.fromisoformat(event["metadata"]["occurred_at"])


def commit_order(settings: Settings) -> list[tuple[int, str, int, UUID]]:
    """Every recorded event's position, stream, revision and id, system streams included."""
    with bootstrap.event_store(settings) as store:
        return [
            (e.position, e.stream, e.revision, e.id) for e in store.read_all(include_system=True)
        ]


def simulated(directory: Path, config: SimulationConfig) -> tuple[SimulationReport, Streams]:
    """Run `config` into a fresh store in `directory`; the report and the streams."""
    settings = settings_in(directory)
    report = run_simulation(settings, config, durability="NORMAL")
    return report, streams_of(settings)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationReport, Streams]:
    """The small simulation, once."""
    return simulated(tmp_path_factory.mktemp("first"), SMALL)


def test_the_same_seed_gives_the_same_events_twice(
    first: tuple[SimulationReport, Streams], tmp_path: Path
) -> None:
    """Counts per type, every stream's events (ids, data, metadata, business times) and the
    commands' answers are those of the first run."""
    report, streams = first
    again, streams_again = simulated(tmp_path, SMALL)

    assert again.events == report.events
    assert streams_again == streams
    assert again.outcome.tally == report.outcome.tally
    assert again.outcome.orders == report.outcome.orders
    assert report.event_count == sum(len(events) for events in streams.values()) > 1000


def test_one_worker_gives_the_same_commit_order(tmp_path: Path) -> None:
    """In one process, even `$all` is the same: every event at the same position."""
    config = replace(SMALL, buyers=40, readers=10, days=4)
    orders = []
    for name in ("a", "b"):
        settings = settings_in(tmp_path / name)
        run_simulation(settings, config, durability="NORMAL")
        orders.append(commit_order(settings))

    assert orders[0] == orders[1]
    assert len(orders[0]) > 300


@pytest.mark.multiprocess
def test_worker_processes_give_the_same_events(
    first: tuple[SimulationReport, Streams], tmp_path: Path
) -> None:
    """People split over two processes append the same streams as one process alone."""
    report, streams = first
    split, split_streams = simulated(tmp_path, replace(SMALL, workers=2))

    assert split_streams == streams
    assert split.outcome.tally == report.outcome.tally


def test_a_different_seed_gives_other_events(
    first: tuple[SimulationReport, Streams], tmp_path: Path
) -> None:
    """Another seed: other books, other people, other ids."""
    _, streams = first
    _, other_streams = simulated(tmp_path, replace(SMALL, seed=SMALL.seed + 1))

    def titles(found: Streams) -> set[str]:
        return {
            event["data"]["name"]
            for name, events in found.items()
            if name.startswith("book-")
            for event in events
            if event["type"] == "BookCreated"
        }

    assert titles(other_streams) != titles(streams)
    assert not set(other_streams) & {s for s in streams if s.startswith(("buyer-", "order-"))}


def test_the_workload_is_a_bookstore(first: tuple[SimulationReport, Streams]) -> None:
    """Ten genres, the people's flows, refusals provoked on purpose and counted by rule, and
    business times within the simulated days, never going back within a stream."""
    report, streams = first
    categories = [e for s, es in streams.items() if s.startswith("category-") for e in es]
    assert len({e["data"]["name"] for e in categories}) == 10
    for kind in ("BookCreated", "BuyerCreated", "BasketItemAdded", "OrderPlaced"):
        assert report.events[kind] > 0, kind
    for kind in ("OrderCompleted", "OrderCancelled", "FeedbackCreated", "BookPriceChanged"):
        assert report.events[kind] > 0, kind
    assert report.outcome.tally.refused[("CreateFeedback", "feedback_already_given")] > 0
    start = SMALL.start - timedelta(days=1)
    end = SMALL.start + timedelta(days=SMALL.days)
    times = [occurred(event) for events in streams.values() for event in events]
    assert start <= min(times)
    assert max(times) < end
    for name, events in streams.items():
        stream_times = [occurred(event) for event in events]
        assert stream_times == sorted(stream_times), f"{name}: business time goes back"
    assert sum(report.outcome.orders.values()) == report.events["OrderPlaced"]


def test_the_rarer_flows_happen_and_refusals_are_counted_by_rule(tmp_path: Path) -> None:
    """Deleted books (still ordered, added and reviewed by some), stock-outs refused at
    ordering, buyers forgotten (their personal data reads as erased)."""
    report, streams = simulated(tmp_path, MEDIUM)
    refused = report.outcome.tally.refused

    assert report.events["BookDeleted"] > 0
    assert report.events["BookStockStatusChanged"] > 0
    assert refused[("PlaceOrder", "book_out_of_stock")] > 0
    assert refused[("AddBasketItem", "book_deleted")] > 0
    deleted = {
        UUID(name.removeprefix("book-")): occurred(events[-1])
        for name, events in streams.items()
        if name.startswith("book-") and events[-1]["type"] == "BookDeleted"
    }
    late_reviews = [
        event
        for name, events in streams.items()
        if name.startswith("feedback-")
        for event in events
        if event["type"] == "FeedbackCreated"
        and UUID(event["data"]["book_id"]) in deleted
        and occurred(event) > deleted[UUID(event["data"]["book_id"])]
    ]
    assert late_reviews, "some feedback should name a book deleted before"
    forgotten = [
        events[0]["data"]
        for name, events in streams.items()
        if name.startswith("buyer-") and events[-1]["type"] == "BuyerForgotten"
    ]
    assert len(forgotten) == report.outcome.forgotten_buyers > 0
    assert all(buyer["contact"]["value"] == ERASED for buyer in forgotten)


def test_buyers_leave_the_basket_alone_once_they_ordered(
    first: tuple[SimulationReport, Streams],
) -> None:
    """The order saga checks the basket out later: no basket changes after the order."""
    _, streams = first
    placed = 0
    for name, events in streams.items():
        if not name.startswith("order-"):
            continue
        order = events[0]
        buyer = order["data"]["buyer_id"]
        basket = streams[f"basket-{buyer}"]
        assert occurred(basket[-1]) <= occurred(order)
        placed += 1
    assert placed > 0


def test_a_store_with_events_is_refused(first: tuple[SimulationReport, Streams]) -> None:
    """A second simulation over a first one would decide on what the first left: refused."""
    report, _ = first
    directory = Path(report.store_uri.removeprefix("sqlite:///").partition("?")[0]).parent
    with pytest.raises(SimulationError, match="holds events already"):
        run_simulation(settings_in(directory), SMALL)


def test_bookworm_simulate_runs_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command runs into the configured store and prints what it did."""
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BOOKWORM_EVENT_STORE", raising=False)
    monkeypatch.delenv("BOOKWORM_KEY_STORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    app.command()(simulate)

    result = CliRunner().invoke(
        app,
        ["--seed", "3", "--books", "40", "--buyers", "50", "--days", "4", "--workers", "1"],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    for shown in ("events/s", "events by type", "BookCreated", "commands", "orders by status"):
        assert shown in result.output
    assert (tmp_path / "var" / "events.db").exists()
