"""The API as `create_app` builds it, with a worker running beside it (every projection, the
process managers, the timers), on the embedded stack and on PostgreSQL + Redis.

One stack per test module (starting one takes a moment); each test makes its own ids, so tests
never see each other's data. Given state is made through the write side's command bus (what
every test relies on), the behaviour under test through HTTP.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import bootstrap
from api.settings import Settings
from api.web.app import create_app
from api.web.platform import Platform
from pipelines.runner import RunnerSettings
from pipelines.timers import timer_service
from pipelines.worker import Assignment, Worker
from read_side.targets.sql import SqlTarget
from tests.databases import POSTGRES_URL
from write_side.catalog import CreateAuthor, CreateBook, CreateCategory, CreatePublisher
from write_side.domain import Command, CommandResult
from write_side.ids import new_id
from write_side.ordering import Address, CreateBuyer

REDIS_URL = "redis://127.0.0.1:6379/0"
JWT_SECRET = "a-secret-for-tests-only-0123456789abcdef"


@dataclass
class Shelf:
    """A category, a publisher and an author that books of a test refer to."""

    category_id: uuid.UUID
    publisher_id: uuid.UUID
    author_id: uuid.UUID


@dataclass
class ApiStack:
    """The app under test, its adapters, and a worker keeping the query models up to date."""

    kind: str
    client: TestClient
    settings: Settings
    platform: Platform

    # -- callers ----------------------------------------------------------------------------

    def token(self, subject: str, *roles: str) -> str:
        """A valid bearer token."""
        return self.platform.auth.mint(subject, roles)

    def auth(self, subject: str, *roles: str) -> dict[str, str]:
        """The `Authorization` header of a caller."""
        return {"Authorization": f"Bearer {self.token(subject, *roles)}"}

    def admin(self) -> dict[str, str]:
        """An admin's headers."""
        return self.auth("admin-1", "admin")

    def reporter(self) -> dict[str, str]:
        """A reporter's headers."""
        return self.auth("reporter-1", "reporter")

    def user(self, user_id: uuid.UUID | None = None) -> tuple[uuid.UUID, dict[str, str]]:
        """A new user (or the given one): its id and headers."""
        user_id = user_id or new_id()
        return user_id, self.auth(str(user_id), "user")

    # -- given state, through the write side --------------------------------------------------

    def send(self, command: Command) -> CommandResult:
        """Send a command straight to the write side."""
        return self.platform.bus.dispatch(command)

    def shelf(self) -> Shelf:
        """A new category, publisher and author (with unique names)."""
        tag = uuid.uuid4().hex[:8]
        return Shelf(
            category_id=self.send(CreateCategory(name=f"Category {tag}")).aggregate_id,
            publisher_id=self.send(CreatePublisher(name=f"Publisher {tag}")).aggregate_id,
            author_id=self.send(CreateAuthor(name=f"Author {tag}")).aggregate_id,
        )

    def book(self, shelf: Shelf | None = None, **fields: Any) -> CommandResult:
        """A new book on `shelf` (a new shelf when none)."""
        shelf = shelf or self.shelf()
        values: dict[str, Any] = {
            "name": f"Book {uuid.uuid4().hex[:8]}",
            "price": Decimal("10.00"),
            "category_id": shelf.category_id,
            "publisher_id": shelf.publisher_id,
            "author_ids": (shelf.author_id,),
        }
        values.update(fields)
        return self.send(CreateBook(**values))

    def buyer(self, user_id: uuid.UUID | None = None) -> tuple[uuid.UUID, dict[str, str]]:
        """A user who is a buyer: its id and headers."""
        user_id, headers = self.user(user_id)
        address = Address(street="1 Harbour Road", city="Porthaven", province="Cornwall")
        self.send(
            CreateBuyer(
                buyer_id=user_id, name="Ada Reader", email="ada@example.com", address=address
            )
        )
        return user_id, headers

    def fresh(self, result: CommandResult | int | None) -> dict[str, str]:
        """`X-Min-Position` for a command's events (read-your-writes)."""
        position = result if isinstance(result, int) or result is None else result.position
        return {"X-Min-Position": str(position or 0)}


def _worker(settings: Settings, stack: ExitStack, target: SqlTarget) -> None:
    store = stack.enter_context(bootstrap.event_store(settings))
    keys = bootstrap.key_store(settings)
    stack.callback(keys.close)
    cache = bootstrap.cache(settings)
    stack.callback(cache.close)
    groups = stack.enter_context(bootstrap.subscription_groups(store))
    bus = bootstrap.bus_on(store, keys, settings)
    projections = bootstrap.projections(keys=keys, cache=cache)
    timers = timer_service(bus, target, poll_s=0.05)
    worker = Worker(
        store,
        [Assignment(p, target) for p in projections if p.target_kind == "sql"],
        settings=RunnerSettings(idle_s=0.05),
        groups=groups,
        services=[*bootstrap.process_runners(bus, groups), timers],
    )
    thread = threading.Thread(target=worker.run, name="api-test-worker", daemon=True)
    thread.start()
    # The timer service schedules the recurring jobs when it starts (events of its own): wait
    # for that, so a test that reads the store's head before and after a request sees only
    # what the request wrote.
    deadline = time.monotonic() + 30
    while not timers.stats.started:
        assert time.monotonic() < deadline, "the test worker's timer service did not start"
        time.sleep(0.01)

    def stop() -> None:
        worker.stop.set()
        thread.join(timeout=60)

    stack.callback(stop)


def _settings(kind: str, data_dir: Path, schema: str) -> tuple[Settings, SqlTarget]:
    common: dict[str, Any] = {
        "data_dir": data_dir,
        "jwt_secret": SecretStr(JWT_SECRET),
        "rate_limits": False,
        "read_wait_s": 10.0,
    }
    if kind == "embedded":
        settings = Settings(**common)
        return settings, SqlTarget(settings.query_db_url)
    settings = Settings(
        **common,
        query_db_url=f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
        redis_url=REDIS_URL,
        redis_namespace=f"test-{schema}",  # this stack's keys apart from every other run's
    )
    return settings, SqlTarget(POSTGRES_URL, schema=schema)


@contextmanager
def open_stack(kind: str, data_dir: Path) -> Iterator[ApiStack]:
    """The app on the stack `kind` ("embedded" or "postgres_redis"), with a worker beside it."""
    schema = f"api_{uuid.uuid4().hex[:12]}"
    settings, target = _settings(kind, data_dir, schema)
    with ExitStack() as stack:
        stack.callback(target.close)
        if kind != "embedded":
            stack.callback(target.drop_schema)
        _worker(settings, stack, target)
        app = create_app(settings)
        client = stack.enter_context(TestClient(app))
        yield ApiStack(kind, client, settings, app.state.platform)


@pytest.fixture(
    scope="module",
    params=[
        "embedded",
        pytest.param("postgres_redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ],
)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiStack]:
    """The app on the embedded stack, and again on PostgreSQL + Redis."""
    with open_stack(request.param, tmp_path_factory.mktemp(f"api-{request.param}")) as stack:
        yield stack


@pytest.fixture(scope="module")
def embedded_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    """The app on the embedded stack only (for tests whose subject is not the stack)."""
    with open_stack("embedded", tmp_path_factory.mktemp("api-embedded")) as stack:
        yield stack
