"""`bookworm groups …` against a real embedded store in a temporary data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups.sqlite import SqliteSubscriptionGroups


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("BOOKWORM_EVENT_STORE", raising=False)
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return CliRunner(env={"COLUMNS": "200"})


def row_of(output: str, name: str) -> list[str]:
    """The cells of the table row that starts with `name`."""
    line = next(line for line in output.splitlines() if f"│ {name} " in line)
    return [cell.strip() for cell in line.split("│")[1:-1]]


def park_one(events_db: Path, group: str) -> None:
    """A consumer (of another 'process': its own store object) handles the demo's events of
    the group and parks one, as a handler that gave up on it would."""
    with (
        SqliteEventStore(events_db) as store,
        SqliteSubscriptionGroups(store) as groups,
        groups.read_subscription_to_all(group) as consumer,
    ):
        first = consumer.receive(10)
        assert first is not None
        consumer.nack(first, "park")
        while (delivered := consumer.receive(0.3)) is not None:
            consumer.ack(delivered)


def test_create_list_info_replay_and_delete(runner: CliRunner, tmp_path: Path) -> None:
    """Given the demo's 6 events, a group created from the command line shows up in the list;
    after a consumer parked one event and acknowledged five, list and info show the figures;
    replay-parked gives the parked event back; delete removes the group."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0
    created = runner.invoke(
        app,
        ["groups", "create", "email_sender", "--stream-prefix", "samplebook-",
         "--message-timeout", "5", "--max-retry-count", "3", "--strategy", "RoundRobin"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created group email_sender on $all" in created.output

    park_one(tmp_path / "var" / "events.db", "email_sender")

    listed = runner.invoke(app, ["groups", "list"])
    assert listed.exit_code == 0, listed.output
    cells = row_of(listed.output, "email_sender")
    assert cells[1] == "$all"
    assert cells[4:9] == ["0", "0", "1", "0", "5"]  # in flight, waiting, parked, consumers, acked

    shown = runner.invoke(app, ["groups", "info", "email_sender"])
    assert shown.exit_code == 0, shown.output
    assert row_of(shown.output, "strategy")[1] == "RoundRobin"
    assert row_of(shown.output, "message timeout")[1] == "5 s"
    assert row_of(shown.output, "parked")[1] == (
        "1 in $persistentsubscription-$all::email_sender-parked"
    )

    replayed = runner.invoke(app, ["groups", "replay-parked", "email_sender"])
    assert replayed.exit_code == 0, replayed.output
    assert "email_sender: replaying 1 parked events; 0 stay parked" in replayed.output
    assert row_of(runner.invoke(app, ["groups", "list"]).output, "email_sender")[4:7] == [
        "0",
        "1",
        "0",
    ]

    deleted = runner.invoke(app, ["groups", "delete", "email_sender"])
    assert deleted.exit_code == 0
    assert "email_sender" not in runner.invoke(app, ["groups", "list"]).output


def test_a_group_on_a_stream_and_replaying_part_of_the_parked(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A stream group is named with --stream everywhere; --stop-at replays only the oldest."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0
    with SqliteEventStore(tmp_path / "var" / "events.db") as store:
        stream = next(iter(store.read_all())).stream
    created = runner.invoke(app, ["groups", "create", "audit", "--stream", stream])
    assert created.exit_code == 0, created.output
    with (
        SqliteEventStore(tmp_path / "var" / "events.db") as store,
        SqliteSubscriptionGroups(store) as groups,
        groups.read_subscription_to_stream("audit", stream) as consumer,
    ):
        for _ in range(2):
            delivered = consumer.receive(10)
            assert delivered is not None
            consumer.nack(delivered, "park")

    replayed = runner.invoke(
        app, ["groups", "replay-parked", "audit", "--stream", stream, "--stop-at", "1"]
    )
    assert replayed.exit_code == 0, replayed.output
    assert "audit: replaying 1 parked events; 1 stay parked" in replayed.output
    info = runner.invoke(app, ["groups", "info", "audit", "--stream", stream])
    assert row_of(info.output, "waiting (retries, replays)")[1] == "1"


def test_mistakes_are_clear_errors(runner: CliRunner) -> None:
    """Unknown groups, taken names and contradictory options say what is wrong."""
    assert runner.invoke(app, ["groups", "create", "email_sender"]).exit_code == 0

    missing = runner.invoke(app, ["groups", "info", "nope"])
    assert missing.exit_code == 1
    assert "group 'nope' on $all not found" in missing.output

    taken = runner.invoke(app, ["groups", "create", "email_sender"])
    assert taken.exit_code == 1
    assert "already exists" in taken.output

    both = runner.invoke(app, ["groups", "create", "x", "--type", "A", "--stream-prefix", "b"])
    assert both.exit_code != 0
    assert "not both" in both.output

    bad = runner.invoke(app, ["groups", "create", "x", "--strategy", "Pinned"])
    assert bad.exit_code != 0
    assert "RoundRobin" in bad.output
