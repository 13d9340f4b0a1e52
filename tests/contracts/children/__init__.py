"""Child processes of the contract tests, and how a test starts and watches one.

Each module here runs as `python -m tests.contracts.children.<name>` with the repository root
as its working directory, so it imports the project exactly as any other process would. A
child speaks in lines on stdout; `Child` hands them to the test through a queue filled by a
reader thread, so every wait on a child has a deadline and a hung child fails the test instead
of hanging the suite.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

#: The repository root: the working directory every child runs in.
REPO_ROOT = Path(__file__).resolve().parents[3]


class ChildFailed(AssertionError):
    """A child exited, stalled or wrote something other than what the test expected."""


class Child:
    """A running child module whose stdout lines arrive, in order, through `next_line`."""

    def __init__(self, module: str, *args: str) -> None:
        self.name = module
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"tests.contracts.children.{module}", *args],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        # None marks the end of stdout.
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._eof = False
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        """What the child wrote to stderr so far (complete once it has exited)."""
        return "".join(self._stderr)

    def _fail(self, why: str) -> ChildFailed:
        return ChildFailed(
            f"child {self.name} (pid {self.process.pid}) {why}; "
            f"exit code {self.process.poll()}; stderr:\n{self.stderr}"
        )

    def next_line(self, timeout: float) -> str:
        """The next complete stdout line without its newline; fails on a deadline or an exit."""
        try:
            line = None if self._eof else self._lines.get(timeout=timeout)
        except queue.Empty:
            raise self._fail(f"wrote no line within {timeout} s") from None
        if line is None:
            self._eof = True
            self._wait_for_exit(timeout)
            raise self._fail("ended its output early")
        if not line.endswith("\n"):
            raise self._fail(f"wrote a partial line {line!r}")
        return line[:-1]

    def send(self, line: str) -> None:
        """Write one line to the child's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float) -> list[str]:
        """Close stdin, wait for a clean exit (code 0) and return the lines not yet read."""
        self._close_stdin()
        self._wait_for_exit(timeout)
        rest = self._rest(timeout)
        if self.process.returncode != 0:
            raise self._fail("failed")
        incomplete = [line for line in rest if not line.endswith("\n")]
        if incomplete:
            raise self._fail(f"ended with a partial line {incomplete[0]!r}")
        return [line[:-1] for line in rest]

    def kill(self, timeout: float) -> list[str]:
        """SIGKILL the child and return the lines it had written but not yet read.

        A line cut short by the kill is left out: the test never learned of that append. Fails
        when the child had already exited by itself, since then the kill tested nothing.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self._wait_for_exit(timeout)
        if self.process.returncode != -signal.SIGKILL:
            raise self._fail("was not killed by SIGKILL: it had exited by itself")
        return [line[:-1] for line in self._rest(timeout) if line.endswith("\n")]

    def _rest(self, timeout: float) -> list[str]:
        rest: list[str] = []
        while not self._eof:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise self._fail(f"kept its stdout open {timeout} s after exiting") from None
            if line is None:
                self._eof = True
            else:
                rest.append(line)
        for reader in self._readers:
            reader.join(timeout)
        return rest

    def _wait_for_exit(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise self._fail(f"did not exit within {timeout} s") from None

    def _close_stdin(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            # A broken pipe means the child is gone already; its exit code tells the story.
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()

    def __enter__(self) -> Child:
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
        self._close_stdin()
        for reader in self._readers:
            reader.join(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
