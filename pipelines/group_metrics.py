"""Prometheus metrics of the subscription groups, read from the groups' info when scraped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from write_side.groups import GroupInfo

PREFIX = "bookworm_group"
LABELS = ["group", "source"]

#: gauge name -> (help, how to read it from a group's info)
_GAUGES: dict[str, tuple[str, Callable[[GroupInfo], int | None]]] = {
    "last_read_position": (
        "Last event the group took in (commit position; revision for a stream group)",
        lambda i: i.last_read_position,
    ),
    "checkpoint": (
        "Last checkpoint: every event up to it is handled",
        lambda i: i.last_checkpointed_position,
    ),
    "head": ("Newest event of the group's source", lambda i: i.last_known_position),
    "in_flight_events": ("Events with a consumer, not yet acknowledged", lambda i: i.in_flight),
    "waiting_events": ("Events back in the group for a retry or a replay", lambda i: i.waiting),
    "parked_events": ("Events in the group's parked stream", lambda i: i.parked),
    "consumers": ("Connected consumers", lambda i: len(i.consumers)),
    "highest_retry_count": (
        "Highest retry count among the events in flight or waiting",
        lambda i: i.highest_retry_count,
    ),
}

#: counter name -> (help, how to read it)
_COUNTERS: dict[str, tuple[str, Callable[[GroupInfo], int]]] = {
    "delivered_events": ("Events handed to consumers", lambda i: i.delivered_total),
    "acked_events": ("Events acknowledged", lambda i: i.acked_total),
    "retried_events": ("Deliveries after a nack, a timeout or a stop", lambda i: i.retried_total),
    "skipped_events": ("Events nacked with skip", lambda i: i.skipped_total),
    "parked_events_all_time": ("Events ever parked", lambda i: i.parked_total),
}


class GroupCollector(Collector):
    """Reads every group's info at scrape time (one read transaction per group)."""

    def __init__(self, infos: Callable[[], Iterable[GroupInfo]]) -> None:
        self._infos = infos

    def collect(self) -> Iterator[Metric]:
        gauges = {
            name: GaugeMetricFamily(f"{PREFIX}_{name}", text, labels=LABELS)
            for name, (text, _) in _GAUGES.items()
        }
        counters = {
            name: CounterMetricFamily(f"{PREFIX}_{name}", text, labels=LABELS)
            for name, (text, _) in _COUNTERS.items()
        }
        for info in self._infos():
            labels = [info.group_name, info.event_source]
            for name, (_, read) in _GAUGES.items():
                value = read(info)
                if value is not None:
                    gauges[name].add_metric(labels, float(value))
            for name, (_, count) in _COUNTERS.items():
                counters[name].add_metric(labels, float(count(info)))
        yield from gauges.values()
        yield from counters.values()
