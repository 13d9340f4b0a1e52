"""`EsdbServerProcess`: the test server in a child process, for cross-process tests.

The child is `python -m tests.esdb_server`, started from the repository root with this
interpreter; the parent waits for its ready line and reads the port from it.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.esdb_server.server import READY_LINE

REPO_ROOT = Path(__file__).resolve().parents[2]

_PORT = re.compile(r":(\d+)\?")


class EsdbServerProcess:
    """A test server in its own process, on the store `store_uri` (a file another process may
    open too). `port=0` picks a free port at the first start; restarts keep that port."""

    def __init__(
        self,
        store_uri: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 15.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.store_uri = store_uri
        self.host = host
        self.port = port
        self._startup_timeout = startup_timeout
        self._extra_args = extra_args
        self._process: subprocess.Popen[str] | None = None

    def __repr__(self) -> str:
        return f"EsdbServerProcess({self.uri!r}, pid={self.pid})"

    @property
    def uri(self) -> str:
        """esdbclient's connection string for the server."""
        return f"esdb://{self.host}:{self.port}?Tls=false"

    @property
    def discover_uri(self) -> str:
        """The same server found through gossip."""
        return f"esdb+discover://{self.host}:{self.port}?Tls=false"

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> Self:
        """Start the child and wait until it accepts calls."""
        if self._process is not None:
            raise RuntimeError(f"{self!r} is already running")
        command = [
            sys.executable,
            "-m",
            "tests.esdb_server",
            "--store",
            self.store_uri,
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self._extra_args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        self.port = self._wait_until_ready(self._process)
        return self

    def _wait_until_ready(self, process: subprocess.Popen[str]) -> int:
        assert process.stdout is not None
        deadline = time.monotonic() + self._startup_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([process.stdout], [], [], remaining)
            if not readable:
                break
            line = process.stdout.readline()
            if not line:
                break  # the child ended before it was ready
            if line.startswith(READY_LINE) and (found := _PORT.search(line)):
                return int(found.group(1))
        self.kill()
        raise RuntimeError(f"the test server did not start within {self._startup_timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child gracefully (SIGTERM), killing it if it does not end in time."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        finally:
            _close(process)

    def kill(self) -> None:
        """Kill the child at once (SIGKILL), as a crash would."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        _close(process)

    def restart(self) -> Self:
        """Stop and start again, on the same port and store."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _close(process: subprocess.Popen[str]) -> None:
    if process.stdout is not None:
        process.stdout.close()
