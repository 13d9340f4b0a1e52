"""Prometheus metrics of runners, as a scrape sees them."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from pipelines.metrics import RunnerCollector
from pipelines.status import ProjectionStatus, RunnerState


def test_a_scrape_shows_each_runner_figures_and_state() -> None:
    """Given one live runner, the scrape carries its checkpoint, lag, rate and state."""
    status = ProjectionStatus(
        projection="event_counts",
        build=2,
        state=RunnerState.LIVE,
        checkpoint=120,
        head=125,
        lag_events=5,
        lag_seconds=0.25,
        events_per_s=42.0,
        handled=118,
        parked=1,
        last_error=None,
        updated_at=datetime.now(UTC),
    )
    registry = CollectorRegistry()
    registry.register(RunnerCollector(lambda: [status]))

    scraped = generate_latest(registry).decode()

    assert 'bookworm_projection_checkpoint{projection="event_counts"} 120.0' in scraped
    assert 'bookworm_projection_lag_events{projection="event_counts"} 5.0' in scraped
    assert 'bookworm_projection_lag_seconds{projection="event_counts"} 0.25' in scraped
    assert 'bookworm_projection_events_per_second{projection="event_counts"} 42.0' in scraped
    assert 'bookworm_projection_parked_events{projection="event_counts"} 1.0' in scraped
    assert 'bookworm_projection_state{projection="event_counts",state="live"} 1.0' in scraped
    assert 'bookworm_projection_state{projection="event_counts",state="failed"} 0.0' in scraped
