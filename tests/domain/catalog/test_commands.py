"""Catalog commands refuse malformed input before any aggregate sees it (the API's 422):
required and trimmed names, lengths, prices as exact money, discount ≤ price, authors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import pytest
from pydantic import ValidationError

from write_side.catalog import (
    BookStatus,
    ChangeBookAuthors,
    ChangeBookPrice,
    CreateAuthor,
    CreateBook,
    CreateCategory,
    CreatePublisher,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.domain import Command

ID = uuid.uuid4()


def book(**changes: Any) -> CreateBook:
    fields: dict[str, Any] = {
        "name": "Dune",
        "price": "10.00",
        "category_id": ID,
        "publisher_id": ID,
        "author_ids": [ID],
    }
    return CreateBook(**(fields | changes))


def errors(make: Callable[[], object]) -> list[tuple[tuple[str | int, ...], str]]:
    """Where and why validation failed."""
    with pytest.raises(ValidationError) as raised:
        make()
    return [(tuple(error["loc"]), error["type"]) for error in raised.value.errors()]


NAMED: dict[str, tuple[Callable[[str], Command], int]] = {
    "CreateBook": (lambda name: book(name=name), 50),
    "UpdateBookDetails": (lambda name: UpdateBookDetails(book_id=ID, name=name), 50),
    "CreateAuthor": (lambda name: CreateAuthor(name=name), 100),
    "RenameAuthor": (lambda name: RenameAuthor(author_id=ID, name=name), 100),
    "CreateCategory": (lambda name: CreateCategory(name=name), 50),
    "RenameCategory": (lambda name: RenameCategory(category_id=ID, name=name), 50),
    "CreatePublisher": (lambda name: CreatePublisher(name=name), 100),
    "RenamePublisher": (lambda name: RenamePublisher(publisher_id=ID, name=name), 100),
}


@pytest.mark.parametrize("command", sorted(NAMED))
def test_a_name_is_required_trimmed_and_at_most_its_length(command: str) -> None:
    make, longest = NAMED[command]

    assert make(f"  {'n' * longest}\t").name == "n" * longest  # type: ignore[attr-defined]
    assert errors(lambda: make("   ")) == [(("name",), "string_too_short")]
    assert errors(lambda: make("n" * (longest + 1))) == [(("name",), "string_too_long")]


def test_description_is_at_most_500_and_image_reference_at_most_255() -> None:
    assert book(description="d" * 500, image="i" * 255).image == "i" * 255
    assert errors(lambda: book(description="d" * 501)) == [(("description",), "string_too_long")]
    assert errors(lambda: book(image="i" * 256)) == [(("image",), "string_too_long")]
    assert book().image is None


@pytest.mark.parametrize("price", ["0", "0.00", "-1.00"])
def test_a_price_is_above_zero(price: str) -> None:
    assert errors(lambda: book(price=price)) == [(("price",), "greater_than")]
    assert errors(lambda: ChangeBookPrice(book_id=ID, price=price)) == [
        (("price",), "greater_than")
    ]


def test_money_is_an_exact_decimal_with_two_places_never_a_float() -> None:
    assert book(price="12.5").price == Decimal("12.50")
    assert str(book(price=Decimal("7")).price) == "7.00"
    assert errors(lambda: book(price=12.5)) == [(("price",), "value_error")]
    assert errors(lambda: book(price="12.345")) == [(("price",), "decimal_max_places")]
    assert errors(lambda: book(price="NaN")) == [(("price",), "finite_number")]


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [
        ("10.00", "0", [(("discount_price",), "greater_than")]),
        ("10.00", "10.01", [(("discount_price",), "discount_above_price")]),
        ("10.00", "10.00", []),
        ("10.00", "0.01", []),
    ],
)
def test_a_discount_price_is_above_zero_and_at_most_the_price(
    price: str, discount: str, expected: list[object]
) -> None:
    for make in (
        lambda: book(price=price, discount_price=discount),
        lambda: ChangeBookPrice(book_id=ID, price=price, discount_price=discount),
    ):
        if expected:
            assert errors(make) == expected
        else:
            assert make().discount_price == Decimal(discount)


def test_a_book_has_at_least_one_author_each_named_once() -> None:
    other = uuid.uuid4()

    assert book(author_ids=[ID, other]).author_ids == (ID, other)
    assert errors(lambda: book(author_ids=[])) == [(("author_ids",), "too_short")]
    assert errors(lambda: book(author_ids=[ID, ID])) == [(("author_ids",), "value_error")]
    assert errors(lambda: ChangeBookAuthors(book_id=ID, author_ids=[])) == [
        (("author_ids",), "too_short")
    ]


def test_stock_is_in_stock_or_out_of_stock() -> None:
    as_sent: Any = "OutOfStock"  # as JSON brings it

    assert SetBookStock(book_id=ID, status=as_sent).status is BookStatus.OUT_OF_STOCK
    assert errors(lambda: SetBookStock(book_id=ID, status=cast(Any, "Backordered"))) == [
        (("status",), "enum")
    ]


def test_commands_are_immutable_and_refuse_unknown_fields() -> None:
    command = CreateCategory(name="Poetry")

    with pytest.raises(ValidationError):
        command.name = "Drama"  # type: ignore[misc]
    assert errors(lambda: CreateCategory(name="Poetry", colour="red")) == [  # type: ignore[call-arg]
        (("colour",), "extra_forbidden")
    ]
