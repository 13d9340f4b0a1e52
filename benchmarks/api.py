"""The HTTP API under load: `bookworm serve` (one uvicorn worker) with `bookworm worker` beside it.

    python -m benchmarks.api [--quick] [--out DIR]

Data: the traffic simulator's demo bookstore (seed 7; 400 books, 3,000 buyers, 30 days; smaller
with `--quick`) in a fresh data directory, then `bookworm worker` runs (in the background, for
the whole benchmark) until every projection has caught up and the store is quiet. The API runs
as `bookworm serve --workers 1` with `BOOKWORM_RATE_LIMITS=false`; load comes from `wrk` (the
Debian package, `apt-get install wrk`) in a process of its own on loopback, scripted by the Lua
files in benchmarks/wrk/ (their `done()` prints the figures as JSON). Each wrk case is warmed up,
then run `repetitions` times per side, interleaved, and the median kept.

- `book_detail_cached`: `GET /api/v1/books/{id}` round robin over every book of the catalog,
  each cached beforehand (the detail cache holds the answer for 30 minutes; nothing evicts it
  during the case). `floor`: a bare Starlette route (benchmarks/_api_floor.py) under the same
  uvicorn (one worker, uvloop, httptools), serving the same bytes and ETag for the same URLs
  from a dict.
- `books_page`: `GET /api/v1/books?page=P&page_size=20&sort=average_rating&descending=true`,
  every page of the catalog round robin: a query on the query tables per request.
- `post_feedback`: `POST /api/v1/books/{id}/feedbacks`, anonymous, a new reviewer per request
  (unique names), ratings 0 to 5; the answers outside 2xx are counted (there must be none).
  The event store commits durably (fsync); the worker projects the new feedbacks meanwhile.
- `freshness`: one request at a time from this process: read the book (its detail, as
  cached), POST a feedback on it, then read the detail every 2 ms until its `total_reviews`
  shows the feedback; the time from sending the POST to that answer. No `X-Min-Position`: the
  projection's commit evicts the cached detail, so a plain read shows the change.

wrk is a closed loop: with C connections open, the mean latency is C / throughput, so the
latency figures belong to the connection count of their case (in the JSON's `settings`).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import httpx

from api import bootstrap
from api.settings import Settings, load_settings
from api.simulator import SimulationConfig, run_simulation
from benchmarks._harness import (
    OURS,
    CaseResult,
    Measurement,
    Target,
    bound_target,
    machine_info,
    percentiles_ms,
    ratio_target,
    scratch_directory,
    side_by_side,
    start_run,
)
from pipelines.overview import projection_status

AREA = "api"
FLOOR = "floor"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Scale:
    """The data and the load; `--quick` shrinks both."""

    seed: int = 7
    books: int = 400
    buyers: int = 3_000
    days: int = 30
    wrk_threads: int = 2
    read_connections: int = 32
    """Connections of the GET cases."""
    write_connections: int = 8
    """Connections of `post_feedback` (each waits for its fsyncs; see the module's note)."""
    seconds: float = 10.0
    warmup_seconds: float = 3.0
    repetitions: int = 3
    page_size: int = 20
    freshness_samples: int = 200
    """Feedbacks timed per repetition of `freshness`."""


FULL = Scale()
QUICK = Scale(
    books=60,
    buyers=300,
    days=3,
    seconds=4.0,
    warmup_seconds=1.0,
    repetitions=1,
    freshness_samples=40,
)

#: How often `freshness` reads the book again while waiting for its feedback to show.
FRESHNESS_POLL_S = 0.002
#: A feedback that has not shown after this long counts as this long (and is reported).
FRESHNESS_GIVE_UP_S = 5.0
#: The sort of `books_page`.
PAGE_SORT = "sort=average_rating&descending=true"
#: How long the store must stay at the same head, every projection caught up, to be settled.
QUIET_S = 3.0
SETTLE_TIMEOUT_S = 900.0
START_TIMEOUT_S = 60.0

COMMENT = "Read it in two sittings; the middle drags, the ending earns it."


class BenchmarkError(RuntimeError):
    """The benchmark cannot go on (a process died, a route answers wrongly, wrk is missing)."""


# -- processes --------------------------------------------------------------------------------


@dataclass
class Service:
    """A process started in its own session (its own process group), logging to a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def check(self) -> None:
        """Fail with the end of its log when the process has exited."""
        code = self.popen.poll()
        if code is not None:
            raise BenchmarkError(f"{self.name} exited with {code}; its log ends:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        """The last lines of its log."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s, then wait for it."""
        try:
            if self.popen.poll() is None:
                _signal_group(self.popen.pid, signal.SIGTERM)
                try:
                    self.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    _signal_group(self.popen.pid, signal.SIGKILL)
                    self.popen.wait(timeout=10)
            # Anything the leader left behind in its group goes too.
            _signal_group(self.popen.pid, signal.SIGKILL)
        finally:
            self._log.close()


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


@contextmanager
def service(
    name: str, argv: Sequence[str], env: Mapping[str, str], logs: Path
) -> Iterator[Service]:
    """Start `argv` in a new session; stop its whole process group on the way out."""
    log_path = logs / f"{name}.log"
    log = log_path.open("wb")
    try:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log.close()
        raise
    started = Service(name, popen, log_path, log)
    try:
        yield started
    finally:
        started.stop()


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(server: Service, url: str) -> None:
    """Wait until `url` answers 200, failing early if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        server.check()
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise BenchmarkError(f"{server.name} did not answer {url} within {START_TIMEOUT_S} s")
        time.sleep(0.1)


def bookworm() -> str:
    """The `bookworm` command of this environment."""
    beside = Path(sys.executable).parent / "bookworm"
    found = str(beside) if beside.exists() else shutil.which("bookworm")
    if found is None:
        raise BenchmarkError("the bookworm command is not installed (pip install -e .)")
    return found


def find_wrk() -> tuple[str, str]:
    """The wrk binary and its version; a clear failure when it is missing."""
    found = shutil.which("wrk")
    if found is None:
        raise BenchmarkError(
            "wrk is not installed: the API benchmark's load comes from wrk "
            "(sudo apt-get install wrk)"
        )
    head = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    words = (head.stdout + head.stderr).split()
    return found, words[1] if len(words) > 1 else "unknown"


# -- data --------------------------------------------------------------------------------------


def simulate(settings: Settings, scale: Scale) -> int:
    """The seeded bookstore into the fresh data directory; the number of events appended."""
    config = SimulationConfig(
        seed=scale.seed,
        books=scale.books,
        buyers=scale.buyers,
        days=scale.days,
        workers=max(1, min(2, os.cpu_count() or 1)),
    )
    return run_simulation(settings, config, durability="NORMAL").event_count


def wait_until_settled(settings: Settings, worker: Service) -> int:
    """Wait until every projection has caught up and the store's head has not moved for
    `QUIET_S` (the worker's process managers and timers have nothing left); the head."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    with bootstrap.event_store(settings) as store, bootstrap.targets(settings, {"sql"}) as targets:
        projections = bootstrap.projections()
        last_head, quiet_since = None, time.monotonic()
        while True:
            worker.check()
            head = store.head_position()
            behind = sum(
                projection_status(store, p, targets[p.target_kind]).lag_events or 0
                for p in projections
            )
            now = time.monotonic()
            if head != last_head or behind:
                last_head, quiet_since = head, now
            elif now - quiet_since >= QUIET_S:
                return head or 0
            if now > deadline:
                raise BenchmarkError(
                    f"the worker did not settle within {SETTLE_TIMEOUT_S:.0f} s "
                    f"({behind} events behind); its log ends:\n{worker.tail()}"
                )
            time.sleep(0.5)


def catalog_ids(client: httpx.Client) -> list[str]:
    """Every book the API lists, in its default order."""
    ids: list[str] = []
    page = 1
    while True:
        answer = expect(client.get(f"{API}/books", params={"page": page, "page_size": 100}), 200)
        items = answer.json()["items"]
        ids.extend(item["id"] for item in items)
        if len(items) < 100:
            return ids
        page += 1


def expect(answer: httpx.Response, status: int) -> httpx.Response:
    """The answer, when its status is `status`; a clear failure otherwise."""
    if answer.status_code != status:
        raise BenchmarkError(
            f"{answer.request.method} {answer.request.url} answered {answer.status_code} "
            f"(expected {status}): {answer.text[:500]}"
        )
    return answer


# -- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """How wrk loads one case."""

    binary: str
    threads: int
    connections: int
    seconds: float
    script: Path
    script_args: tuple[str, ...]


@dataclass
class WrkRun:
    """What one wrk run reported (its `done()` JSON)."""

    requests: int
    seconds: float
    bad: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    first_error: str | None

    @property
    def measurement(self) -> Measurement:
        """Good answers per second, with the latency percentiles of every answer."""
        return Measurement(
            {
                "requests_per_s": (self.requests - self.bad) / self.seconds,
                "p50_ms": self.p50_ms,
                "p99_ms": self.p99_ms,
            }
        )


def run_wrk(load: Load, base_url: str, seconds: float | None = None) -> WrkRun:
    """One wrk run against `base_url`; its figures from the script's `done()` line."""
    duration = seconds or load.seconds
    argv = [
        load.binary,
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={load.script}",
        base_url,
        "--",
        *load.script_args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchmarkError(
            f"wrk failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}\n{done.stderr}"
        )
    report = json.loads(line.removeprefix("WRK_JSON "))
    errors = report["errors"]
    bad = report["non2xx"] if report["counted_answers"] else errors["status"]
    return WrkRun(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        bad=bad,
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        p50_ms=report["latency_us"]["p50"] / 1000.0,
        p99_ms=report["latency_us"]["p99"] / 1000.0,
        first_error=report.get("first_error"),
    )


@dataclass
class Sides:
    """The sides of one wrk case, their warm-up, and every run kept for the notes."""

    load: Load
    urls: dict[str, str]
    runs: dict[str, list[WrkRun]] = field(default_factory=dict)

    def measure(self, scale: Scale, servers: Mapping[str, Service]) -> dict[str, Measurement]:
        """Warm every side up, then `repetitions` interleaved rounds; medians."""
        for side, url in self.urls.items():
            run_wrk(self.load, url, scale.warmup_seconds)
            servers[side].check()

        def one(side: str) -> Callable[[], Measurement]:
            def run() -> Measurement:
                found = run_wrk(self.load, self.urls[side])
                servers[side].check()
                self.runs.setdefault(side, []).append(found)
                return found.measurement

            return run

        return side_by_side(
            {side: one(side) for side in self.urls}, warmups=0, repetitions=scale.repetitions
        )

    def failures(self) -> tuple[int, int, str | None]:
        """Answers outside 2xx, socket errors and the first bad answer, over every run."""
        runs = [run for found in self.runs.values() for run in found]
        sample = next((run.first_error for run in runs if run.first_error), None)
        return sum(r.bad for r in runs), sum(r.socket_errors for r in runs), sample


def write_paths(path: Path, paths: Sequence[str]) -> Path:
    """One request path a line, for the wrk scripts."""
    path.write_text("\n".join(paths) + "\n")
    return path


# -- cases -------------------------------------------------------------------------------------


@dataclass
class Bench:
    """What every case needs: the running API, its client, the catalog and the wrk setup."""

    scale: Scale
    work_dir: Path
    wrk: str
    env: Mapping[str, str]
    api: Service
    api_url: str
    client: httpx.Client
    ids: list[str]
    failures: dict[str, int] = field(default_factory=dict)
    """Answers outside 2xx per case."""

    def load(self, script: str, connections: int, *args: str) -> Load:
        return Load(
            binary=self.wrk,
            threads=self.scale.wrk_threads,
            connections=connections,
            seconds=self.scale.seconds,
            script=WRK_DIR / script,
            script_args=args,
        )


def book_detail_cached(bench: Bench) -> CaseResult:
    """Every book's cached detail, against the floor serving the same bytes."""
    paths = [f"{API}/books/{book_id}" for book_id in bench.ids]
    answers: dict[str, dict[str, str]] = {}
    for path in paths:
        first = expect(bench.client.get(path), 200)
        again = expect(bench.client.get(path), 200)  # from the cache now
        if again.content != first.content:
            raise BenchmarkError(f"{path}: the cached detail differs from the first answer")
        answers[path] = {"body": again.content.decode(), "etag": again.headers["etag"]}
    answers_file = bench.work_dir / "floor-answers.json"
    answers_file.write_text(json.dumps(answers))
    listed = write_paths(bench.work_dir / "detail-paths.txt", paths)
    port = free_port()
    floor_argv = [
        *uvicorn_argv(port),
        "--factory",
        "benchmarks._api_floor:create_app",
    ]
    env = {**bench.env, "BOOKWORM_FLOOR_ANSWERS": str(answers_file)}
    with service(FLOOR, floor_argv, env, bench.work_dir) as floor:
        floor_url = f"http://127.0.0.1:{port}"
        wait_until_up(floor, floor_url + paths[0])
        for path in paths[:: max(1, len(paths) // 20)]:
            theirs = expect(httpx.get(floor_url + path), 200)
            if theirs.content.decode() != answers[path]["body"]:
                raise BenchmarkError(f"the floor's {path} differs from the API's")
        sides = Sides(
            bench.load("paths.lua", bench.scale.read_connections, str(listed)),
            {OURS: bench.api_url, FLOOR: floor_url},
        )
        measured = sides.measure(bench.scale, {OURS: bench.api, FLOOR: floor})
    result = CaseResult("book_detail_cached", measured, ratio_metric="requests_per_s")
    _check_failures(bench, result, sides)
    size = statistics.median(len(a["body"]) for a in answers.values())
    result.notes.append(
        f"{len(paths)} books round robin, each answer ~{size:.0f} bytes, cached before the "
        f"case (two GETs each, the second checked equal to the first); {FLOOR}: a bare "
        "Starlette route (benchmarks/_api_floor.py) answering the same bytes and ETag from a "
        "dict, under uvicorn with the same settings (one worker, uvloop, httptools)"
    )
    return result


def books_page(bench: Bench) -> CaseResult:
    """Every page of the catalog, best rated first."""
    size = bench.scale.page_size
    pages = max(1, math.ceil(len(bench.ids) / size))
    paths = [f"{API}/books?page={p}&page_size={size}&{PAGE_SORT}" for p in range(1, pages + 1)]
    for path in (paths[0], paths[-1]):
        expect(bench.client.get(path), 200)
    listed = write_paths(bench.work_dir / "page-paths.txt", paths)
    sides = Sides(
        bench.load("paths.lua", bench.scale.read_connections, str(listed)),
        {OURS: bench.api_url},
    )
    result = CaseResult(
        "books_page", sides.measure(bench.scale, {OURS: bench.api}), ratio_metric="requests_per_s"
    )
    _check_failures(bench, result, sides)
    result.notes.append(
        f"GET {API}/books?page=P&page_size={size}&{PAGE_SORT}, P over all {pages} pages round "
        "robin (a query on the query tables per request; no cache)"
    )
    return result


def post_feedback(bench: Bench) -> CaseResult:
    """New anonymous feedbacks, as fast as the connections of the case send them."""
    paths = [f"{API}/books/{book_id}/feedbacks" for book_id in bench.ids]
    body = {"first_name": "Bench", "last_name": uuid.uuid4().hex, "comment": COMMENT, "rating": 4}
    expect(bench.client.post(paths[0], json=body), 201)
    listed = write_paths(bench.work_dir / "feedback-paths.txt", paths)
    nonce = secrets.token_hex(4)
    sides = Sides(
        bench.load("feedback.lua", bench.scale.write_connections, str(listed), nonce),
        {OURS: bench.api_url},
    )
    result = CaseResult(
        "post_feedback",
        sides.measure(bench.scale, {OURS: bench.api}),
        ratio_metric="requests_per_s",
    )
    bad, socket_errors, sample = sides.failures()
    bench.failures[result.name] = bad + socket_errors
    sent = sum(r.requests for r in sides.runs[OURS])
    result.notes.append(
        f"{sent:,} feedbacks in {len(sides.runs[OURS])} runs (after a warm-up), anonymous, "
        f"a new reviewer each (unique names), over {len(paths)} books; answers outside 2xx: "
        f"{bad}, socket errors: {socket_errors}" + (f"; first bad answer: {sample}" if bad else "")
    )
    result.notes.append(
        "each POST: CreateFeedback through the command bus (reviewer name claim, reviewer key, "
        "FeedbackCreated: three durable commits), while the worker projects the feedbacks"
    )
    return result


def _check_failures(bench: Bench, result: CaseResult, sides: Sides) -> None:
    bad, socket_errors, sample = sides.failures()
    bench.failures[result.name] = bad + socket_errors
    if bad or socket_errors:
        result.notes.append(
            f"answers outside 2xx: {bad}, socket errors: {socket_errors}"
            + (f"; first bad answer: {sample}" if sample else "")
        )


@dataclass
class FreshnessRun:
    """One repetition of `freshness`: delays, and what else was seen."""

    delays_s: list[float] = field(default_factory=list)
    posts_s: list[float] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)
    gave_up: int = 0


def freshness(bench: Bench) -> CaseResult:
    """POST a feedback, then read the book until it shows; one sample at a time."""
    runs: list[FreshnessRun] = []
    count = bench.scale.freshness_samples
    for repetition in range(bench.scale.repetitions):
        found = FreshnessRun()
        for n in range(count):
            book_id = bench.ids[(repetition * count + n) % len(bench.ids)]
            _one_freshness_sample(bench.client, book_id, f"{repetition}-{n}", found)
        bench.api.check()
        runs.append(found)
    medians = {
        metric: statistics.median(percentiles_ms(run.delays_s)[metric] for run in runs)
        for metric in ("p50_ms", "p99_ms")
    }
    result = CaseResult("freshness", {OURS: Measurement(medians)}, ratio_metric="p99_ms")
    every = [d for run in runs for d in run.delays_s]
    posts = [d for run in runs for d in run.posts_s]
    result.notes.append(
        f"{count} feedbacks per repetition, one at a time; from sending the POST until a plain "
        f"GET of the book shows total_reviews + 1 (read every {FRESHNESS_POLL_S * 1000:.0f} ms, "
        "no X-Min-Position); "
        f"the POST itself: p50 {percentiles_ms(posts)['p50_ms']:.1f} ms; "
        f"slowest sample {max(every) * 1000:.0f} ms; median reads per sample "
        f"{statistics.median(p for run in runs for p in run.polls):.0f}"
    )
    gave_up = sum(run.gave_up for run in runs)
    if gave_up:
        result.notes.append(
            f"{gave_up} feedbacks had not shown after {FRESHNESS_GIVE_UP_S:.0f} s "
            "(counted as that long)"
        )
    return result


def _one_freshness_sample(
    client: httpx.Client, book_id: str, label: str, into: FreshnessRun
) -> None:
    path = f"{API}/books/{book_id}"
    before = expect(client.get(path), 200).json()["total_reviews"]
    body = {
        "first_name": "Fresh",
        "last_name": f"{uuid.uuid4().hex[:12]}-{label}",
        "comment": COMMENT,
        "rating": len(label) % 6,
    }
    sent = time.perf_counter()
    expect(client.post(f"{path}/feedbacks", json=body), 201)
    into.posts_s.append(time.perf_counter() - sent)
    polls = 0
    while True:
        polls += 1
        shown = expect(client.get(path), 200).json()["total_reviews"]
        elapsed = time.perf_counter() - sent
        if shown > before:
            break
        if elapsed > FRESHNESS_GIVE_UP_S:
            into.gave_up += 1
            break
        time.sleep(FRESHNESS_POLL_S)
    into.delays_s.append(elapsed)
    into.polls.append(polls)


# -- the run -----------------------------------------------------------------------------------


def uvicorn_argv(port: int) -> list[str]:
    """uvicorn as `bookworm serve` runs it (one worker, uvloop, httptools, no access log, no
    server header), for the floor."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        "--loop=uvloop",
        "--http=httptools",
        "--no-access-log",
        "--no-server-header",
        "--log-level=warning",
    ]


def judge(cases: Mapping[str, CaseResult], failures: Mapping[str, int]) -> list[Target]:
    """The goals of the issue, and no failed request in the write case."""
    detail, feedback = cases["book_detail_cached"], cases["post_feedback"]
    bad = float(failures.get(feedback.name, 0))
    return [
        bound_target(detail, "requests_per_s", at_least=2_000),
        ratio_target(detail, FLOOR, 0.3),
        bound_target(feedback, "requests_per_s", at_least=500),
        bound_target(feedback, "p99_ms", at_most=50),
        Target(feedback.name, OURS, "failed requests = 0", bad, "requests", bad == 0),
        bound_target(cases["freshness"], "p99_ms", at_most=250),
    ]


def settings_block(scale: Scale, wrk_version: str, log_level: str) -> dict[str, Any]:
    """How the figures were taken, for the JSON (rate limits off, one worker, the load)."""
    return {
        "rate_limits": False,
        "server": f"bookworm serve --workers 1 --log-level {log_level}",
        "uvicorn": {
            "workers": 1,
            "loop": "uvloop",
            "http": "httptools",
            "version": version("uvicorn"),
        },
        "worker": "bookworm worker (every projection, process manager and timer) running",
        "event_store": "embedded SQLite, synchronous=FULL (the platform's default)",
        "cache": "embedded (SQLite file cache.db; no Redis)",
        "wrk": {
            "version": wrk_version,
            "threads": scale.wrk_threads,
            "connections": {
                "book_detail_cached": scale.read_connections,
                "books_page": scale.read_connections,
                "post_feedback": scale.write_connections,
            },
            "duration_s": scale.seconds,
            "warmup_s": scale.warmup_seconds,
            "repetitions": scale.repetitions,
        },
        "freshness": {
            "samples_per_repetition": scale.freshness_samples,
            "repetitions": scale.repetitions,
            "poll_ms": FRESHNESS_POLL_S * 1000,
        },
        "loopback": True,
        "cpus_shared_by": "wrk, the API, the worker (and the floor in its case)",
    }


#: `bookworm serve`'s log level for the run: its default, so every request writes its JSON
#: access line, as in production.
SERVE_LOG_LEVEL = "info"


def main() -> None:
    """Build the data, start the worker and the API, run every case, print and write JSON."""
    run = start_run(AREA, "HTTP API benchmark (see benchmarks/api.py)")
    scale = QUICK if run.options.quick else FULL
    for name in [name for name in os.environ if name.startswith("BOOKWORM_")]:
        del os.environ[name]  # every setting of the run is the defaults and those set below
    try:
        wrk, wrk_version = find_wrk()
    except BenchmarkError as missing:
        run.console.print(f"[red]{missing}[/]")
        raise SystemExit(2) from None
    with scratch_directory(AREA) as work_dir, ExitStack() as stack:
        data_dir = work_dir / "data"
        env = {
            **os.environ,
            "BOOKWORM_DATA_DIR": str(data_dir),
            "BOOKWORM_RATE_LIMITS": "false",
            "BOOKWORM_JWT_SECRET": secrets.token_hex(32),
        }
        settings = load_settings(data_dir=data_dir, rate_limits=False)
        data_dir.mkdir()
        machine = machine_info(
            data_dir, wrk=wrk_version, uvicorn=version("uvicorn"), fastapi=version("fastapi")
        )
        with run.console.status(f"simulating {scale.books} books, {scale.buyers} buyers…"):
            simulated = simulate(settings, scale)
        worker = stack.enter_context(service("worker", [bookworm(), "worker"], env, work_dir))
        with run.console.status("the worker catches up…"):
            settled = wait_until_settled(settings, worker)
        port = free_port()
        api_argv = [
            bookworm(),
            "serve",
            "--workers=1",
            f"--port={port}",
            f"--log-level={SERVE_LOG_LEVEL}",
        ]
        api = stack.enter_context(service("api", api_argv, env, work_dir))
        api_url = f"http://127.0.0.1:{port}"
        wait_until_up(api, f"{api_url}/health")
        client = stack.enter_context(httpx.Client(base_url=api_url, timeout=30.0))
        bench = Bench(scale, work_dir, wrk, env, api, api_url, client, catalog_ids(client))
        cases: dict[str, CaseResult] = {}
        for name, case in (
            ("book_detail_cached", book_detail_cached),
            ("books_page", books_page),
            ("post_feedback", post_feedback),
        ):
            with run.console.status(f"{name}…"):
                cases[name] = case(bench)
        with run.console.status("the worker catches up…"):
            wait_until_settled(settings, worker)
        with run.console.status("freshness…"):
            cases["freshness"] = freshness(bench)
        worker.check()
    scale_block = {
        "books": scale.books,
        "books_listed": len(bench.ids),
        "buyers": scale.buyers,
        "days": scale.days,
        "seed": scale.seed,
        "events": settled,
        "simulated_events": simulated,
    }
    results = list(cases.values())
    targets = judge(cases, bench.failures)
    run.report(
        "api",
        scale.repetitions,
        machine,
        scale_block,
        results,
        targets,
        settings=settings_block(scale, wrk_version, SERVE_LOG_LEVEL),
    )


if __name__ == "__main__":
    main()
