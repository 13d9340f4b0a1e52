"""The lean POST of feedbacks (api/web/lean_route.py) answers as the FastAPI route answers.

Each outcome (created, malformed JSON, an empty or null body, invalid fields, an invalid
token, a second feedback by the same reviewer, the rate limit) is asked of the app twice: as
it runs, and with its lean route taken out, so that the FastAPI route answers. The two
answers must agree in status, headers and problem details. What the lean route does not copy
(idempotency keys, `If-Match`, other content types) never matches it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from starlette.routing import Match

import api.web.lean_route
from api.settings import Settings
from api.web.app import create_app
from api.web.deps import bearer
from api.web.lean_route import PATH, LeanPostFeedback
from read_side.cache import RATE_LIMITS
from tests.api.conftest import JWT_SECRET, ApiStack

JSON = {"Content-Type": "application/json"}
#: Headers whose values differ between any two answers (the request's own id, the clock, and
#: where a new feedback is); that both answers carry them is still checked.
VOLATILE_HEADERS = {
    "x-correlation-id",
    "date",
    "content-length",
    "etag",
    "x-event-position",
    "location",
}


def app_of(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def lean_route(app: FastAPI) -> LeanPostFeedback:
    (lean,) = [route for route in app.router.routes if isinstance(route, LeanPostFeedback)]
    return lean


@contextmanager
def fastapi_route_only(app: FastAPI) -> Iterator[None]:
    """The app without its lean route: the FastAPI route answers everything."""
    lean = lean_route(app)
    index = app.router.routes.index(lean)
    app.router.routes.remove(lean)
    try:
        yield
    finally:
        app.router.routes.insert(index, lean)


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A record of each request the lean route handled (its first step: reading the body)."""
    calls: list[str] = []
    real = api.web.lean_route._json_body

    async def recorded(request: Request) -> Any:
        calls.append(request.url.path)
        return await real(request)

    monkeypatch.setattr(api.web.lean_route, "_json_body", recorded)
    return calls


def review(**fields: Any) -> dict[str, Any]:
    values = {"first_name": "Ada", "last_name": uuid.uuid4().hex, "comment": "Fine.", "rating": 4}
    return values | fields


def both(
    app: FastAPI, ask: Callable[[], Response], lean_calls: list[str]
) -> tuple[Response, Response]:
    """The app's answer (through the lean route), then the FastAPI route's."""
    before = len(lean_calls)
    lean = ask()
    assert len(lean_calls) == before + 1, "the lean route did not take the request"
    with fastapi_route_only(app):
        by_route = ask()
    assert len(lean_calls) == before + 1
    return lean, by_route


def assert_same_answer(lean: Response, by_route: Response, but: tuple[str, ...] = ()) -> None:
    assert lean.status_code == by_route.status_code
    assert lean.headers.keys() == by_route.headers.keys()
    assert {k: v for k, v in lean.headers.items() if k not in VOLATILE_HEADERS} == {
        k: v for k, v in by_route.headers.items() if k not in VOLATILE_HEADERS
    }
    if lean.headers["content-type"] == "application/problem+json":
        lean_problem, route_problem = lean.json(), by_route.json()
        for key in but:
            assert lean_problem.pop(key)
            assert route_problem.pop(key)
        assert lean_problem == route_problem


def post(client: TestClient, path: str, body: bytes, **headers: str) -> Callable[[], Response]:
    return lambda: client.post(path, content=body, headers=JSON | headers)


# -- the same answers -------------------------------------------------------------------------


