"""Smoke: the app starts and answers a book."""

from tests.api.conftest import ApiStack


def test_a_created_book_is_served(api: ApiStack) -> None:
    created = api.book()
    answer = api.client.get(f"/api/v1/books/{created.aggregate_id}", headers=api.fresh(created))
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == str(created.aggregate_id)
