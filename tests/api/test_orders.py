"""`/orders`: placing from the basket, reading (own only, or every order for admins), settling."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from read_side.cache import ORDER_PLACEMENT_LOCK
from tests.api.conftest import ApiStack
from tests.api.waiting import eventually
from write_side.basket import BasketLine, UpdateBasket
from write_side.catalog import SetBookStock
from write_side.catalog.events import BookStatus
from write_side.domain import Command, CommandResult
from write_side.eventstore import EventFilter, StreamNotFound
from write_side.ordering import PlaceOrder

ORDERS = "/api/v1/orders"
T = TypeVar("T")


@dataclass
class Placed:
    """An order placed through the API: who placed it and where its events are."""

    order_id: uuid.UUID
    buyer_id: uuid.UUID
    headers: dict[str, str]
    answer: httpx.Response

    @property
    def fresh(self) -> dict[str, str]:
        """`X-Min-Position` for the placement (read-your-writes)."""
        return {"X-Min-Position": self.answer.headers["X-Event-Position"]}


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The problem details of an error answer, checked to have `status`."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def fill_basket(
    api: ApiStack, buyer_id: uuid.UUID, *, quantity: int = 2, name: str = "The Quiet Harbour"
) -> uuid.UUID:
    """Put `quantity` copies of a new book (12.50, discounted to 9.99) in the buyer's basket."""
    book = api.book(name=name, price=Decimal("12.50"), discount_price=Decimal("9.99"))
    book_id = book.aggregate_id
    api.send(
        UpdateBasket(buyer_id=buyer_id, items=(BasketLine(book_id=book_id, quantity=quantity),))
    )
    return book_id


def place(api: ApiStack, headers: dict[str, str], key: str | None = None) -> httpx.Response:
    """`POST /orders` as the caller of `headers`, with an `Idempotency-Key` when given."""
    answer: httpx.Response = api.client.post(
        ORDERS, headers={**headers, **({"Idempotency-Key": key} if key else {})}
    )
    return answer


def placed_order(api: ApiStack) -> Placed:
    """A new buyer with a filled basket, and the order it placed through the API."""
    buyer_id, headers = api.buyer()
    fill_basket(api, buyer_id)
    answer = place(api, headers, key=f"place-{uuid.uuid4()}")
    assert answer.status_code == 201, answer.text
    return Placed(uuid.UUID(answer.json()["id"]), buyer_id, headers, answer)


def types(api: ApiStack, stream: str) -> list[str]:
    """The event types of a stream (none when it was never written)."""
    try:
        return [event.type for event in api.platform.store.read_stream(stream)]
    except StreamNotFound:
        return []


def orders_placed_by(api: ApiStack, buyer_id: uuid.UUID) -> list[str]:
    """The order streams that have an `OrderPlaced` of this buyer, from the event store."""
    placed = api.platform.store.read_all(filter=EventFilter.event_types("OrderPlaced"))
    return [e.stream for e in placed if orjson.loads(e.data)["buyer_id"] == str(buyer_id)]


def checked_out(api: ApiStack, placed: Placed) -> None:
    """Wait until the order saga has checked the buyer's basket out for the order."""
    eventually(
        lambda: "BasketCheckedOut" in types(api, f"basket-{placed.buyer_id}"),
        f"the basket of order {placed.order_id} is checked out",
    )


