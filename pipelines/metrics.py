"""Prometheus metrics of the runners in this process, computed when scraped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipelines.status import ProjectionStatus, RunnerState

PREFIX = "bookworm_projection"


class RunnerCollector(Collector):
    """Reads each runner's status at scrape time: nothing runs between scrapes."""

    def __init__(self, statuses: Callable[[], Iterable[ProjectionStatus]]) -> None:
        self._statuses = statuses

    def collect(self) -> Iterator[Metric]:
        labels = ["projection"]
        gauges = {
            "checkpoint": GaugeMetricFamily(
                f"{PREFIX}_checkpoint", "Last position fully handled", labels=labels
            ),
            "head": GaugeMetricFamily(
                f"{PREFIX}_head", "Position of the last event the projection handles", labels=labels
            ),
            "lag_events": GaugeMetricFamily(
                f"{PREFIX}_lag_events", "Events after the checkpoint", labels=labels
            ),
            "lag_seconds": GaugeMetricFamily(
                f"{PREFIX}_lag_seconds",
                "Now minus recorded-at of the last handled event",
                labels=labels,
            ),
            "events_per_s": GaugeMetricFamily(
                f"{PREFIX}_events_per_second",
                "Events handled per second, last minute",
                labels=labels,
            ),
            "parked": GaugeMetricFamily(
                f"{PREFIX}_parked_events", "Events parked as dead letters", labels=labels
            ),
        }
        state = GaugeMetricFamily(
            f"{PREFIX}_state", "1 for the runner's current state", labels=["projection", "state"]
        )
        for status in self._statuses():
            for field, gauge in gauges.items():
                value = getattr(status, field)
                if value is not None:
                    gauge.add_metric([status.projection], float(value))
            for candidate in RunnerState:
                state.add_metric(
                    [status.projection, candidate.value], 1.0 if candidate is status.state else 0.0
                )
        yield from gauges.values()
        yield state


def serve_metrics(
    port: int,
    statuses: Callable[[], Iterable[ProjectionStatus]],
    *,
    extra: Iterable[Collector] = (),
) -> None:
    """Serve `/metrics` on `port` (127.0.0.1) from a daemon thread; `extra` adds collectors
    (the subscription groups' figures, for one)."""
    registry = CollectorRegistry()
    registry.register(RunnerCollector(statuses))
    for collector in extra:
        registry.register(collector)
    start_http_server(port, addr="127.0.0.1", registry=registry)
