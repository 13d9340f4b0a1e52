"""Test-wide rules: service markers skip on a laptop without the service, and fail in CI."""

from __future__ import annotations

import os
import socket

import pytest

# marker -> (what it needs, host, port)
SERVICES = {
    "postgres": ("PostgreSQL", "127.0.0.1", 5432),
    "redis": ("Redis", "127.0.0.1", 6379),
    "rabbitmq": ("RabbitMQ", "127.0.0.1", 5672),
}
# marker -> environment variable naming an external server that cannot run on this machine
EXTERNAL = {
    "esdb": "BOOKWORM_TEST_ESDB_URI",
    "qdrant": "BOOKWORM_TEST_QDRANT_URL",
}


def in_ci() -> bool:
    """True in CI, where a missing service is a failure rather than a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, (what, host, port) in SERVICES.items():
        if item.get_closest_marker(marker) and not _reachable(host, port):
            reason = f"{what} is not reachable at {host}:{port}"
            if in_ci():
                pytest.fail(f"{reason} (CI=true: a service test may not skip)", pytrace=False)
            pytest.skip(reason)
    for marker, variable in EXTERNAL.items():
        if item.get_closest_marker(marker) and not os.environ.get(variable):
            pytest.skip(f"{variable} is not set (no such server can run on this machine)")
