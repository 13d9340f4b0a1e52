"""The `bookworm` command line against a real embedded store in a temporary data dir."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app
from write_side.eventstore import EventFilter
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.integration import IntegrationEventRecorder


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BOOKWORM_EVENT_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_the_sample_appends_reads_back_and_can_run_again(runner: CliRunner, tmp_path: Path) -> None:
    """`events sample` writes its sample, shows the retry and the conflict, and is repeatable."""
    first = runner.invoke(app, ["events", "sample"], env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "appended 6 events to 3 streams" in first.output
    assert "conflicting append refused" in first.output
    assert "the store now holds 6 events" in first.output
    assert (tmp_path / "var" / "events.db").exists()

    second = runner.invoke(app, ["events", "sample"], env={"COLUMNS": "200"})
    assert second.exit_code == 0, second.output
    assert "the store now holds 12 events" in second.output


def test_events_commands_read_what_the_demo_wrote(runner: CliRunner) -> None:
    """`events head`, `events all` with filters and `events stream` read the store."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0

    head = runner.invoke(app, ["events", "head"])
    assert head.exit_code == 0
    assert head.output.strip() == "6"

    listing = runner.invoke(
        app, ["events", "all", "--type", "SampleBookListed"], env={"COLUMNS": "200"}
    )
    assert listing.exit_code == 0
    assert listing.output.count("SampleBookListed") == 3
    assert "SampleBookRepriced" not in listing.output

    system = runner.invoke(app, ["events", "all", "--system", "--limit", "100"])
    assert system.exit_code == 0

    missing = runner.invoke(app, ["events", "stream", "book-missing"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "stream 'book-missing' not found"  # a message, no traceback


READS = [
    ["events", "head"],
    ["events", "all"],
    ["events", "stream", "book-1"],
    ["projections", "status"],
    ["groups", "list"],
    ["groups", "info", "email_sender"],
]


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_read_of_a_store_never_written_says_so_and_creates_nothing(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    """A mistyped data directory is an error naming the missing file, not an empty listing of
    a new empty store."""
    result = runner.invoke(app, command, env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    store = tmp_path / "var" / "events.db"
    assert result.stderr.startswith(f"no event store at {store}: nothing has been written")
    assert "bookworm events sample" in result.stderr
    assert not (tmp_path / "var").exists()


def test_a_read_of_the_data_dir_points_at_the_demo_store_beside_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    """After `make demo` the events are in <data dir>/demo: a read of the data dir says so."""
    demo = tmp_path / "var" / "demo"
    demo.mkdir(parents=True)
    SqliteEventStore(demo / "events.db").close()
    result = runner.invoke(app, ["events", "all"], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"no event store at {tmp_path / 'var' / 'events.db'}: the demo's store is in {demo} "
        f"(set BOOKWORM_DATA_DIR={demo})"
    )


def test_the_head_of_an_empty_store_is_none(runner: CliRunner, tmp_path: Path) -> None:
    """A store that exists with no events has no head position, and says so in a word."""
    (tmp_path / "var").mkdir()
    SqliteEventStore(tmp_path / "var" / "events.db").close()
    head = runner.invoke(app, ["events", "head"])
    assert (head.exit_code, head.stdout.strip()) == (0, "none")


def test_creating_a_group_may_begin_a_new_store(runner: CliRunner, tmp_path: Path) -> None:
    """`groups create` writes, so unlike the reads it may start the embedded store."""
    created = runner.invoke(app, ["groups", "create", "email_sender"])
    assert created.exit_code == 0, created.output
    assert (tmp_path / "var" / "events.db").exists()
    listed = runner.invoke(app, ["groups", "list"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0
    assert "email_sender" in listed.stdout


def test_settings_command_shows_effective_values(runner: CliRunner, tmp_path: Path) -> None:
    """`bookworm settings` prints each variable with its effective value."""
    result = runner.invoke(app, ["settings"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    rows = [line.split("│") for line in result.output.splitlines() if line.count("│") == 3]
    values: dict[str, str] = {}
    name = ""
    for _, setting, value, _ in rows:  # a long value folds onto the rows below its name
        name = setting.strip() or name
        values[name] = values.get(name, "") + value.strip()
    assert values["BOOKWORM_EVENT_STORE"] == f"sqlite:///{tmp_path / 'var' / 'events.db'}"
    assert values["BOOKWORM_WORKER_LIVE_WINDOW_S"] == "0.05"


def test_filters_of_two_kinds_are_refused(runner: CliRunner) -> None:
    """One filter kind per read, as EventStoreDB allows."""
    result = runner.invoke(app, ["events", "all", "--type", "A", "--stream-prefix", "b"])
    assert result.exit_code != 0
    assert "not both" in result.output


def test_the_demo_simulates_settles_and_summarises(runner: CliRunner, tmp_path: Path) -> None:
    """`bookworm demo` (at a small scale) simulates a bookstore into <data dir>/demo, runs the
    process managers, timers and projections to the end, and prints the query models' figures."""
    argv = ["demo", "--books", "30", "--buyers", "60", "--days", "3"]
    done = runner.invoke(app, argv, env={"COLUMNS": "200"})

    assert done.exit_code == 0, done.output
    for heading in ("1. simulating", "2. running", "orders by final status", "sagas by outcome"):
        assert heading in done.output
    assert "emails by status" in done.output
    assert (tmp_path / "var" / "demo" / "events.db").exists()
    assert list((tmp_path / "var" / "demo" / "outbox").glob("*.eml"))

    # The integration events were published too: a recorder started now (a worker's) finds
    # every source recorded already.
    (published,) = re.findall(r"timers?, ([\d,]+) integration events?,", done.output)
    with SqliteEventStore(tmp_path / "var" / "demo" / "events.db") as store:
        messages = store.read_all(filter=EventFilter.stream_prefixes("integration-"))
        assert sum(1 for _ in messages) == int(published.replace(",", "")) > 0
        assert IntegrationEventRecorder(store).run_once() == 0

    again = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output  # a fresh demo directory each time


def test_a_refused_setting_is_a_usage_error_naming_the_variable(runner: CliRunner) -> None:
    """Any command, before it starts: the variable, the reason and the value, no traceback."""
    commands = (
        ["settings"],
        ["events", "head"],
        ["worker"],
        ["serve", "--port", "0"],  # refused before uvicorn starts
        ["token", "--sub", "admin-1", "--role", "admin"],
    )
    for command in commands:
        result = runner.invoke(app, command, env={"BOOKWORM_READ_WAIT_S": "soon"})
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == (
            "BOOKWORM_READ_WAIT_S: Input should be a valid number, unable to parse string as a "
            "number (given: 'soon')"
        )


def test_help_needs_no_settings(runner: CliRunner) -> None:
    """`--help` works whatever the settings say: it is how one finds out what they should be."""
    for command in (["--help"], ["worker", "--help"], ["events", "head", "--help"]):
        result = runner.invoke(app, command, env={"BOOKWORM_READ_WAIT_S": "soon"})
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
        assert "BOOKWORM_READ_WAIT_S" not in result.output


def test_each_command_is_listed_with_a_one_line_summary() -> None:
    """A command's first paragraph is what a group's help lists; typer keeps its line breaks
    there, so a summary spread over two lines prints broken in the middle of the list."""
    root = typer.main.get_command(app)
    pending: list[tuple[str, Any]] = [("bookworm", root)]
    checked = 0
    while pending:
        path, command = pending.pop()
        summary = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert summary, f"{path} has no help"
        assert "\n" not in summary, f"{path}: {summary!r}"
        checked += 1
        for name, sub in getattr(command, "commands", {}).items():
            pending.append((f"{path} {name}", sub))
    assert checked >= 30  # the whole tree was walked, groups and their commands
