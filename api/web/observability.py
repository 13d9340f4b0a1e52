"""Correlation ids, JSON logs and request metrics, as one plain ASGI middleware.

Each request gets a correlation id (the caller's `X-Correlation-ID`, else a new one), sent back
in the answer and carried by every log line written while it is handled. One JSON access line
per request goes to the `bookworm.api.access` logger; Prometheus counts requests and their
durations by method, route template and status, served at `/metrics`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from write_side.ids import new_id

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

access_log = logging.getLogger("bookworm.api.access")

_CORRELATION = re.compile(r"^[\w.:-]{1,100}$")


class RequestMetrics:
    """The API's request counter and duration histogram, in the app's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "bookworm_api_requests", "HTTP requests answered", labels, registry=self.registry
        )
        self.duration = Histogram(
            "bookworm_api_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        # The labelled children, found once: `labels()` takes a lock and builds a key each time.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, elapsed_s: float) -> None:
        """Count one answered request and its duration."""
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self.requests.labels(method, route, str(status))
            self._counters[(method, route, status)] = counter
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self.duration.labels(method, route)
            self._histograms[(method, route)] = histogram
        histogram.observe(elapsed_s)


class ObservabilityMiddleware:
    """Correlation id, access log line and metrics for every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics, templates: Mapping[int, str]) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        """Full path template of each route object (by id), prefixes included."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-correlation-id")
        # A UUIDv7 (no system call, unlike uuid4's os.urandom, so the loop keeps the GIL).
        correlation = given if given and _CORRELATION.match(given) else new_id().hex
        token = correlation_id.set(correlation)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", correlation.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self._template(scope)
            method = scope["method"]
            self.metrics.observe(method, route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                # makeRecord + handle: `info()` would walk the stack to find its caller.
                record = access_log.makeRecord(
                    access_log.name,
                    logging.INFO,
                    __file__,
                    0,
                    "%s %s %s",
                    (method, scope["path"], status),
                    None,
                    extra={"route": route, "status": status, "duration_ms": elapsed * 1000},
                )
                access_log.handle(record)
            correlation_id.reset(token)

    def _template(self, scope: Scope) -> str:
        answered_early = scope.get("bookworm.route")  # see api/web/hot_path.py
        if isinstance(answered_early, str):
            return answered_early
        route = scope.get("route")
        if route is None:
            return "unmatched"
        found = self.templates.get(id(route)) or getattr(route, "path", None)
        return found if isinstance(found, str) else "unmatched"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id and extras."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_json_logs(level: int = logging.INFO) -> None:
    """Send every log line to stderr as JSON (`bookworm serve` calls this once)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
