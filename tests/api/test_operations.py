"""Operations: `/health`, `/ready`, `/metrics`, and the admin routes `/projections`, `/groups`."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.settings import Settings
from api.web.app import create_app
from tests.api.conftest import JWT_SECRET, ApiStack
from tests.api.waiting import eventually
from write_side.catalog import CreateCategory

WAIT_S = 60.0


def _sql_projections(api: ApiStack) -> list[str]:
    return sorted(p.name for p in api.platform.projections.values() if p.target_kind == "sql")


# -- liveness and readiness -----------------------------------------------------------------


def test_health_answers_ok(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.get("/health")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"status": "ok"}


def test_ready_once_the_worker_has_applied_the_events(api: ApiStack) -> None:
    api.book()

    answer = eventually(
        lambda: (found := api.client.get("/ready")).status_code == 200 and found,
        "ready",
        timeout_s=WAIT_S,
    )

    body = answer.json()
    assert body["ready"] is True
    assert all(check["ok"] for check in body["checks"])
    assert [c["check"] for c in body["checks"][:2]] == ["event_store", "query_db"]
    lags = [c for c in body["checks"] if c["check"] == "projection_lag"]
    assert sorted(c["projection"] for c in lags) == _sql_projections(api)


@contextmanager
def _app_without_worker(data_dir: Path, **settings: Any) -> Iterator[TestClient]:
    app = create_app(
        Settings(data_dir=data_dir, jwt_secret=SecretStr(JWT_SECRET), **settings),
    )
    with TestClient(app) as client:
        yield client


def test_not_ready_while_a_projection_lags_past_the_limit(tmp_path: Path) -> None:
    """Events no worker applies: ready under a generous limit, not under one they exceed."""
    with _app_without_worker(tmp_path, ready_max_lag_s=3600) as patient:
        platform = patient.app.state.platform  # type: ignore[attr-defined]
        platform.bus.dispatch(CreateCategory(name=f"Category {uuid.uuid4().hex[:8]}"))
        assert patient.get("/ready").status_code == 200
        events = list(platform.store.read_all())
    first_handled = {
        name: next((e.position for e in events if p.handles.matches(e.stream, e.type)), None)
        for name, p in platform.projections.items()
        if p.target_kind == "sql"
    }
    handling = sorted(name for name, position in first_handled.items() if position is not None)
    assert "categories" in handling

    time.sleep(0.3)
    with _app_without_worker(tmp_path, ready_max_lag_s=0.2) as strict:
        answer = strict.get("/ready")

    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["ready"] is False
    failed = [c for c in body["checks"] if not c["ok"]]
    assert sorted(c["projection"] for c in failed) == handling
    for check in failed:
        assert check["check"] == "projection_lag"
        assert check["lag_seconds"] >= 0.3
        assert "not built yet" in check["detail"]
        assert check["detail"].endswith(f"next at {first_handled[check['projection']]}")


def test_not_ready_when_the_query_database_does_not_answer(tmp_path: Path) -> None:
    unreachable = f"sqlite:///{tmp_path / 'no-such-dir' / 'query.db'}"
    with _app_without_worker(tmp_path, query_db_url=unreachable) as client:
        answer = client.get("/ready")

    assert answer.status_code == 503
    checks = {c["check"]: c for c in answer.json()["checks"]}
    assert set(checks) == {"event_store", "query_db"}  # no lag without the checkpoints
    assert checks["event_store"]["ok"] is True
    assert checks["query_db"]["ok"] is False
    assert checks["query_db"]["detail"].startswith("does not answer: ")


def test_not_ready_when_the_event_store_does_not_answer(tmp_path: Path) -> None:
    with _app_without_worker(tmp_path) as client:
        client.app.state.platform.store.close()  # type: ignore[attr-defined]
        answer = client.get("/ready")

    assert answer.status_code == 503
    checks = {c["check"]: c for c in answer.json()["checks"]}
    assert set(checks) == {"event_store", "query_db"}
    assert checks["event_store"]["ok"] is False
    assert checks["query_db"]["ok"] is True


# -- metrics ------------------------------------------------------------------------------


def _health_count(client: TestClient) -> float:
    text = client.get("/metrics").text
    found = re.search(
        r'^bookworm_api_requests_total\{method="GET",route="/health",status="200"\} (\S+)$',
        text,
        re.MULTILINE,
    )
    return 0.0 if found is None else float(found.group(1))


def test_metrics_count_each_request(embedded_api: ApiStack) -> None:
    client = embedded_api.client
    before = _health_count(client)
    client.get("/health")
    client.get("/health")

    assert _health_count(client) == before + 2
    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    assert "bookworm_api_request_duration_seconds_bucket" in answer.text


# -- projections and groups (admin) ----------------------------------------------------------


def test_projections_show_each_sql_projections_status(api: ApiStack) -> None:
    created = api.book()
    assert created.position is not None

    def caught_up() -> dict[str, Any] | None:
        answer = api.client.get("/api/v1/projections", headers=api.admin())
        assert answer.status_code == 200, answer.text
        items = {item["projection"]: item for item in answer.json()["items"]}
        catalog = items["book_catalog"]
        done = catalog["state"] == "live" and catalog["checkpoint"] >= created.position
        return items if done else None

    items = eventually(caught_up, "book_catalog live past the new book", timeout_s=WAIT_S)

    assert sorted(items) == _sql_projections(api)
    catalog = items["book_catalog"]
    assert catalog["build"] >= 1
    assert catalog["head"] >= created.position
    assert catalog["lag_events"] == 0
    assert catalog["lag_seconds"] == 0.0
    assert catalog["parked"] == 0
    assert catalog["last_error"] is None


def test_groups_list_the_persistent_subscription_groups(embedded_api: ApiStack) -> None:
    api = embedded_api
    expected = eventually(
        api.platform.groups.list_subscriptions, "the worker's groups", timeout_s=WAIT_S
    )

    answer = api.client.get("/api/v1/groups", headers=api.admin())

    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["group_name"] for i in items] == [g.group_name for g in expected]
    first, info = items[0], expected[0]
    assert first["event_source"] == info.event_source
    assert first["parked_stream"] == info.parked_stream
    assert first["settings"]["max_retry_count"] == info.settings.max_retry_count
    assert first["settings"]["message_timeout"] == info.settings.message_timeout
    if info.filter is not None:
        assert first["filter"]["regex"] == info.filter.regex


@pytest.mark.parametrize("route", ["/api/v1/projections", "/api/v1/groups"])
def test_operator_routes_are_for_admins(embedded_api: ApiStack, route: str) -> None:
    api = embedded_api
    _, user = api.user()

    anonymous = api.client.get(route)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert api.client.get(route, headers=user).status_code == 403
    assert api.client.get(route, headers=api.reporter()).status_code == 403