def saga_when(
    api: ApiStack, order_id: uuid.UUID | str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The order's saga (admin) once `done` says so; None before (its model may still be
    starting: 503, or not have seen the order: 404)."""
    answer = api.client.get(f"{ORDERS}/{order_id}/saga", headers=api.admin())
    if answer.status_code in (404, 503):
        return None
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view if done(view) else None


def get(api: ApiStack, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    """A GET that must succeed."""
    answer: httpx.Response = api.client.get(path, headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer


# -- placing, end to end ------------------------------------------------------------------------


def test_an_order_is_placed_checked_out_by_the_saga_and_completed(api: ApiStack) -> None:
    buyer_id, headers = api.buyer()
    book_id = fill_basket(api, buyer_id, quantity=3, name="Tides of Porthaven")
    key = f"place-{uuid.uuid4()}"

    answer = place(api, headers, key=key)

    assert answer.status_code == 201, answer.text
    order_id = answer.json()["id"]
    assert answer.headers["Location"] == f"{ORDERS}/{order_id}"
    assert answer.headers["ETag"] == '"0"'
    assert answer.json()["events"] == ["OrderPlaced"]
    placed = Placed(uuid.UUID(order_id), buyer_id, headers, answer)
    new = get(api, f"{ORDERS}/{order_id}", {**headers, **placed.fresh})
    assert new.headers["ETag"] == '"0"'
    detail = new.json()
    assert (detail["status"], detail["buyer_id"], detail["total"]) == (
        "New",
        str(buyer_id),
        "29.97",
    )
    assert detail["items"] == [
        {
            "book_id": str(book_id),
            "book_name": "Tides of Porthaven",
            "quantity": 3,
            "unit_price": "9.99",
        }
    ]
    assert [change["status"] for change in detail["history"]] == ["New"]

    checked_out(api, placed)
    completed = api.client.post(
        f"{ORDERS}/{order_id}/complete", headers={**api.admin(), "If-Match": '"0"'}
    )

    assert completed.status_code == 200, completed.text
    assert completed.json()["events"] == ["OrderCompleted"]
    fresh = {"X-Min-Position": completed.headers["X-Event-Position"]}
    done = get(api, f"{ORDERS}/{order_id}", {**headers, **fresh})
    assert done.headers["ETag"] == '"1"'
    assert done.json()["status"] == "Completed"
    assert [change["status"] for change in done.json()["history"]] == ["New", "Completed"]
    saga = eventually(
        lambda: saga_when(api, order_id, lambda view: view["state"] == "Completed"),
        "the saga is completed",
    )
    assert saga["checked_out"] is True


def test_a_retried_placement_places_one_order(api: ApiStack) -> None:
    buyer_id, headers = api.buyer()
    fill_basket(api, buyer_id)
    key = f"place-{uuid.uuid4()}"

    first = place(api, headers, key=key)
    retry = place(api, headers, key=key)

    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert orders_placed_by(api, buyer_id) == [f"order-{first.json()['id']}"]


class HeldPlacement:
    """The API's command bus, holding every `PlaceOrder` until told to go on: a placement
    stays in flight (its lock taken) for as long as a test needs."""

    def __init__(self, bus: Any) -> None:
        self._bus = bus
        self.entered = threading.Event()
        self.go_on = threading.Event()

    def dispatch(self, command: Command) -> CommandResult:
        if isinstance(command, PlaceOrder):
            self.entered.set()
            self.go_on.wait(timeout=30)
        result: CommandResult = self._bus.dispatch(command)
        return result


def test_one_placement_at_a_time_per_buyer(api: ApiStack, monkeypatch: pytest.MonkeyPatch) -> None:
    buyer_id, headers = api.buyer()
    fill_basket(api, buyer_id)
    held = HeldPlacement(api.platform.bus)
    monkeypatch.setattr(api.platform, "bus", held)
    answers: dict[str, httpx.Response] = {}
    first = threading.Thread(
        target=lambda: answers.setdefault("first", place(api, headers, key=f"a-{uuid.uuid4()}"))
    )

    first.start()
    assert held.entered.wait(timeout=30), "the first placement never reached the write side"
    second = threading.Thread(
        target=lambda: answers.setdefault("second", place(api, headers, key=f"b-{uuid.uuid4()}"))
    )
    second.start()
    second.join(timeout=30)
    held.go_on.set()
    first.join(timeout=30)

    refused = problem(answers["second"], 409)
    assert refused["type"] == "/problems/order_placement_in_progress"
    assert answers["second"].headers["Retry-After"] == "1"
    assert answers["first"].status_code == 201, answers["first"].text
    assert orders_placed_by(api, buyer_id) == [f"order-{answers['first'].json()['id']}"]
    # The lock went with the placement that took it.
    lock = f"order-placement:{buyer_id}"
    assert api.platform.cache.acquire_lock(lock, "probe", ttl=ORDER_PLACEMENT_LOCK)
    api.platform.cache.release_lock(lock, "probe")


def test_an_empty_basket_places_nothing_and_leaves_no_lock(api: ApiStack) -> None:
    buyer_id, headers = api.buyer()

    answer = place(api, headers, key=f"place-{uuid.uuid4()}")

    assert problem(answer, 409)["type"] == "/problems/basket_empty"
    assert orders_placed_by(api, buyer_id) == []
    lock = f"order-placement:{buyer_id}"
    assert api.platform.cache.acquire_lock(lock, "probe", ttl=ORDER_PLACEMENT_LOCK)
    api.platform.cache.release_lock(lock, "probe")


def test_a_checked_out_basket_places_no_second_order(api: ApiStack) -> None:
    placed = placed_order(api)
    checked_out(api, placed)

    again = place(api, placed.headers, key=f"place-{uuid.uuid4()}")

    assert problem(again, 409)["type"] == "/problems/basket_empty"
    assert orders_placed_by(api, placed.buyer_id) == [f"order-{placed.order_id}"]


def test_an_out_of_stock_book_places_nothing(api: ApiStack) -> None:
    buyer_id, headers = api.buyer()
    book_id = fill_basket(api, buyer_id)
    api.send(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))

    answer = place(api, headers)

    assert problem(answer, 409)["type"] == "/problems/book_out_of_stock"
    assert orders_placed_by(api, buyer_id) == []


def test_a_user_who_is_no_buyer_places_nothing(api: ApiStack) -> None:
    user_id, headers = api.user()
    fill_basket(api, user_id)

    answer = place(api, headers)

    assert problem(answer, 404)["type"] == "/problems/buyer_not_found"
    assert orders_placed_by(api, user_id) == []


# -- reading ------------------------------------------------------------------------------------


def test_a_user_lists_only_its_own_orders_newest_first(api: ApiStack) -> None:
    mine = placed_order(api)
    checked_out(api, mine)
    fill_basket(api, mine.buyer_id)
    newer = place(api, mine.headers)
    assert newer.status_code == 201, newer.text
    theirs = placed_order(api)
    fresh = {"X-Min-Position": theirs.answer.headers["X-Event-Position"]}

    listed = get(api, ORDERS, {**mine.headers, **fresh})

    page = listed.json()
    assert [o["order_id"] for o in page["items"]] == [newer.json()["id"], str(mine.order_id)]
    assert page["total_items"] == 2
    assert listed.headers["Pagination-Count"] == "2"
    everyone = get(api, ORDERS, api.admin(), page_size=100).json()
    assert {str(mine.order_id), str(theirs.order_id)} <= {o["order_id"] for o in everyone["items"]}
    by_buyer = get(api, ORDERS, api.admin(), buyer_id=str(theirs.buyer_id)).json()
    assert [o["order_id"] for o in by_buyer["items"]] == [str(theirs.order_id)]
    asked_for_theirs = api.client.get(
        ORDERS, params={"buyer_id": str(theirs.buyer_id)}, headers=mine.headers
    )
    problem(asked_for_theirs, 403)


def test_orders_are_filtered_by_status(api: ApiStack) -> None:
    kept, dropped = placed_order(api), placed_order(api)
    cancelled = api.client.post(f"{ORDERS}/{dropped.order_id}/cancel", headers=dropped.headers)
    assert cancelled.status_code == 200, cancelled.text
    fresh = {"X-Min-Position": cancelled.headers["X-Event-Position"]}

    new = get(api, ORDERS, {**api.admin(), **fresh}, status="New", page_size=100).json()
    gone = get(api, ORDERS, api.admin(), status="Cancelled", page_size=100).json()

    assert str(kept.order_id) in {o["order_id"] for o in new["items"]}
    assert str(dropped.order_id) not in {o["order_id"] for o in new["items"]}
    assert str(dropped.order_id) in {o["order_id"] for o in gone["items"]}
    assert {o["status"] for o in gone["items"]} == {"Cancelled"}
    mine = get(api, ORDERS, dropped.headers, status="New").json()
    assert mine["items"] == []
    unknown = problem(
        api.client.get(ORDERS, params={"status": "Shipped"}, headers=api.admin()), 422
    )
    assert [e["parameter"] for e in unknown["errors"]] == ["status"]


def test_another_users_order_reads_as_not_found(api: ApiStack) -> None:
    placed = placed_order(api)
    _other_id, other = api.buyer()

    answer = api.client.get(f"{ORDERS}/{placed.order_id}", headers={**other, **placed.fresh})

    body = problem(answer, 404)
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert "Ada Reader" not in answer.text
    assert "ada@example.com" not in answer.text
    admin = get(api, f"{ORDERS}/{placed.order_id}", api.admin())
    assert admin.json()["buyer_email"] == "ada@example.com"
    problem(api.client.get(f"{ORDERS}/{uuid.uuid4()}", headers=placed.headers), 404)
    not_an_id = problem(api.client.get(f"{ORDERS}/not-an-id", headers=placed.headers), 422)
    assert [e["parameter"] for e in not_an_id["errors"]] == ["order_id"]


# -- settling -----------------------------------------------------------------------------------


def test_a_user_cancels_its_own_new_order_with_a_reason(api: ApiStack) -> None:
    placed = placed_order(api)

    cancelled = api.client.post(
        f"{ORDERS}/{placed.order_id}/cancel",
        json={"reason": "  ordered the wrong edition "},
        headers=placed.headers,
    )

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["events"] == ["OrderCancelled"]
    fresh = {"X-Min-Position": cancelled.headers["X-Event-Position"]}
    history = get(api, f"{ORDERS}/{placed.order_id}", {**placed.headers, **fresh}).json()["history"]
    assert [(h["status"], h["reason"]) for h in history] == [
        ("New", None),
        ("Cancelled", "ordered the wrong edition"),
    ]


def test_a_user_cannot_cancel_another_users_order(api: ApiStack) -> None:
    placed = placed_order(api)
    _other_id, other = api.buyer()

    answer = api.client.post(f"{ORDERS}/{placed.order_id}/cancel", headers=other)

    problem(answer, 404)
    assert types(api, f"order-{placed.order_id}") == ["OrderPlaced"]


def test_an_admin_cancels_any_order_and_a_cancelled_order_cannot_be_completed(
    api: ApiStack,
) -> None:
    placed = placed_order(api)

    cancelled = api.client.post(f"{ORDERS}/{placed.order_id}/cancel", headers=api.admin())
    completed = api.client.post(f"{ORDERS}/{placed.order_id}/complete", headers=api.admin())
    cancelled_again = api.client.post(f"{ORDERS}/{placed.order_id}/cancel", headers=placed.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert problem(completed, 409)["type"] == "/problems/order_not_new"
    assert problem(cancelled_again, 409)["type"] == "/problems/order_not_new"
    assert types(api, f"order-{placed.order_id}") == ["OrderPlaced", "OrderCancelled"]


def test_an_invalid_cancellation_reason_is_refused_with_its_pointer(api: ApiStack) -> None:
    placed = placed_order(api)

    answer = api.client.post(
        f"{ORDERS}/{placed.order_id}/cancel", json={"reason": "r" * 501}, headers=placed.headers
    )

    assert [e["pointer"] for e in problem(answer, 422)["errors"]] == ["#/reason"]
    assert types(api, f"order-{placed.order_id}") == ["OrderPlaced"]


def test_a_change_decided_on_a_stale_order_is_refused_and_writes_nothing(api: ApiStack) -> None:
    placed = placed_order(api)
    admin = api.admin()

    stale = api.client.post(
        f"{ORDERS}/{placed.order_id}/complete", headers={**admin, "If-Match": '"1"'}
    )

    problem(stale, 412)
    assert types(api, f"order-{placed.order_id}") == ["OrderPlaced"]


def test_an_admin_deletes_an_order_which_then_leaves_the_users_view(api: ApiStack) -> None:
    placed = placed_order(api)

    deleted = api.client.delete(f"{ORDERS}/{placed.order_id}", headers=api.admin())

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["events"] == ["OrderDeleted"]
    fresh = {"X-Min-Position": deleted.headers["X-Event-Position"]}
    problem(api.client.get(f"{ORDERS}/{placed.order_id}", headers={**placed.headers, **fresh}), 404)
    assert get(api, ORDERS, placed.headers).json()["items"] == []
    assert get(api, f"{ORDERS}/{placed.order_id}", api.admin()).json()["deleted"] is True
    with_deleted = get(
        api, ORDERS, api.admin(), buyer_id=str(placed.buyer_id), include_deleted="true"
    ).json()
    assert [o["order_id"] for o in with_deleted["items"]] == [str(placed.order_id)]


@pytest.mark.parametrize(
    ("method", "action"), [("POST", "/complete"), ("POST", "/cancel"), ("DELETE", "")]
)
def test_settling_an_unknown_order_is_not_found(api: ApiStack, method: str, action: str) -> None:
    answer = api.client.request(method, f"{ORDERS}/{uuid.uuid4()}{action}", headers=api.admin())

    assert problem(answer, 404)["type"] == "/problems/order_not_found"


# -- auth ---------------------------------------------------------------------------------------

# Fixed, so that every collection of the suite names these tests alike (pytest-xdist compares).
_SOME_ORDER = uuid.UUID("6f1c2a4e-8d3b-4f5a-9c7e-0b1d2e3f4a5b")
ROUTES = [
    ("GET", ORDERS),
    ("GET", f"{ORDERS}/{_SOME_ORDER}"),
    ("GET", f"{ORDERS}/{_SOME_ORDER}/saga"),
    ("POST", ORDERS),
    ("POST", f"{ORDERS}/{_SOME_ORDER}/complete"),
    ("POST", f"{ORDERS}/{_SOME_ORDER}/cancel"),
    ("DELETE", f"{ORDERS}/{_SOME_ORDER}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_token(api: ApiStack, method: str, path: str) -> None:
    answer = api.client.request(method, path)

    problem(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_reporter_has_no_business_with_orders(api: ApiStack, method: str, path: str) -> None:
    problem(api.client.request(method, path, headers=api.reporter()), 403)


def test_only_users_place_orders(api: ApiStack) -> None:
    problem(place(api, api.admin()), 403)


@pytest.mark.parametrize(
    ("method", "action"), [("GET", "/saga"), ("POST", "/complete"), ("DELETE", "")]
)
def test_a_user_cannot_settle_even_its_own_order(api: ApiStack, method: str, action: str) -> None:
    placed = placed_order(api)

    answer = api.client.request(
        method, f"{ORDERS}/{placed.order_id}{action}", headers=placed.headers
    )

    problem(answer, 403)
    assert types(api, f"order-{placed.order_id}") == ["OrderPlaced"]


def test_an_admin_reads_an_orders_saga(api: ApiStack) -> None:
    placed = placed_order(api)
    checked_out(api, placed)

    saga = eventually(
        lambda: saga_when(api, placed.order_id, lambda view: view["checked_out"] is True),
        "the saga shows the checkout",
    )

    assert (saga["order_id"], saga["state"], saga["attempts"]) == (
        str(placed.order_id),
        "Placed",
        1,
    )
    problem(api.client.get(f"{ORDERS}/{uuid.uuid4()}/saga", headers=api.admin()), 404)
