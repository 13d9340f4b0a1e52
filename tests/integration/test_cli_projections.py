"""`bookworm projections …`, `bookworm deadletters …` against real files in a temp data dir."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for variable in ("BOOKWORM_EVENT_STORE", "BOOKWORM_QUERY_DB_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return CliRunner(env={"COLUMNS": "200"})


def test_status_rebuild_and_status_again(runner: CliRunner, tmp_path: Path) -> None:
    """Given the demo's 6 events and no worker yet, status shows the whole lag; a rebuild
    builds and switches to build 1; status then shows it caught up; the view has the counts."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0

    before = runner.invoke(app, ["projections", "status"])
    assert before.exit_code == 0, before.output
    assert "event_counts" in before.output
    assert "stopped" in before.output
    row = next(line for line in before.output.splitlines() if "event_counts" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[:6] == ["event_counts", "0", "stopped", "0", "6", "6"]
    assert not (tmp_path / "var" / "query.db").exists()  # a read: nothing built, nothing made
    assert not (tmp_path / "var" / "warehouse").exists()

    rebuilt = runner.invoke(app, ["projections", "rebuild", "event_counts"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "build 1 is live" in rebuilt.output

    after = runner.invoke(app, ["projections", "status"])
    assert after.exit_code == 0
    row = next(line for line in after.output.splitlines() if "event_counts" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[:6] == ["event_counts", "1", "stopped", "6", "6", "0"]

    with sqlite3.connect(tmp_path / "var" / "query.db") as conn:
        counts = dict(conn.execute("SELECT event_type, events FROM event_counts").fetchall())
    assert counts == {"SampleBookListed": 3, "SampleBookRepriced": 3}


def test_dead_letter_commands_need_a_choice(runner: CliRunner) -> None:
    """Replay and discard act on named events or --all, never on nothing said."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0
    listed = runner.invoke(app, ["deadletters", "list"])
    assert listed.exit_code == 0
    assert "projection" in listed.output
    refused = runner.invoke(app, ["deadletters", "replay"])
    assert refused.exit_code != 0
    assert "--all" in refused.output
    replayed = runner.invoke(app, ["deadletters", "replay", "--all"])
    assert replayed.exit_code == 0
    assert "event_counts: replayed 0, failed 0" in replayed.output


def test_dead_letters_of_a_data_dir_never_written_say_so_and_create_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    """With no event store (a mistyped data directory, say) each dead-letter command says so,
    as a read of the events does, and leaves the directory as it was."""
    for command in (["list"], ["replay", "--all"], ["discard", "--all"]):
        result = runner.invoke(app, ["deadletters", *command])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"no event store at {tmp_path / 'var' / 'events.db'}")
    assert not (tmp_path / "var").exists()


def test_dead_letters_before_any_projection_ran_are_none(runner: CliRunner, tmp_path: Path) -> None:
    """Events but no worker yet: nothing is parked, and no query tables or warehouse are made
    to show it."""
    assert runner.invoke(app, ["events", "sample"]).exit_code == 0
    before = sorted(p.name for p in (tmp_path / "var").iterdir())

    listed = runner.invoke(app, ["deadletters", "list"])
    assert listed.exit_code == 0, listed.output
    assert "event_counts" not in listed.output  # the header only
    discarded = runner.invoke(app, ["deadletters", "discard", "--all"])
    assert discarded.exit_code == 0, discarded.output
    assert "event_counts: discarded 0" in discarded.output
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == before
    assert "query.db" not in before


def test_an_unknown_projection_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    """Naming a projection that does not exist says which ones do."""
    for command in (["projections", "status", "-p", "nope"], ["projections", "rebuild", "nope"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output  # a usage error, not a traceback
        assert "unknown projections ['nope']; known: ['authors'," in result.output
        assert not (tmp_path / "var").exists()  # refused before anything opened


def test_an_unknown_process_manager_is_a_usage_error(runner: CliRunner) -> None:
    """`worker --group` with a name no process manager has says which ones exist."""
    result = runner.invoke(app, ["worker", "--group", "nope"])
    assert result.exit_code == 2, result.output
    assert "unknown process managers ['nope']; known: ['catalog_rating_update'," in result.output
