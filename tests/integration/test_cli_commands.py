"""`bookworm command list|send` against real files in a temp data dir."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for variable in ("BOOKWORM_EVENT_STORE", "BOOKWORM_QUERY_DB_URL", "BOOKWORM_KEY_STORE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return CliRunner(env={"COLUMNS": "200"})


def test_every_command_is_listed_with_its_fields(runner: CliRunner) -> None:
    listed = runner.invoke(app, ["command", "list"])

    assert listed.exit_code == 0, listed.output
    for name in ("CreateBook", "PlaceOrder", "ForgetBuyer", "CreateFeedback", "UpdateBasket"):
        assert name in listed.output
    assert "[discount_price]" in listed.output


def test_a_command_is_sent_answered_and_idempotent(runner: CliRunner) -> None:
    command_id = str(uuid.uuid4())
    argv = ["command", "send", "CreateCategory", "name=Poetry", "--command-id", command_id]

    first = runner.invoke(app, argv)
    again = runner.invoke(app, argv)

    assert first.exit_code == 0, first.output
    assert "CategoryCreated" in first.output
    assert "│ no " in first.output
    assert again.exit_code == 0, again.output
    assert "│ yes " in again.output  # replayed: the first answer, nothing written
    events = runner.invoke(app, ["events", "all"])
    assert events.output.count("CategoryCreated") == 1


def test_a_broken_rule_and_a_bad_field_are_told_apart(runner: CliRunner) -> None:
    assert runner.invoke(app, ["command", "send", "CreateCategory", "name=Drama"]).exit_code == 0

    taken = runner.invoke(
        app, ["command", "send", "CreateCategory", "--json", '{"name": "drama "}']
    )
    empty = runner.invoke(app, ["command", "send", "CreateCategory", "name="])
    unknown = runner.invoke(app, ["command", "send", "CreateDragon", "name=Smaug"])

    assert taken.exit_code == 1
    assert "category_name_taken (field name)" in taken.output
    assert empty.exit_code == 2
    assert "invalid name" in empty.output
    assert unknown.exit_code != 0
    assert "unknown command" in unknown.output


@pytest.mark.parametrize(
    ("body", "reason"),
    [("{name: Poetry}", "not JSON: Expecting property name"), ('["Poetry"]', "one JSON object")],
)
def test_a_json_body_that_is_no_object_is_a_usage_error(
    runner: CliRunner, body: str, reason: str
) -> None:
    """`--json` must hold the command's fields as one object; nothing is sent otherwise."""
    refused = runner.invoke(app, ["command", "send", "CreateCategory", "--json", body])
    assert refused.exit_code == 2, refused.output
    assert "Invalid value for --json" in refused.output
    assert reason in refused.output
    assert runner.invoke(app, ["events", "head"]).exit_code == 1  # no store was even opened