def test_a_created_feedback_is_answered_as_the_route_answers(
    api: ApiStack, lean_calls: list[str]
) -> None:
    path = f"/api/v1/books/{api.book().aggregate_id}/feedbacks"
    lean = api.client.post(path, json=review())
    assert len(lean_calls) == 1
    with fastapi_route_only(app_of(api.client)):
        by_route = api.client.post(path, json=review())
    assert lean.status_code == by_route.status_code == 201
    assert_same_answer(lean, by_route)
    for answer in (lean, by_route):
        body = answer.json()
        assert body["events"] == ["FeedbackCreated"]
        assert body["revision"] == 0
        assert answer.headers["etag"] == '"0"'
        assert answer.headers["location"] == f"/api/v1/feedbacks/{body['id']}"
        assert int(answer.headers["x-event-position"]) == body["position"] > 0
    assert lean.json().keys() == by_route.json().keys()
    # Both were written, and read back as any feedback is.
    listed = api.client.get(path, headers=api.fresh(by_route.json()["position"])).json()
    names = {item["last_name"] for item in listed["items"]}
    assert {lean.json()["id"], by_route.json()["id"]} <= {item["id"] for item in listed["items"]}
    assert len(names) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b'{"first_name": "Ada", ', 400, id="malformed-json"),
        pytest.param(b'{"first_name": "\xff\xfe"}', 400, id="not-utf-8"),
        pytest.param(b"[" * 100_000, 400, id="nested-too-deep"),
        pytest.param(b"", 422, id="empty-body"),
        pytest.param(b"null", 422, id="null-body"),
        pytest.param(b"[1, 2]", 422, id="not-an-object"),
        pytest.param(json.dumps(review(rating=9, first_name="")).encode(), 422, id="invalid"),
        pytest.param(json.dumps(review(stars=5)).encode(), 422, id="unknown-field"),
        pytest.param(json.dumps({"rating": 3}).encode(), 422, id="missing-names"),
    ],
)
def test_a_bad_body_is_the_same_problem(
    embedded_api: ApiStack, lean_calls: list[str], body: bytes, status: int
) -> None:
    client = embedded_api.client
    path = f"/api/v1/books/{uuid.uuid4()}/feedbacks"
    lean, by_route = both(app_of(client), post(client, path, body), lean_calls)
    assert lean.status_code == status
    assert_same_answer(lean, by_route)


def test_an_invalid_token_is_the_same_401_and_a_valid_one_rates(
    embedded_api: ApiStack, lean_calls: list[str]
) -> None:
    client = embedded_api.client
    path = f"/api/v1/books/{embedded_api.book().aggregate_id}/feedbacks"
    body = json.dumps(review()).encode()
    lean, by_route = both(
        app_of(client),
        post(client, path, body, Authorization="Bearer not-a-token"),
        lean_calls,
    )
    assert lean.status_code == 401
    assert lean.headers["www-authenticate"].startswith("Bearer")
    assert_same_answer(lean, by_route)
    _, user = embedded_api.user()
    rated = client.post(path, json=review(), headers=user)
    assert rated.status_code == 201
    assert len(lean_calls) == 2


def test_a_second_feedback_by_the_same_reviewer_is_the_same_409(
    embedded_api: ApiStack, lean_calls: list[str]
) -> None:
    client = embedded_api.client
    app = app_of(client)
    path = f"/api/v1/books/{embedded_api.book().aggregate_id}/feedbacks"
    lean_reviewer, route_reviewer = review(), review()
    assert client.post(path, json=lean_reviewer).status_code == 201
    with fastapi_route_only(app):
        assert client.post(path, json=route_reviewer).status_code == 201
    lean = client.post(path, json=lean_reviewer | {"rating": 1})
    with fastapi_route_only(app):
        by_route = client.post(path, json=route_reviewer | {"rating": 1})
    assert len(lean_calls) == 2
    assert lean.status_code == 409
    assert lean.json()["type"] == by_route.json()["type"] == "/problems/feedback_already_given"
    # The detail names the claim, which differs: each side has its own reviewer.
    assert_same_answer(lean, by_route, but=("detail",))


