"""`bookworm token` and `bookworm serve`: a token the served app accepts, JSON logs on stderr."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from api.web.auth import Authenticator

SECRET = "a-secret-for-the-serve-test-0123456789"
BOOKWORM = Path(sys.executable).parent / "bookworm"
START_S = 60.0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh installation in `tmp_path`."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("BOOKWORM_")}
    values.update(BOOKWORM_DATA_DIR=str(tmp_path / "var"), BOOKWORM_JWT_SECRET=SECRET)
    return values


def _token(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BOOKWORM), "token", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_token_prints_only_a_token_the_app_accepts(env: dict[str, str], tmp_path: Path) -> None:
    user = str(uuid.uuid4())
    printed = subprocess.run(
        [str(BOOKWORM), "token", "--sub", user, "--role", "user", "--role", "reporter"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert printed.count("\n") == 1  # the token and its newline: fit for TOKEN=$(...)
    settings = Settings(data_dir=tmp_path / "var", jwt_secret=SecretStr(SECRET))
    principal = Authenticator(settings).verify(printed.strip())
    assert principal.subject == user
    assert principal.roles == {"user", "reporter"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sub", "admin-1", "--role", "boss"], "unknown role boss"),
        (["--sub", "ada", "--role", "user"], "a user's subject is its buyer id, a UUID"),
    ],
)
def test_token_refuses_a_bad_role_or_user_subject(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["token", *args], env={**env, "COLUMNS": "200"})

    assert result.exit_code == 2
    assert message in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`bookworm serve` in its own process group: its base URL and its stderr file."""
    port = _free_port()
    stderr = tmp_path / "serve.stderr"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [str(BOOKWORM), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert process.poll() is None, f"serve exited: {stderr.read_text()}"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no /health in {START_S} s: {stderr.read_text()}"
            time.sleep(0.1)
        yield url, stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.multiprocess
@pytest.mark.slow
def test_serve_answers_with_tokens_from_bookworm_token_and_logs_json(
    served: tuple[str, Path], env: dict[str, str]
) -> None:
    url, stderr = served
    correlation = f"serve-test-{uuid.uuid4().hex}"

    books = httpx.get(f"{url}/api/v1/books", headers={"X-Correlation-ID": correlation})
    # No worker has built the query models of this fresh installation yet.
    assert books.status_code == 503
    assert books.headers["content-type"] == "application/problem+json"
    assert books.headers["Retry-After"] == "5"
    assert books.headers["X-Correlation-ID"] == correlation
    assert books.json() == {
        "type": "/problems/read_model_not_built",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "this query model has not been built yet; start `bookworm worker`",
        "instance": "/api/v1/books",
    }

    admin = _token(env, "--sub", "admin-1", "--role", "admin")
    groups = httpx.get(f"{url}/api/v1/groups", headers={"Authorization": f"Bearer {admin}"})
    assert groups.status_code == 200, groups.text
    assert groups.json() == {"items": []}
    reporter = _token(env, "--sub", "reporter-1", "--role", "reporter")
    refused = httpx.get(f"{url}/api/v1/groups", headers={"Authorization": f"Bearer {reporter}"})
    assert refused.status_code == 403

    lines = _log_lines_once_written(stderr, correlation)
    assert all("correlation_id" in line for line in lines)
    (access,) = [line for line in lines if line["correlation_id"] == correlation]
    assert access["logger"] == "bookworm.api.access"
    assert access["message"] == "GET /api/v1/books 503"
    assert access["status"] == 503
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own, as JSON
    assert not any(line["logger"] == "uvicorn.access" for line in lines)  # ours only
    assert not any("color_message" in line for line in lines)


def _log_lines_once_written(stderr: Path, correlation: str) -> list[dict[str, object]]:
    """Every stderr line, each parsed as JSON, once the access line of `correlation` is there."""
    deadline = time.monotonic() + 10
    while correlation not in stderr.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = stderr.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "serve wrote no log lines"
    return lines
