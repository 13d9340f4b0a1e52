"""`/basket`: a user's own basket, read with each book's current name and prices, replaced as a
whole (optionally with If-Match), added to one book at a time, and deleted."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from read_side.queries.baskets import BASKET_CACHE_TTL, basket_key
from tests.api.conftest import ApiStack
from tests.api.waiting import eventually
from write_side.catalog import ChangeBookPrice, DeleteBook, UpdateBookDetails
from write_side.eventstore import StreamNotFound

T = TypeVar("T")
URL = "/api/v1/basket"


def _items(*lines: tuple[uuid.UUID, Any]) -> dict[str, Any]:
    return {"items": [{"book_id": str(book), "quantity": quantity} for book, quantity in lines]}


def _get(api: ApiStack, headers: dict[str, str], position: str | int | None) -> httpx.Response:
    """The basket; read-your-writes when `position` is given."""
    if position is not None:
        headers = {**headers, "X-Min-Position": str(position)}
    answer: httpx.Response = api.client.get(URL, headers=headers)
    if position is not None:
        assert answer.headers["X-Read-Model-Stale"] == "false", answer.text
    return answer


def _put(api: ApiStack, headers: dict[str, str], body: Any) -> httpx.Response:
    answer: httpx.Response = api.client.put(URL, json=body, headers=headers)
    return answer


def _add(api: ApiStack, headers: dict[str, str], body: Any) -> httpx.Response:
    answer: httpx.Response = api.client.post(f"{URL}/items", json=body, headers=headers)
    return answer


def _events(api: ApiStack, user_id: uuid.UUID) -> list[str]:
    try:
        return [event.type for event in api.platform.store.read_stream(f"basket-{user_id}")]
    except StreamNotFound:
        return []


def _revision(api: ApiStack, user_id: uuid.UUID) -> int:
    [last] = api.platform.store.read_stream(f"basket-{user_id}", backwards=True, limit=1)
    return last.revision


def _pointers(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [error["pointer"] for error in answer.json()["errors"]]


# -- reading and replacing ----------------------------------------------------------------------


def test_a_user_fills_a_basket_and_reads_it_with_names_and_prices(api: ApiStack) -> None:
    shelf = api.shelf()
    dune = api.book(shelf, name="Dune", price=Decimal("9.99")).aggregate_id
    emma = api.book(
        shelf, name="Emma", price=Decimal("12.00"), discount_price=Decimal("8.50")
    ).aggregate_id
    user_id, headers = api.user()
    assert _get(api, headers, 0).status_code == 404

    put = _put(api, headers, _items((emma, 1), (dune, 2)))

    assert put.status_code == 200, put.text
    assert put.json()["stream"] == f"basket-{user_id}"
    assert put.json()["events"] == ["BasketCreated", "BasketItemAdded", "BasketItemAdded"]
    assert put.headers["ETag"] == '"2"'
    answer = _get(api, headers, put.headers["X-Event-Position"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == put.headers["ETag"]
    basket = answer.json()
    assert basket["buyer_id"] == str(user_id)
    assert basket["version"] == 2
    assert [
        (i["book_id"], i["name"], i["quantity"], i["price"], i["discount_price"], i["unit_price"])
        for i in basket["items"]
    ] == [
        (str(emma), "Emma", 1, "12.00", "8.50", "8.50"),
        (str(dune), "Dune", 2, "9.99", None, "9.99"),
    ]
    assert Decimal(basket["total"]) == Decimal("28.48")

    # Without a position the answer is the cache's (the tables' on a miss), soon the same.
    def served() -> httpx.Response | None:
        answer = _get(api, headers, None)
        return answer if answer.status_code == 200 else None

    cached = eventually(served, "the cached basket is served")
    assert cached.json() == basket
    assert cached.headers["ETag"] == '"2"'


def test_a_basket_shows_each_book_as_the_catalog_has_it_now(api: ApiStack) -> None:
    book = api.book(name="Before", price=Decimal("10.00")).aggregate_id
    _user_id, headers = api.user()
    assert _put(api, headers, _items((book, 3))).status_code == 200

    api.send(UpdateBookDetails(book_id=book, name="After", description="", image=None))
    repriced = api.send(
        ChangeBookPrice(book_id=book, price=Decimal("11.00"), discount_price=Decimal("7.00"))
    )

    [item] = _get(api, headers, repriced.position).json()["items"]
    assert (item["name"], item["price"], item["discount_price"]) == ("After", "11.00", "7.00")


def test_put_replaces_the_whole_list_and_if_match_guards_it(api: ApiStack) -> None:
    shelf = api.shelf()
    one, two, three = (api.book(shelf).aggregate_id for _ in range(3))
    user_id, headers = api.user()
    first = _put(api, headers, _items((one, 1), (two, 1)))
    etag = first.headers["ETag"]

    replaced = _put(api, {**headers, "If-Match": etag}, _items((two, 5), (three, 1)))

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["events"] == [
        "BasketItemQuantityChanged",
        "BasketItemAdded",
        "BasketItemRemoved",
    ]
    assert replaced.headers["ETag"] == '"5"'
    basket = _get(api, headers, replaced.headers["X-Event-Position"]).json()
    assert [(i["book_id"], i["quantity"]) for i in basket["items"]] == [
        (str(two), 5),
        (str(three), 1),
    ]

    # The first ETag is stale now: the change is refused and nothing is written.
    stale = _put(api, {**headers, "If-Match": etag}, _items((one, 9)))

    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert _revision(api, user_id) == 5
    assert _get(api, headers, replaced.headers["X-Event-Position"]).json() == basket

    # The ETag of the last read is current.
    fresh = _put(api, {**headers, "If-Match": '"5"'}, _items((one, 9)))
    assert fresh.status_code == 200, fresh.text


def test_a_malformed_if_match_is_a_400(api: ApiStack) -> None:
    _user_id, headers = api.user()
    answer = _put(api, {**headers, "If-Match": "five"}, _items((api.book().aggregate_id, 1)))
    assert answer.status_code == 400
    assert [error["header"] for error in answer.json()["errors"]] == ["If-Match"]


# -- adding one book and deleting ---------------------------------------------------------------


def test_post_items_opens_a_basket_and_adds_to_a_line(api: ApiStack) -> None:
    shelf = api.shelf()
    one, two = api.book(shelf).aggregate_id, api.book(shelf).aggregate_id
    _user_id, headers = api.user()

    opened = _add(api, headers, {"book_id": str(one)})
    assert opened.status_code == 200, opened.text
    assert opened.json()["events"] == ["BasketCreated", "BasketItemAdded"]
    more = _add(api, headers, {"book_id": str(one), "quantity": 2})
    assert more.json()["events"] == ["BasketItemQuantityChanged"]
    other = _add(api, headers, {"book_id": str(two), "quantity": 4})
    assert other.json()["events"] == ["BasketItemAdded"]

    basket = _get(api, headers, other.headers["X-Event-Position"]).json()
    assert [(i["book_id"], i["quantity"]) for i in basket["items"]] == [
        (str(one), 3),
        (str(two), 4),
    ]


def test_an_addition_retried_with_its_idempotency_key_counts_once(api: ApiStack) -> None:
    book = api.book().aggregate_id
    user_id, headers = api.user()
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}

    first = _add(api, keyed, {"book_id": str(book), "quantity": 2})
    retry = _add(api, keyed, {"book_id": str(book), "quantity": 2})

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _events(api, user_id) == ["BasketCreated", "BasketItemAdded"]
    [item] = _get(api, headers, first.headers["X-Event-Position"]).json()["items"]
    assert item["quantity"] == 2


def test_a_basket_holds_at_most_50_books(api: ApiStack) -> None:
    shelf = api.shelf()
    books = [api.book(shelf).aggregate_id for _ in range(51)]
    user_id, headers = api.user()

    assert _pointers(_put(api, headers, _items(*((b, 1) for b in books)))) == ["#/items"]
    full = _put(api, headers, _items(*((b, 1) for b in books[:50])))
    assert full.status_code == 200, full.text
    one_more = _add(api, headers, {"book_id": str(books[50])})

    assert one_more.status_code == 409
    assert one_more.json()["type"] == "/problems/basket_too_many_books"
    assert _revision(api, user_id) == 50
    assert _add(api, headers, {"book_id": str(books[0])}).status_code == 200


def test_delete_throws_the_basket_away(api: ApiStack) -> None:
    book = api.book().aggregate_id
    _user_id, headers = api.user()
    assert _put(api, headers, _items((book, 1))).status_code == 200

    deleted = api.client.delete(URL, headers=headers)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["events"] == ["BasketDeleted"]
    assert _get(api, headers, deleted.headers["X-Event-Position"]).status_code == 404
    again = api.client.delete(URL, headers=headers)
    assert again.status_code == 404
    assert again.json()["type"] == "/problems/basket_not_found"
    # A new basket may follow.
    reopened = _put(api, headers, _items((book, 2)))
    assert reopened.json()["events"] == ["BasketCreated", "BasketItemAdded"]


def test_deleting_no_basket_is_a_404(api: ApiStack) -> None:
    answer = api.client.delete(URL, headers=api.user()[1])
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/basket_not_found"


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "pointer"),
    [(0, "#/items/1/quantity"), (-1, "#/items/1/quantity"), ("2", "#/items/1/quantity")],
)
def test_a_quantity_must_be_a_positive_integer(api: ApiStack, quantity: Any, pointer: str) -> None:
    shelf = api.shelf()
    one, two = api.book(shelf).aggregate_id, api.book(shelf).aggregate_id
    user_id, headers = api.user()

    assert _pointers(_put(api, headers, _items((one, 1), (two, quantity)))) == [pointer]
    assert _pointers(_add(api, headers, {"book_id": str(two), "quantity": quantity})) == [
        "#/quantity"
    ]
    assert _events(api, user_id) == []


def test_an_invalid_item_list_names_the_field(api: ApiStack) -> None:
    book = api.book().aggregate_id
    user_id, headers = api.user()

    assert _pointers(_put(api, headers, {"items": []})) == ["#/items"]
    assert _pointers(_put(api, headers, {})) == ["#/items"]
    assert _pointers(_put(api, headers, {"items": [{"book_id": "x", "quantity": 1}]})) == [
        "#/items/0/book_id"
    ]
    assert _pointers(_put(api, headers, {**_items((book, 1)), "owner": "someone"})) == ["#/owner"]
    duplicate = _put(api, headers, _items((book, 1), (book, 2)))
    assert _pointers(duplicate) == ["#/items/1/book_id"]
    assert duplicate.json()["type"] == "/problems/duplicate_book"
    assert _events(api, user_id) == []


def test_a_missing_book_is_a_422_and_a_deleted_one_a_409(api: ApiStack) -> None:
    shelf = api.shelf()
    book, gone = api.book(shelf).aggregate_id, api.book(shelf).aggregate_id
    api.send(DeleteBook(book_id=gone))
    user_id, headers = api.user()

    missing = _put(api, headers, _items((book, 1), (uuid.uuid4(), 1)))
    assert _pointers(missing) == ["#/items/1/book_id"]
    assert missing.json()["type"] == "/problems/book_not_found"
    assert _pointers(_add(api, headers, {"book_id": str(uuid.uuid4())})) == ["#/book_id"]

    for answer in (
        _put(api, headers, _items((gone, 1))),
        _add(api, headers, {"book_id": str(gone)}),
    ):
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "/problems/book_deleted"
    assert _events(api, user_id) == []


def test_malformed_json_is_a_400(api: ApiStack) -> None:
    _user_id, headers = api.user()
    json_headers = {**headers, "Content-Type": "application/json"}
    for method, url in (("PUT", URL), ("POST", f"{URL}/items")):
        answer = api.client.request(method, url, content=b'{"items": [', headers=json_headers)
        assert answer.status_code == 400, (method, answer.text)
        assert "not valid JSON" in answer.json()["detail"]


# -- whose basket ---------------------------------------------------------------------------------

ROUTES: list[tuple[str, str, Any]] = [
    ("GET", URL, None),
    ("PUT", URL, {"items": []}),
    ("POST", f"{URL}/items", {}),
    ("DELETE", URL, None),
]


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
def test_a_basket_needs_a_user_token(api: ApiStack, method: str, url: str, body: Any) -> None:
    anonymous = api.client.request(method, url, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for headers in (api.admin(), api.reporter()):
        forbidden = api.client.request(method, url, json=body, headers=headers)
        assert forbidden.status_code == 403, forbidden.text
        assert forbidden.json()["detail"] == "this route is for the user role"


def test_a_user_reaches_only_its_own_basket(api: ApiStack) -> None:
    book = api.book().aggregate_id
    ada_id, ada = api.user()
    bob_id, bob = api.user()
    filled = _put(api, ada, _items((book, 2)))

    assert _get(api, bob, filled.headers["X-Event-Position"]).status_code == 404
    assert api.client.delete(URL, headers=bob).status_code == 404
    bobs = _add(api, bob, {"book_id": str(book)})

    assert bobs.json()["stream"] == f"basket-{bob_id}"
    assert _events(api, ada_id) == ["BasketCreated", "BasketItemAdded"]
    [item] = _get(api, ada, bobs.headers["X-Event-Position"]).json()["items"]
    assert item["quantity"] == 2


# -- the cache ----------------------------------------------------------------------------------


def test_a_cached_answer_of_an_older_shape_is_read_from_the_tables(api: ApiStack) -> None:
    book = api.book().aggregate_id
    user_id, headers = api.user()
    put = _put(api, headers, _items((book, 1)))
    fresh = _get(api, headers, put.headers["X-Event-Position"]).json()
    eventually(lambda: api.platform.cache.get(basket_key(user_id)), "the basket is cached")

    older = {key: value for key, value in fresh.items() if key != "version"}
    api.platform.cache.set(basket_key(user_id), orjson.dumps(older), ttl=BASKET_CACHE_TTL)
    answer = _get(api, headers, None)

    assert answer.status_code == 200, answer.text
    assert answer.json() == fresh
    assert answer.headers["ETag"] == '"1"'
