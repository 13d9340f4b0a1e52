"""The composition root wires what `bookworm worker` runs: every process manager (the email
sender with the configured transport), the timer service and the integration recorder."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from api import bootstrap
from api.settings import load_settings
from pipelines.worker import Service
from write_side.bootstrap import process_managers


def test_the_worker_gets_every_process_manager_and_service(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var")
    with (
        bootstrap.event_store(settings) as store,
        closing(bootstrap.key_store(settings)) as keys,
        bootstrap.subscription_groups(store) as groups,
        bootstrap.targets(settings, {"sql"}) as targets,
    ):
        bus = bootstrap.bus_on(store, keys, settings)
        managers = {manager.name for manager in process_managers(bus)}
        services: list[Service] = [
            *bootstrap.process_runners(bus, groups),
            *bootstrap.timer_services(bus, targets),
            *bootstrap.integration_services(store, settings, targets),
        ]

    assert managers == {"catalog_rating_update", "order_saga", "recurring_jobs", "email_sender"}
    assert {s.name for s in services} == managers | {"timers", "integration_events"}
