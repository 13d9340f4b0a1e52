"""What every benchmark shares: options, the machine block, repetitions, the table, the JSON.

A benchmark builds its own data and hands the harness one callable per side (`ours` and each
reference), each measuring one repetition. The harness runs them round after round, interleaved,
so a noisy neighbour on this shared machine hurts every side alike, and keeps the median of each
metric. Results go to a rich table and to `<out>/<area>.json` in the format of BENCHMARKS.md,
plus a `targets` list: the goals of the issue, judged on this run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCHMARKS_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCHMARKS_DIR / "results"
#: Scratch space on the project's own disk, so fsync costs what it costs for the real data.
SCRATCH_DIR = BENCHMARKS_DIR / ".tmp"
#: Where a `--quick` smoke run writes unless told otherwise: never over the real results.
QUICK_RESULTS_DIR = SCRATCH_DIR / "quick-results"

OURS = "ours"

# Column order of the documented metrics; anything else follows in the order it appears.
METRIC_ORDER = (
    "events_per_s",
    "commands_per_s",
    "requests_per_s",
    "books_per_s",
    "p50_ms",
    "p99_ms",
    "overhead_us",
    "peak_rss_mb",
)


@dataclass(frozen=True, slots=True)
class Options:
    """Command-line options every benchmark accepts."""

    quick: bool
    out: Path


def parse_options(description: str, argv: Sequence[str] | None = None) -> Options:
    """Parse `--quick` and `--out DIR`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="small scale, for a smoke run (well under a minute)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        default=None,
        help=f"directory for <area>.json (default {RESULTS_DIR}; with --quick {QUICK_RESULTS_DIR})",
    )
    args = parser.parse_args(argv)
    out = args.out or (QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
    return Options(quick=args.quick, out=out)


def make_console() -> Console:
    """A console for the table: the terminal's width, or wide enough when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=150)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One side's figures in one case, keyed by the metric names of BENCHMARKS.md."""

    metrics: Mapping[str, float]

    def __getitem__(self, metric: str) -> float:
        return self.metrics[metric]

    def get(self, metric: str) -> float | None:
        """The metric, or None when this side does not report it."""
        return self.metrics.get(metric)


def throughput(
    count: int, seconds: float, latencies_s: Sequence[float] = (), *, rate: str = "events_per_s"
) -> Measurement:
    """`count / seconds` under the name `rate`, plus p50/p99 of the latencies when given."""
    metrics = {rate: count / seconds}
    if latencies_s:
        metrics.update(percentiles_ms(latencies_s))
    return Measurement(metrics)


def percentiles_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """`p50_ms` and `p99_ms` of durations given in seconds."""
    if len(latencies_s) < 2:
        only = latencies_s[0] * 1000.0
        return {"p50_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(latencies_s, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000.0, "p99_ms": cuts[98] * 1000.0}


def median_measurement(samples: Sequence[Measurement]) -> Measurement:
    """The median of each metric over the repetitions."""
    names = list(samples[0].metrics)
    return Measurement({name: statistics.median(s[name] for s in samples) for name in names})


def side_by_side(
    runs: Mapping[str, Callable[[], Measurement]], *, warmups: int, repetitions: int
) -> dict[str, Measurement]:
    """Warm up, then run every side once per round for `repetitions` rounds; keep medians."""
    for _ in range(warmups):
        for run in runs.values():
            run()
    samples: dict[str, list[Measurement]] = {side: [] for side in runs}
    for _ in range(repetitions):
        for side, run in runs.items():
            samples[side].append(run())
    return {side: median_measurement(found) for side, found in samples.items()}


@dataclass(slots=True)
class CaseResult:
    """One case: `ours` and the references measured beside it in the same run.

    `ratio_metric` is the metric the table's `ours/ref` column divides.
    """

    name: str
    sides: dict[str, Measurement]
    ratio_metric: str = "events_per_s"
    notes: list[str] = field(default_factory=list)

    def ratio(self, ref: str) -> float | None:
        """`ours / ref` on the ratio metric, None when either side lacks it."""
        mine = self.sides[OURS].get(self.ratio_metric) if OURS in self.sides else None
        theirs = self.sides[ref].get(self.ratio_metric)
        if mine is None or not theirs:
            return None
        return mine / theirs


@dataclass(frozen=True, slots=True)
class Target:
    """A goal of the issue, judged on this run's figures and printed on one row of the table."""

    case: str
    side: str
    goal: str
    value: float
    unit: str
    passed: bool

    def shown(self) -> str:
        """The measured value as the table prints it."""
        return f"{self.value:.2f}x" if self.unit == "x" else _format(self.unit, self.value)


def ratio_target(
    case: CaseResult,
    ref: str,
    minimum: float,
    *,
    ref_case: CaseResult | None = None,
    label: str | None = None,
) -> Target:
    """`ours >= minimum x ref` on the case's ratio metric; `ref_case` takes ref from another case.

    The verdict is printed on the reference's row, or on `ours` when the reference is elsewhere.
    """
    mine = case.sides[OURS][case.ratio_metric]
    theirs = (ref_case or case).sides[ref][case.ratio_metric]
    value = mine / theirs
    return Target(
        case=case.name,
        side=OURS if ref_case is not None else ref,
        goal=f">= {minimum:g}x {label or ref}",
        value=value,
        unit="x",
        passed=value >= minimum,
    )


def bound_target(
    case: CaseResult,
    metric: str,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
) -> Target:
    """`ours`'s `metric` is at least / at most a fixed figure."""
    value = case.sides[OURS][metric]
    if at_least is not None:
        goal, passed = f"{metric} >= {_format(metric, at_least)}", value >= at_least
    elif at_most is not None:
        goal, passed = f"{metric} <= {_format(metric, at_most)}", value <= at_most
    else:
        raise ValueError("a bound target needs at_least or at_most")
    return Target(case.name, OURS, goal, value, metric, passed)


def measure_fsync_ms(directory: Path, samples: int = 200) -> tuple[float, float]:
    """p50 and p99 in ms of appending one 4 KiB page to a file in `directory` and fsyncing it."""
    path = directory / "fsync-probe"
    page = os.urandom(4096)
    durations: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(samples):
            os.write(fd, page)
            started = time.perf_counter()
            os.fsync(fd)
            durations.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    cuts = percentiles_ms(durations)
    return cuts["p50_ms"], cuts["p99_ms"]


def measure_python_loop_ms(rounds: int = 5) -> float:
    """The best of `rounds` timings, in ms, of a fixed pure-Python loop (adding up a million
    ints): how fast this shared machine runs the interpreter today. Figures bound by CPU follow
    it from one day to the next, as the ones bound by the disk follow the fsync latency."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000


def machine_info(data_dir: Path, **extra: Any) -> dict[str, Any]:
    """CPU count, Python, the data directory's fsync latency, the interpreter's speed today,
    and what the area adds."""
    p50, p99 = measure_fsync_ms(data_dir)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "fsync_p50_ms": round(p50, 3),
        "fsync_p99_ms": round(p99, 3),
        "python_loop_ms": round(measure_python_loop_ms(), 1),
        **extra,
    }


@contextmanager
def scratch_directory(area: str) -> Iterator[Path]:
    """A fresh directory under benchmarks/.tmp (the project's disk), deleted afterwards."""
    SCRATCH_DIR.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{area}-", dir=SCRATCH_DIR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with suppress(OSError):  # only when nothing else (a quick run's results) lives there
            SCRATCH_DIR.rmdir()


@dataclass(frozen=True, slots=True)
class Results:
    """What a run found: the machine, the scale, each case and the targets judged on them
    (`settings`: how the figures were taken, when the area has more to say than its scale)."""

    machine: Mapping[str, Any]
    scale: Mapping[str, Any]
    cases: Sequence[CaseResult]
    targets: Sequence[Target]
    settings: Mapping[str, Any] | None = None


def print_results(title: str, results: Results, console: Console | None = None) -> None:
    """One table: a row per side of each case, `ours/ref` on reference rows, goals beside."""
    console = console or make_console()
    cases, targets = results.cases, results.targets
    metrics = _metric_columns(cases)
    table = Table(title=title, title_justify="left")
    table.add_column("case")
    table.add_column("side")
    for metric in metrics:
        table.add_column(metric, justify="right")
    table.add_column("ours/ref", justify="right")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("result")
    for case in cases:
        for index, (side, measurement) in enumerate(case.sides.items()):
            judged = [t for t in targets if t.case == case.name and t.side == side]
            ratio = case.ratio(side) if side != OURS else None
            table.add_row(
                case.name if index == 0 else "",
                side,
                *(_format(m, measurement.get(m)) for m in metrics),
                "" if ratio is None else f"{ratio:.2f}x",
                "\n".join(t.goal for t in judged),
                "\n".join(t.shown() for t in judged),
                "\n".join("[green]PASS[/]" if t.passed else "[red]MISS[/]" for t in judged),
                end_section=index == len(case.sides) - 1,
            )
    console.print(table)
    console.print(
        "machine: " + ", ".join(f"{k}={v}" for k, v in results.machine.items()),
        "scale: " + ", ".join(f"{k}={v}" for k, v in results.scale.items()),
        sep="\n",
    )
    for case in cases:
        for note in case.notes:
            console.print(f"[dim]{case.name}: {note}[/]")


def write_results(out_dir: Path, area: str, results: Results) -> Path:
    """Write `<out_dir>/<area>.json` (with `settings` after `scale` when given); its path."""
    cases, settings = results.cases, results.settings
    document: dict[str, Any] = {
        "machine": dict(results.machine),
        "scale": dict(results.scale),
        **({} if settings is None else {"settings": dict(settings)}),
        "cases": {
            case.name: {
                side: {name: _rounded(name, value) for name, value in m.metrics.items()}
                for side, m in case.sides.items()
            }
            for case in cases
        },
        "targets": [
            {
                "case": t.case,
                "side": t.side,
                "goal": t.goal,
                "value": round(t.value, 3),
                "pass": t.passed,
            }
            for t in results.targets
        ],
        "notes": {case.name: case.notes for case in cases if case.notes},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{area}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a benchmark script: its area, options, console, and when it began (a
    `time.perf_counter()` reading)."""

    area: str
    options: Options
    console: Console
    began: float

    def step(self, label: str, case: Callable[[], CaseResult]) -> CaseResult:
        """Run one case under a status line, and log when it is done."""
        with self.console.status(f"{label}…"):
            result = case()
        self.console.log(f"{result.name} done")
        return result

    def report(
        self,
        title: str,
        repetitions: int,
        machine: Mapping[str, Any],
        scale: Mapping[str, Any],
        cases: Sequence[CaseResult],
        targets: Sequence[Target],
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Path:
        """The end of the run: print the table (`title`, the scale and the repetitions in its
        heading), write `<area>.json` under the options' `out`, and say where and how long."""
        size = "quick" if self.options.quick else "full"
        results = Results(machine, scale, cases, targets, settings)
        print_results(f"{title} ({size} scale; medians of {repetitions})", results, self.console)
        path = write_results(self.options.out, self.area, results)
        self.console.print(f"wrote {path} in {time.perf_counter() - self.began:.0f} s")
        return path


def start_run(area: str, description: str, argv: Sequence[str] | None = None) -> Run:
    """A run of the benchmark of `area`: its options parsed (`description` for `--help`)."""
    return Run(area, parse_options(description, argv), make_console(), time.perf_counter())


def _metric_columns(cases: Sequence[CaseResult]) -> list[str]:
    found: list[str] = []
    for case in cases:
        for measurement in case.sides.values():
            found.extend(m for m in measurement.metrics if m not in found)
    known = [m for m in METRIC_ORDER if m in found]
    return known + [m for m in found if m not in known]


def _format(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    if metric.endswith("_per_s"):
        return f"{value:,.0f}"
    if metric.endswith("_ms"):
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,.1f}"


def _rounded(metric: str, value: float) -> float | int:
    if metric.endswith("_per_s"):
        return round(value)
    return round(value, 3)
