"""Read-your-writes: a query sent with `X-Min-Position` = a command's `X-Event-Position` shows
that command's effect, every time, not only when the worker happens to be quick. Each test
repeats a command and the query right after it, a hundred times for the book detail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiStack

REPETITIONS = 100
#: The other queries, shown read-your-writes too, with fewer repetitions.
SHORTER = 30


def _read_after(
    api: ApiStack, command: httpx.Response, url: str, headers: dict[str, str] | None = None
) -> Any:
    """The JSON answer of `url` to a query waiting for the events of `command`."""
    assert command.status_code in (200, 201), command.text
    waiting = {**(headers or {}), "X-Min-Position": command.headers["X-Event-Position"]}
    answer = api.client.get(url, headers=waiting)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Read-Model-Stale"] == "false"
    return answer.json()


def _review(rating: int) -> dict[str, Any]:
    return {"first_name": "Ada", "last_name": uuid.uuid4().hex, "rating": rating}


def test_a_posted_feedback_counts_in_its_books_detail_at_once(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    ratings: list[int] = []
    for repetition in range(REPETITIONS):
        rating = repetition % 6
        posted = api.client.post(f"/api/v1/books/{book_id}/feedbacks", json=_review(rating))
        ratings.append(rating)

        book = _read_after(api, posted, f"/api/v1/books/{book_id}")

        assert book["total_reviews"] == len(ratings), f"repetition {repetition}"
        assert book["average_rating"] == pytest.approx(sum(ratings) / len(ratings))


def test_a_posted_feedback_is_listed_at_once(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    for repetition in range(SHORTER):
        posted = api.client.post(f"/api/v1/books/{book_id}/feedbacks", json=_review(3))

        page = _read_after(api, posted, f"/api/v1/books/{book_id}/feedbacks?page_size=1")

        assert page["total_items"] == repetition + 1
        assert page["items"][0]["id"] == posted.json()["id"]


def test_a_changed_basket_reads_as_changed_at_once(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    _user_id, headers = api.user()
    for quantity in range(1, SHORTER + 1):
        body = {"items": [{"book_id": str(book_id), "quantity": quantity}]}
        put = api.client.put("/api/v1/basket", json=body, headers=headers)

        basket = _read_after(api, put, "/api/v1/basket", headers)

        assert [item["quantity"] for item in basket["items"]] == [quantity]
        assert basket["version"] == put.json()["revision"]
