"""What every route shares: problem details, bearer tokens, idempotency keys, If-Match,
read-your-writes waits, rate limits, correlation ids. Shown on the books routes, which need
the fewest given events."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.settings import Settings
from api.web.app import create_app
from api.web.auth import Authenticator, InvalidToken
from api.web.observability import JsonLogFormatter, correlation_id
from tests.api.conftest import JWT_SECRET, ApiStack
from write_side.eventstore import StreamNotFound


def _revision(api: ApiStack, stream: str) -> int:
    return next(iter(api.platform.store.read_stream(stream, backwards=True, limit=1))).revision


def _events(api: ApiStack, stream: str) -> list[str]:
    try:
        return [event.type for event in api.platform.store.read_stream(stream)]
    except StreamNotFound:
        return []


def _new_book_body(api: ApiStack) -> dict[str, object]:
    shelf = api.shelf()
    return {
        "name": f"Book {uuid.uuid4().hex[:8]}",
        "price": "12.50",
        "category_id": str(shelf.category_id),
        "publisher_id": str(shelf.publisher_id),
        "author_ids": [str(shelf.author_id)],
    }


# -- problem details --------------------------------------------------------------------------


def test_malformed_json_is_a_400_problem(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.post(
        "/api/v1/books",
        content=b'{"name": "unterminated',
        headers={**embedded_api.admin(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 400
    assert problem["title"] == "Bad Request"
    assert "not valid JSON" in problem["detail"]
    assert problem["instance"] == "/api/v1/books"


def test_a_body_beyond_2_mib_is_a_413_problem_and_writes_nothing(embedded_api: ApiStack) -> None:
    head = embedded_api.platform.store.head_position()
    answer = embedded_api.client.post(
        "/api/v1/books",
        content=b"[" + b"1," * (1024 * 1024 + 1) + b"1]",
        headers={**embedded_api.admin(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    chunked = embedded_api.client.post(  # no Content-Length: counted as it arrives
        "/api/v1/books",
        content=iter([b"[" + b"1," * 512 * 1024] * 3),
        headers={**embedded_api.admin(), "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert chunked.json()["detail"] == "the request body may hold at most 2097152 bytes"
    assert embedded_api.platform.store.head_position() == head


def test_an_invalid_body_names_each_field_by_json_pointer(embedded_api: ApiStack) -> None:
    body = {**_new_book_body(embedded_api), "price": "-1", "name": "x" * 51}
    answer = embedded_api.client.post("/api/v1/books", json=body, headers=embedded_api.admin())
    assert answer.status_code == 422
    pointers = {error["pointer"] for error in answer.json()["errors"]}
    assert pointers == {"#/price", "#/name"}


def test_an_invalid_query_parameter_is_named(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.get("/api/v1/books", params={"page_size": 101})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"parameter": "page_size", "detail": "Input should be less than or equal to 100"}
    ]


def test_an_unknown_route_and_method_are_problems(embedded_api: ApiStack) -> None:
    missing = embedded_api.client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = embedded_api.client.patch("/api/v1/books")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_a_broken_rule_is_a_409_with_its_rule_as_type(embedded_api: ApiStack) -> None:
    book = embedded_api.book()
    admin = embedded_api.admin()
    assert embedded_api.client.delete(
        f"/api/v1/books/{book.aggregate_id}", headers=admin
    ).is_success
    again = embedded_api.client.put(
        f"/api/v1/books/{book.aggregate_id}/price", json={"price": "3.00"}, headers=admin
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/book_deleted"


def test_a_missing_reference_in_the_body_is_a_422_pointing_at_it(embedded_api: ApiStack) -> None:
    body = {**_new_book_body(embedded_api), "category_id": str(uuid.uuid4())}
    answer = embedded_api.client.post("/api/v1/books", json=body, headers=embedded_api.admin())
    assert answer.status_code == 422
    assert answer.json()["type"] == "/problems/category_not_found"
    assert answer.json()["errors"][0]["pointer"] == "#/category_id"


def test_a_missing_resource_in_the_path_is_a_404(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.put(
        f"/api/v1/books/{uuid.uuid4()}/price", json={"price": "3.00"}, headers=embedded_api.admin()
    )
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/book_not_found"


# -- bearer tokens ------------------------------------------------------------------------------


def test_a_command_route_without_a_token_is_401_with_a_challenge(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.post("/api/v1/books", json=_new_book_body(embedded_api))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_without_the_role_is_403(embedded_api: ApiStack) -> None:
    _, user = embedded_api.user()
    for headers in (user, embedded_api.reporter()):
        answer = embedded_api.client.post(
            "/api/v1/books", json=_new_book_body(embedded_api), headers=headers
        )
        assert answer.status_code == 403
        assert "admin" in answer.json()["detail"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(
            {"sub": "admin-1", "roles": ["admin"], "exp": 4102444800},
            "another-secret-of-at-least-32-bytes!!",
        ),
        jwt.encode({"sub": "admin-1", "roles": ["admin"], "exp": 946684800}, JWT_SECRET),
        jwt.encode({"sub": "admin-1", "roles": ["admin"]}, JWT_SECRET),
        jwt.encode({"sub": "not-a-uuid", "roles": ["user"], "exp": 4102444800}, JWT_SECRET),
    ],
    ids=["garbage", "wrong-signature", "expired", "no-expiry", "user-without-uuid"],
)
def test_an_invalid_token_is_401_even_on_anonymous_routes(
    embedded_api: ApiStack, token: str
) -> None:
    answer = embedded_api.client.get("/api/v1/books", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("the bearer token is invalid")


def test_tokens_are_verified_with_the_providers_public_key_issuer_and_audience(
    tmp_path: Path,
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = Settings(
        data_dir=tmp_path,
        jwt_public_key=public_pem.decode(),
        jwt_issuer="https://id.example",
        jwt_audience="bookworm",
    )
    auth = Authenticator(settings)
    claims = {"sub": "ops-1", "roles": ["admin", "unknown"], "exp": 4102444800}
    good = {**claims, "iss": "https://id.example", "aud": "bookworm"}
    principal = auth.verify(jwt.encode(good, private, algorithm="RS256"))
    assert principal.subject == "ops-1"
    assert principal.roles == {"admin"}  # unknown roles are ignored
    for bad in ({**good, "iss": "https://other.example"}, {**good, "aud": "other"}, claims):
        with pytest.raises(InvalidToken):
            auth.verify(jwt.encode(bad, private, algorithm="RS256"))
    with pytest.raises(InvalidToken):  # an HS256 token signed with the public key as secret
        auth.verify(jwt.encode(good, "x" * 32, algorithm="HS256"))
    with pytest.raises(ValueError, match="identity provider"):
        auth.mint("ops-1", ["admin"])


def test_embedded_mode_generates_one_secret_and_keeps_it(tmp_path: Path) -> None:
    first = Authenticator(Settings(data_dir=tmp_path))
    token = first.mint(str(uuid.uuid4()), ["user"], ttl=timedelta(minutes=5))
    second = Authenticator(Settings(data_dir=tmp_path))
    assert second.verify(token).roles == {"user"}
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="unknown roles"):
        first.mint("x", ["root"])


# -- idempotency and If-Match -------------------------------------------------------------------


def test_an_idempotent_replay_answers_the_first_answer_and_writes_nothing(api: ApiStack) -> None:
    body = _new_book_body(api)
    headers = {**api.admin(), "Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = api.client.post("/api/v1/books", json=body, headers=headers)
    assert first.status_code == 201
    stream = first.json()["stream"]
    replay = api.client.post("/api/v1/books", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["location"] == first.headers["location"]
    assert _events(api, stream) == ["BookCreated"]


def test_x_request_id_is_the_idempotency_key_when_that_is_absent(api: ApiStack) -> None:
    body = _new_book_body(api)
    headers = {**api.admin(), "X-Request-ID": f"req-{uuid.uuid4()}"}
    first = api.client.post("/api/v1/books", json=body, headers=headers)
    replay = api.client.post("/api/v1/books", json=body, headers=headers)
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers["idempotent-replayed"] == "true"


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(api: ApiStack) -> None:
    body = _new_book_body(api)
    headers = {**api.admin(), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = api.client.post("/api/v1/books", json=body, headers=headers)
    other = api.client.post("/api/v1/books", json={**body, "name": "Other"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency_key_reused"
    assert _events(api, first.json()["stream"]) == ["BookCreated"]


def test_a_replay_after_the_record_was_lost_still_writes_nothing(embedded_api: ApiStack) -> None:
    api = embedded_api
    body = _new_book_body(api)
    key = f"lost-{uuid.uuid4()}"
    headers = {**api.admin(), "Idempotency-Key": key}
    first = api.client.post("/api/v1/books", json=body, headers=headers)
    with sqlite3.connect(api.settings.cache_path) as cache_file:  # the cache lost the record
        cache_file.execute("DELETE FROM idempotency WHERE key = ?", (f"idempotency:admin-1:{key}",))
    replay = api.client.post("/api/v1/books", json=body, headers=headers)
    assert replay.status_code == 201
    assert "idempotent-replayed" not in replay.headers
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["replayed"] is True  # the write side recognised its command id
    assert _events(api, first.json()["stream"]) == ["BookCreated"]


def test_keys_of_different_callers_do_not_meet(embedded_api: ApiStack) -> None:
    api = embedded_api
    key = f"shared-{uuid.uuid4()}"
    one = api.client.post(
        "/api/v1/books",
        json=_new_book_body(api),
        headers={**api.auth("admin-a", "admin"), "Idempotency-Key": key},
    )
    two = api.client.post(
        "/api/v1/books",
        json=_new_book_body(api),
        headers={**api.auth("admin-b", "admin"), "Idempotency-Key": key},
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


@pytest.mark.parametrize("value", ["has space", "", "x" * 201, "tab\there"])
def test_a_malformed_idempotency_key_is_a_400(embedded_api: ApiStack, value: str) -> None:
    answer = embedded_api.client.post(
        "/api/v1/books",
        json=_new_book_body(embedded_api),
        headers={**embedded_api.admin(), "Idempotency-Key": value},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["header"] == "Idempotency-Key"


def test_a_stale_if_match_is_a_412_and_writes_nothing(api: ApiStack) -> None:
    book = api.book()
    stream = f"book-{book.aggregate_id}"
    url = f"/api/v1/books/{book.aggregate_id}/price"
    moved = api.client.put(url, json={"price": "11.00"}, headers={**api.admin(), "If-Match": '"0"'})
    assert moved.status_code == 200
    assert moved.headers["etag"] == '"1"'
    before = _revision(api, stream)
    stale = api.client.put(url, json={"price": "9.00"}, headers={**api.admin(), "If-Match": '"0"'})
    assert stale.status_code == 412
    assert _revision(api, stream) == before == 1


@pytest.mark.parametrize("value", ["3", '"three"', 'W/"x"'])
def test_a_malformed_if_match_is_a_400(embedded_api: ApiStack, value: str) -> None:
    book = embedded_api.book()
    answer = embedded_api.client.put(
        f"/api/v1/books/{book.aggregate_id}/price",
        json={"price": "11.00"},
        headers={**embedded_api.admin(), "If-Match": value},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["header"] == "If-Match"


def test_a_command_answer_says_where_its_events_are(api: ApiStack) -> None:
    answer = api.client.post("/api/v1/books", json=_new_book_body(api), headers=api.admin())
    position = int(answer.headers["x-event-position"])
    stored = next(iter(api.platform.store.read_stream(answer.json()["stream"])))
    assert position == stored.position == answer.json()["position"]
    assert answer.headers["etag"] == '"0"'
    assert answer.headers["location"] == f"/api/v1/books/{answer.json()['id']}"


# -- read-your-writes ---------------------------------------------------------------------------


def test_a_query_waits_for_its_model_to_pass_the_position(api: ApiStack) -> None:
    book = api.book(price=Decimal("15.00"))
    answer = api.client.get(f"/api/v1/books/{book.aggregate_id}", headers=api.fresh(book))
    assert answer.status_code == 200
    assert answer.headers["x-read-model-stale"] == "false"
    assert int(answer.headers["x-read-model-position"]) >= (book.position or 0)
    assert answer.json()["price"] == "15.00"


def test_a_position_never_reached_answers_stale_after_the_wait(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SecretStr(JWT_SECRET), read_wait_s=0.05)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/books", headers={"X-Min-Position": "999999"})
    # No worker ever built the model: the wait ends, and the query says it is not built.
    assert answer.status_code == 503
    assert answer.json()["type"] == "/problems/read_model_not_built"
    assert answer.headers["retry-after"] == "5"


def test_a_position_beyond_the_head_answers_stale_at_once(api: ApiStack) -> None:
    api.book()
    far = (api.platform.store.head_position() or 0) + 1_000_000
    started = time.monotonic()
    answer = api.client.get("/api/v1/books", headers={"X-Min-Position": str(far)})
    assert time.monotonic() - started < api.settings.read_wait_s  # no command answered it
    assert answer.status_code == 200
    assert answer.headers["x-read-model-stale"] == "true"
    assert int(answer.headers["x-read-model-position"]) < far


def test_a_malformed_min_position_is_a_400(embedded_api: ApiStack) -> None:
    answer = embedded_api.client.get("/api/v1/books", headers={"X-Min-Position": "soon"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["header"] == "X-Min-Position"


# -- rate limits --------------------------------------------------------------------------------


@pytest.fixture
def limited_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, jwt_secret=SecretStr(JWT_SECRET), rate_limits=True)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_catalog_allows_60_requests_a_minute_per_client(limited_client: TestClient) -> None:
    started = time.monotonic()
    answers = [limited_client.get("/api/v1/books") for _ in range(70)]
    elapsed = time.monotonic() - started
    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses, "no request of the burst was refused"
    allowed = statuses.index(429)
    # 60 at once, then one more for each second the requests took (the bucket refills).
    assert 60 <= allowed <= 60 + int(elapsed) + 1
    # The first refusal of the burst: a request sent after it may find a token refilled by then.
    refused = answers[allowed]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


# -- observability ------------------------------------------------------------------------------


def test_the_correlation_id_is_echoed_or_made(embedded_api: ApiStack) -> None:
    given = embedded_api.client.get("/health", headers={"X-Correlation-ID": "abc-123"})
    assert given.headers["x-correlation-id"] == "abc-123"
    made = embedded_api.client.get("/health")
    assert len(made.headers["x-correlation-id"]) == 32
    hostile = embedded_api.client.get("/health", headers={"X-Correlation-ID": "a b\tc"})
    assert hostile.headers["x-correlation-id"] != "a b\tc"


def test_log_lines_are_json_with_the_correlation_id() -> None:
    token = correlation_id.set("corr-1")
    try:
        record = logging.LogRecord(
            "bookworm.api", logging.INFO, __file__, 1, "hello %s", ("you",), None
        )
        record.status = 201
        line = json.loads(JsonLogFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert line["message"] == "hello you"
    assert line["correlation_id"] == "corr-1"
    assert line["status"] == 201
    assert line["level"] == "info"
