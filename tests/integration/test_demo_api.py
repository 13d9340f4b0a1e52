"""The end of `make demo`: the token and the `curl` calls it prints work against the API
served on the demo's data (here the same app in process, as `make serve` builds it)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.demo_api import BASE_URL
from api.settings import Settings
from api.web.app import create_app


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A long path: the lines to copy must stay whole in the terminal's width, not wrap."""
    return tmp_path / ("a-rather-long-directory-name-" * 4) / "var"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path) -> CliRunner:
    monkeypatch.setenv("BOOKWORM_DATA_DIR", str(data_dir))
    monkeypatch.delenv("BOOKWORM_EVENT_STORE", raising=False)
    monkeypatch.delenv("BOOKWORM_JWT_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _request(command: str, token: str) -> tuple[str, str, dict[str, str], str | None]:
    words = shlex.split(command.replace("$TOKEN", token))
    assert words[:2] == ["curl", "-s"]
    method, headers, body, url = "GET", {}, None, ""
    rest = iter(words[2:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(rest)
        else:
            url = word
    assert url.startswith(BASE_URL)
    return method, url.removeprefix(BASE_URL), headers, body


def test_the_demo_ends_with_a_token_and_three_calls_that_work(
    runner: CliRunner, data_dir: Path
) -> None:
    done = runner.invoke(
        app, ["demo", "--books", "30", "--buyers", "60", "--days", "3"], env={"COLUMNS": "120"}
    )
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    token = next(line for line in lines if line.startswith("export TOKEN=")).split("=", 1)[1]
    calls = [line for line in lines if line.startswith("curl ")]
    assert len(calls) == 3
    serve = next(line for line in lines if line.startswith("4. the API"))
    assert f"BOOKWORM_DATA_DIR={data_dir / 'demo'} make serve" in serve

    settings = Settings(data_dir=data_dir / "demo")
    with TestClient(create_app(settings)) as client:
        answers = []
        for call in calls:
            method, path, headers, body = _request(call, token)
            answer = client.request(method, path, headers=headers, content=body)
            assert answer.is_success, (call, answer.text)
            answers.append(answer)
    assert len(answers[0].json()["items"]) == 3
    assert answers[1].json()["status"] in {"New", "Completed", "Cancelled"}
    assert answers[2].status_code == 201
