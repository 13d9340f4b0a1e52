"""Child processes of the projection-runtime tests, and how a test starts and watches one.

`Process` runs any command (the `bookworm` command line, or a module of this package run as
`python -m tests.pipelines.children.<name>` from the repository root) and collects its stdout
lines in a thread, so every wait on it has a deadline and a hung child fails the test instead
of hanging the suite. Its stderr is drained the same way (a worker logs there), so a chatty
child never blocks on a full pipe. `Projector` is a `Process` running `projector.py`, whose
JSON lines say who it is and what its runner is doing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

#: The repository root: the working directory of the children of this package.
REPO_ROOT = Path(__file__).resolve().parents[3]


class ProcessFailed(AssertionError):
    """A child exited, stalled or said something other than what the test expected."""


class Process:
    """A running child whose stdout lines are kept, in order, for the test to wait on."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        cwd: Path = REPO_ROOT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._changed = threading.Condition()
        self._lines: list[str] = []
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def _read(self, pipe: IO[str] | None, is_stdout: bool) -> None:
        assert pipe is not None
        for line in pipe:
            if not is_stdout:
                self._stderr.append(line)
            elif line.endswith("\n"):  # a line cut short by a kill was never said
                with self._changed:
                    self._lines.append(line[:-1])
                    self._on_line(line[:-1])
                    self._changed.notify_all()

    def _on_line(self, line: str) -> None:
        """Called under the lock for every complete stdout line (subclasses parse here)."""

    @property
    def lines(self) -> list[str]:
        """Every complete stdout line so far."""
        with self._changed:
            return list(self._lines)

    @property
    def stderr(self) -> str:
        """What the child wrote to stderr so far (complete once it has exited)."""
        return "".join(self._stderr)

    def fail(self, why: str) -> ProcessFailed:
        """An assertion error about this child, with its exit code and its stderr."""
        tail = self.stderr[-4000:]
        return ProcessFailed(
            f"{self.name} (pid {self.pid}) {why}; exit code {self.process.poll()}; "
            f"stderr (tail):\n{tail}"
        )

    def wait_for(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Block until `condition()` (on what the child said) holds, re-checked on each new
        stdout line; fails on the deadline or when the child exits first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                if self.process.poll() is not None:
                    raise self.fail(f"exited while the test waited for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self.fail(f"did not reach {what} within {timeout} s")
                self._changed.wait(min(left, 0.05))

    def terminate(self, timeout: float) -> int:
        """SIGTERM the child and return its exit code; fails when it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self._wait_for_exit(timeout)

    def kill(self, timeout: float) -> None:
        """SIGKILL the child; fails when it had already exited by itself (that tests nothing)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self._wait_for_exit(timeout) != -signal.SIGKILL:
            raise self.fail("was not killed by SIGKILL: it had exited by itself")

    def _wait_for_exit(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise self.fail(f"did not exit within {timeout} s") from None
        for reader in self._readers:
            reader.join(timeout)
        return code

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


class Projector(Process):
    """`projector.py` running `event_counts` in a `Worker`; its lines parsed as they come."""

    def __init__(
        self, events_uri: str, query_url: str, *, ttl_s: float, batch_size: int, name: str
    ) -> None:
        self._holder: str | None = None
        self._status: dict[str, Any] | None = None
        self._stopped: dict[str, Any] | None = None
        module = "tests.pipelines.children.projector"
        argv = [sys.executable, "-m", module, events_uri, query_url, str(ttl_s), str(batch_size)]
        super().__init__(argv, name=name)

    def _on_line(self, line: str) -> None:
        said = json.loads(line)
        if "holder" in said:
            self._holder = said["holder"]
        elif "status" in said:
            self._status = said["status"]
        elif "stopped" in said:
            self._stopped = said["stopped"]

    def holder(self, timeout: float) -> str:
        """The name its runner holds the lease under (waits for the child to say it)."""
        self.wait_for(lambda: self._holder is not None, timeout=timeout, what="its holder name")
        assert self._holder is not None
        return self._holder

    @property
    def latest(self) -> dict[str, Any] | None:
        """Its runner's latest reported status, None before the first report."""
        with self._changed:
            return None if self._status is None else dict(self._status)

    def status(self, timeout: float) -> dict[str, Any]:
        """Its runner's latest reported status (waits for the first report)."""
        self.wait_for(lambda: self._status is not None, timeout=timeout, what="a status report")
        with self._changed:
            assert self._status is not None
            return dict(self._status)

    @property
    def stopped(self) -> dict[str, Any] | None:
        """The status it reported after a graceful stop, None before (or without) one."""
        with self._changed:
            return None if self._stopped is None else dict(self._stopped)