def test_the_lean_route_keeps_the_rating_rate_limit(tmp_path: Path, lean_calls: list[str]) -> None:
    """Both routes take from the same bucket: 30 a minute per client, then 429s alike."""
    settings = Settings(data_dir=tmp_path, jwt_secret=SecretStr(JWT_SECRET), rate_limits=True)
    capacity = RATE_LIMITS["rating"].capacity
    with TestClient(create_app(settings)) as client:
        app = app_of(client)
        path = f"/api/v1/books/{uuid.uuid4()}/feedbacks"
        statuses = [client.post(path, json=review()).status_code for _ in range(capacity - 1)]
        with fastapi_route_only(app):
            statuses.append(client.post(path, json=review()).status_code)
        assert statuses == [201] * capacity  # a missing book is accepted, then rejected
        lean, by_route = both(app, post(client, path, json.dumps(review()).encode()), lean_calls)
    assert lean.status_code == 429
    assert 1 <= int(lean.headers["retry-after"]) <= 60
    assert_same_answer(lean, by_route)


# -- what the lean route leaves to the FastAPI route ----------------------------------------------

PLAIN = {"content-type": "application/json"}


def scope_of(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def test_only_a_plain_json_post_with_a_canonical_book_id_matches(embedded_api: ApiStack) -> None:
    app = app_of(embedded_api.client)
    lean = lean_route(app)
    assert app.router.routes[0] is lean, "the lean route must come before the FastAPI route"
    book_id = str(uuid.uuid4())
    path = f"/api/v1/books/{book_id}/feedbacks"
    match, child = lean.matches(scope_of("POST", path, PLAIN))
    assert match is Match.FULL
    assert child["path_params"] == {"book_id": book_id}
    for headers in (
        PLAIN | {"Idempotency-Key": "k-1"},
        PLAIN | {"X-Request-ID": "k-1"},
        PLAIN | {"If-Match": '"0"'},
        {"content-type": "text/plain"},
        {},
    ):
        assert lean.matches(scope_of("POST", path, headers))[0] is Match.NONE, headers
    for method, other in (
        ("GET", path),
        ("POST", f"/api/v1/books/{book_id}x/feedbacks"),
        ("POST", "/api/v1/books/not-a-uuid/feedbacks"),
        ("POST", f"/api/v1/books/{uuid.UUID(book_id).hex}/feedbacks"),
        ("POST", f"/api/v1/books/{book_id}/feedbacks/extra"),
    ):
        assert lean.matches(scope_of(method, other, PLAIN))[0] is Match.NONE, (method, other)


def test_requests_it_leaves_reach_the_route_with_their_own_rules(
    embedded_api: ApiStack, lean_calls: list[str]
) -> None:
    client = embedded_api.client
    path = f"/api/v1/books/{embedded_api.book().aggregate_id}/feedbacks"
    body = review()
    first = client.post(path, json=body, headers={"Idempotency-Key": "lean-1"})
    again = client.post(path, json=body, headers={"Idempotency-Key": "lean-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    stale = client.post(path, json=review(), headers={"If-Match": "oops"})
    assert stale.status_code == 400
    assert lean_calls == []


def test_the_lean_route_calls_every_dependency_the_fastapi_route_has(
    embedded_api: ApiStack,
) -> None:
    """The lean route copies the FastAPI route's dependencies by hand: one added to the route
    or its router must be added there too (`api/web/lean_route.py`), and this fails until it
    is."""
    (route,) = [
        context
        for context in iter_route_contexts(app_of(embedded_api.client).routes)
        if isinstance(context.original_route, APIRoute)
        and context.path_format == PATH
        and "POST" in (context.methods or ())
    ]

    def tree(dependant: Dependant) -> list[tuple[str, list[Any]]]:
        return [
            ("bearer" if sub.call is bearer else getattr(sub.call, "__qualname__", "?"), tree(sub))
            for sub in dependant.dependencies
        ]

    caller: tuple[str, list[Any]] = ("caller", [("get_platform", []), ("bearer", [])])
    assert tree(route.dependant) == [
        ("rate_limited.<locals>.take", [("get_platform", []), caller]),
        ("command_context", [("get_platform", []), caller]),
        caller,
    ]
    assert [p.name for p in route.dependant.path_params] == ["book_id"]
    assert [p.name for p in route.dependant.body_params] == ["body"]
    assert [p.name for p in route.dependant.query_params] == []
