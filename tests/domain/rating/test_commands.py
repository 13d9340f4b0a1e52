"""Rating commands refuse malformed input (the API's 422): reviewer names, comment, rating."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from write_side.rating import CreateFeedback, RejectFeedback, RejectionReason

BOOK = uuid.uuid4()


def feedback(**changes: Any) -> CreateFeedback:
    fields: dict[str, Any] = {
        "book_id": BOOK,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "comment": "Enchanting.",
        "rating": 5,
    }
    return CreateFeedback(**(fields | changes))


def errors(**changes: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        feedback(**changes)
    return [(tuple(error["loc"]), error["type"]) for error in raised.value.errors()]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_reviewer_names_are_required_trimmed_and_at_most_50(field: str) -> None:
    assert getattr(feedback(**{field: f" {'n' * 50} "}), field) == "n" * 50
    assert errors(**{field: "  "}) == [((field,), "string_too_short")]
    assert errors(**{field: "n" * 51}) == [((field,), "string_too_long")]


def test_a_comment_is_optional_and_at_most_1000() -> None:
    assert feedback(comment="c" * 1000).comment == "c" * 1000
    assert feedback(comment=" ").comment == ""
    assert CreateFeedback(book_id=BOOK, first_name="A", last_name="B", rating=3).comment == ""
    assert errors(comment="c" * 1001) == [(("comment",), "string_too_long")]


@pytest.mark.parametrize("rating", [0, 1, 2, 3, 4, 5])
def test_a_rating_from_0_to_5_is_taken(rating: int) -> None:
    assert feedback(rating=rating).rating == rating


@pytest.mark.parametrize(
    ("rating", "error"),
    [
        (-1, "greater_than_equal"),
        (6, "less_than_equal"),
        (4.0, "int_type"),
        (True, "int_type"),
        ("3", "int_type"),
    ],
)
def test_a_rating_is_an_integer_from_0_to_5(rating: object, error: str) -> None:
    assert errors(rating=rating) == [(("rating",), error)]


def test_a_command_shows_no_reviewer_name() -> None:
    command = feedback(first_name="Grace", last_name="Hopper")

    assert "Grace" not in repr(command)
    assert "Hopper" not in str(command)
    assert command.first_name == "Grace"


def test_a_rejection_names_its_reason() -> None:
    command = RejectFeedback(feedback_id=uuid.uuid4(), reason="book_deleted")

    assert command.reason is RejectionReason.BOOK_DELETED
    with pytest.raises(ValidationError):
        RejectFeedback(feedback_id=uuid.uuid4(), reason="bored")
