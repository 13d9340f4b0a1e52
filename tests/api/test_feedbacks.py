"""`/books/{id}/feedbacks` and `/feedbacks/{id}`: anyone rates a book and reads its feedbacks,
an admin deletes one; a feedback on a missing or deleted book is accepted, then rejected."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from tests.api.conftest import ApiStack
from tests.api.waiting import eventually
from write_side.catalog import DeleteBook
from write_side.eventstore import EventFilter, StreamNotFound

T = TypeVar("T")


def _review(rating: int = 4, **fields: Any) -> dict[str, Any]:
    """A valid feedback body by a reviewer no other test uses."""
    body: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": f"Reader {uuid.uuid4().hex[:8]}",
        "comment": "A quiet, patient book.",
        "rating": rating,
    }
    body.update(fields)
    return body


def _post(
    api: ApiStack, book_id: uuid.UUID | str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    answer: httpx.Response = api.client.post(
        f"/api/v1/books/{book_id}/feedbacks", json=body, headers=headers
    )
    return answer


def _list(api: ApiStack, book_id: uuid.UUID, position: str | int, **params: Any) -> httpx.Response:
    answer: httpx.Response = api.client.get(
        f"/api/v1/books/{book_id}/feedbacks",
        params=params,
        headers={"X-Min-Position": str(position)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Read-Model-Stale"] == "false"
    return answer


def _events(api: ApiStack, stream: str) -> list[str]:
    try:
        return [event.type for event in api.platform.store.read_stream(stream)]
    except StreamNotFound:
        return []


# -- rating and reading --------------------------------------------------------------------------


def test_an_anonymous_caller_rates_a_book_and_reads_it_back(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    body = _review(5, first_name="  Ada ", comment="Could not put it down.")

    answer = _post(api, book_id, body)

    assert answer.status_code == 201, answer.text
    created = answer.json()
    feedback_id = created["id"]
    assert answer.headers["Location"] == f"/api/v1/feedbacks/{feedback_id}"
    assert answer.headers["ETag"] == '"0"'
    assert created["stream"] == f"feedback-{feedback_id}"
    assert created["events"] == ["FeedbackCreated"]
    assert created["replayed"] is False
    assert int(answer.headers["X-Event-Position"]) == created["position"] > 0

    page = _list(api, book_id, answer.headers["X-Event-Position"]).json()
    assert page["total_items"] == 1
    [shown] = page["items"]
    assert shown["id"] == feedback_id
    assert shown["book_id"] == str(book_id)
    assert (shown["first_name"], shown["last_name"]) == ("Ada", body["last_name"])
    assert (shown["comment"], shown["rating"]) == ("Could not put it down.", 5)


def test_a_user_rates_a_book_too(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    _user_id, headers = api.user()
    answer = _post(api, book_id, _review(3), headers)
    assert answer.status_code == 201, answer.text
    page = _list(api, book_id, answer.headers["X-Event-Position"]).json()
    assert [item["rating"] for item in page["items"]] == [3]


def test_feedbacks_are_sorted_by_date_or_rating_and_paged(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    ids: list[str] = []
    position = "0"
    for rating in (2, 5, 0):
        answer = _post(api, book_id, _review(rating))
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
        position = answer.headers["X-Event-Position"]

    def order(**params: Any) -> list[str]:
        return [item["id"] for item in _list(api, book_id, position, **params).json()["items"]]

    assert order() == ids[::-1]  # newest first
    assert order(sort="date", descending="false") == ids
    assert order(sort="rating") == [ids[1], ids[0], ids[2]]
    assert order(sort="rating", descending="false") == [ids[2], ids[0], ids[1]]

    first = _list(api, book_id, position, sort="rating", page_size=2)
    assert first.headers["Pagination-Count"] == "3"
    assert 'rel="next"' in first.headers["Link"]
    assert [item["rating"] for item in first.json()["items"]] == [5, 2]
    second = _list(api, book_id, position, sort="rating", page_size=2, page=2).json()
    assert [item["rating"] for item in second["items"]] == [0]
    assert (second["total_pages"], second["has_previous"], second["has_next"]) == (2, True, False)


def test_an_unknown_book_has_no_feedbacks(api: ApiStack) -> None:
    answer = _list(api, uuid.uuid4(), 0)
    assert answer.json()["items"] == []
    assert answer.headers["Pagination-Count"] == "0"


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"rating": 6}, "#/rating"),
        ({"rating": -1}, "#/rating"),
        ({"rating": 4.0}, "#/rating"),
        ({"rating": "4"}, "#/rating"),
        ({"rating": True}, "#/rating"),
        ({"rating": None}, "#/rating"),
        ({"first_name": ""}, "#/first_name"),
        ({"first_name": "   "}, "#/first_name"),
        ({"last_name": "x" * 51}, "#/last_name"),
        ({"comment": "x" * 1001}, "#/comment"),
        ({"stars": 5}, "#/stars"),
    ],
)
def test_an_invalid_feedback_is_a_422_naming_the_field(
    api: ApiStack, change: dict[str, Any], pointer: str
) -> None:
    book_id = api.book().aggregate_id
    answer = _post(api, book_id, _review(**change))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["pointer"] for error in answer.json()["errors"]] == [pointer]
    assert _created_on(api, book_id) == 0


def test_a_missing_field_is_named(api: ApiStack) -> None:
    body = _review()
    del body["last_name"], body["rating"]
    answer = _post(api, uuid.uuid4(), body)
    assert answer.status_code == 422
    assert {error["pointer"] for error in answer.json()["errors"]} == {"#/last_name", "#/rating"}


def test_the_longest_names_and_comment_are_accepted(api: ApiStack) -> None:
    body = _review(0, first_name="f" * 50, last_name=f"{uuid.uuid4().hex}" + "l" * 18)
    body["comment"] = "c" * 1000
    assert len(body["last_name"]) == 50
    assert _post(api, api.book().aggregate_id, body).status_code == 201


def test_malformed_json_is_a_400(api: ApiStack) -> None:
    answer = api.client.post(
        f"/api/v1/books/{uuid.uuid4()}/feedbacks",
        content=b'{"first_name": "Ada", "rating": 4',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "not valid JSON" in answer.json()["detail"]


def test_a_malformed_book_id_or_query_is_a_422_naming_the_parameter(api: ApiStack) -> None:
    answer = _post(api, "not-a-uuid", _review())
    assert answer.status_code == 422
    assert [error["parameter"] for error in answer.json()["errors"]] == ["book_id"]

    for params, name in (({"sort": "stars"}, "sort"), ({"page_size": 101}, "page_size")):
        answer = api.client.get(f"/api/v1/books/{uuid.uuid4()}/feedbacks", params=params)
        assert answer.status_code == 422, params
        assert [error["parameter"] for error in answer.json()["errors"]] == [name]


# -- one feedback per book and reviewer ---------------------------------------------------------


def test_a_second_feedback_by_the_same_reviewer_on_a_book_is_a_409(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    first = _post(api, book_id, _review(4, last_name="Lovelace"))
    assert first.status_code == 201, first.text

    # The same names, spelled otherwise (trimmed, case-folded), are the same reviewer.
    again = _post(api, book_id, _review(1, first_name=" ADA", last_name="lovelace "))

    assert again.status_code == 409, again.text
    assert again.json()["type"] == "/problems/feedback_already_given"
    page = _list(api, book_id, first.headers["X-Event-Position"]).json()
    assert [item["rating"] for item in page["items"]] == [4]
    # The same reviewer may rate another book.
    assert _post(api, api.book().aggregate_id, _review(1, last_name="Lovelace")).status_code == 201


# -- deleting (admin) ---------------------------------------------------------------------------


def test_an_admin_deletes_a_feedback_and_the_reviewer_may_rate_again(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    body = _review(1)
    created = _post(api, book_id, body)
    feedback_id = created.json()["id"]

    deleted = api.client.delete(f"/api/v1/feedbacks/{feedback_id}", headers=api.admin())

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["events"] == ["FeedbackDeleted"]
    assert deleted.headers["ETag"] == '"1"'
    assert _list(api, book_id, deleted.headers["X-Event-Position"]).json()["items"] == []

    again = _post(api, book_id, body)
    assert again.status_code == 201, again.text
    page = _list(api, book_id, again.headers["X-Event-Position"]).json()
    assert [item["id"] for item in page["items"]] == [again.json()["id"]]

    twice = api.client.delete(f"/api/v1/feedbacks/{feedback_id}", headers=api.admin())
    assert twice.status_code == 409
    assert twice.json()["type"] == "/problems/feedback_deleted"


def test_deleting_an_unknown_feedback_is_a_404(api: ApiStack) -> None:
    answer = api.client.delete(f"/api/v1/feedbacks/{uuid.uuid4()}", headers=api.admin())
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/feedback_not_found"


def test_only_an_admin_deletes_a_feedback(api: ApiStack) -> None:
    created = _post(api, api.book().aggregate_id, _review())
    feedback_id = created.json()["id"]
    url = f"/api/v1/feedbacks/{feedback_id}"

    anonymous = api.client.delete(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.client.delete(url, headers=api.user()[1]).status_code == 403
    assert api.client.delete(url, headers=api.reporter()).status_code == 403
    assert api.client.delete(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401

    assert _events(api, f"feedback-{feedback_id}") == ["FeedbackCreated"]


# -- a missing or deleted book ------------------------------------------------------------------


def _rejection(api: ApiStack, feedback_id: str) -> dict[str, Any]:
    def rejected() -> dict[str, Any] | None:
        events = api.platform.store.read_stream(f"feedback-{feedback_id}")
        last = events[-1]
        if last.type != "FeedbackRejected":
            return None
        return {"position": last.position, **orjson.loads(last.data)}

    return eventually(rejected, "the process rejects the feedback")


def test_a_feedback_on_a_missing_book_is_accepted_then_rejected(api: ApiStack) -> None:
    book_id = uuid.uuid4()
    created = _post(api, book_id, _review(5))
    assert created.status_code == 201, created.text
    feedback_id = created.json()["id"]

    rejection = _rejection(api, feedback_id)

    assert rejection["reason"] == "book_not_found"
    assert _events(api, f"feedback-{feedback_id}") == ["FeedbackCreated", "FeedbackRejected"]
    assert _list(api, book_id, rejection["position"]).json()["items"] == []
    deleted = api.client.delete(f"/api/v1/feedbacks/{feedback_id}", headers=api.admin())
    assert deleted.status_code == 409
    assert deleted.json()["type"] == "/problems/feedback_rejected"


def test_a_feedback_on_a_deleted_book_is_accepted_then_rejected(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    api.send(DeleteBook(book_id=book_id))
    created = _post(api, book_id, _review(2))
    assert created.status_code == 201, created.text

    rejection = _rejection(api, created.json()["id"])

    assert rejection["reason"] == "book_deleted"
    assert _list(api, book_id, rejection["position"]).json()["items"] == []


# -- idempotency --------------------------------------------------------------------------------


def _created_on(api: ApiStack, book_id: uuid.UUID) -> int:
    """How many FeedbackCreated events of `$all` name the book."""
    events = api.platform.store.read_all(filter=EventFilter.event_types("FeedbackCreated"))
    return sum(orjson.loads(event.data)["book_id"] == str(book_id) for event in events)


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    body = _review(4)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = _post(api, book_id, body, key)
    retry = _post(api, book_id, body, key)

    assert first.status_code == retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    for header in ("Location", "ETag", "X-Event-Position"):
        assert retry.headers[header] == first.headers[header]
    assert _events(api, f"feedback-{first.json()['id']}") == ["FeedbackCreated"]
    assert _created_on(api, book_id) == 1


def test_the_same_idempotency_key_with_another_body_is_a_422(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = _post(api, book_id, _review(4), key)
    assert first.status_code == 201, first.text

    other = _post(api, book_id, _review(2), key)

    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers
    assert _created_on(api, book_id) == 1
