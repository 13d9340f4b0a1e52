"""`/buyers`: a user's own buyer record, and every buyer for admins."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiStack
from write_side.eventstore import StreamNotFound
from write_side.ordering import Address, ChangeBuyerAddress

BUYERS = "/api/v1/buyers"


def new_buyer(**changes: Any) -> dict[str, Any]:
    """A valid body of `POST /buyers`, with `changes`."""
    body: dict[str, Any] = {
        "name": "Grace Reader",
        "email": "grace@example.com",
        "address": {"street": "2 Quay Street", "city": "Fowey", "province": "Cornwall"},
    }
    body.update(changes)
    return body


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The problem details of an error answer, checked to have `status`."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def revisions(api: ApiStack, stream: str) -> list[int]:
    """The revisions of a stream's events (none when it was never written)."""
    try:
        return [event.revision for event in api.platform.store.read_stream(stream)]
    except StreamNotFound:
        return []


def settled(api: ApiStack, buyer_id: uuid.UUID) -> dict[str, str]:
    """`X-Min-Position` for the last event of a buyer's stream."""
    return api.fresh(api.platform.store.read_stream(f"buyer-{buyer_id}")[-1].position)


def fresh(answer: httpx.Response) -> dict[str, str]:
    """`X-Min-Position` for what a command answer wrote (read-your-writes)."""
    return {"X-Min-Position": answer.headers["X-Event-Position"]}


# -- the caller's own record --------------------------------------------------------------------


def test_a_user_becomes_a_buyer_and_reads_its_record(api: ApiStack) -> None:
    user_id, headers = api.user()

    created = api.client.post(BUYERS, json=new_buyer(name="  Grace Reader "), headers=headers)

    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/v1/buyers/me"
    assert created.headers["ETag"] == '"0"'
    assert created.json()["id"] == str(user_id)
    assert created.json()["events"] == ["BuyerCreated"]
    me = api.client.get(f"{BUYERS}/me", headers={**headers, **fresh(created)})
    assert me.status_code == 200, me.text
    assert me.headers["ETag"] == '"0"'
    assert me.headers["X-Read-Model-Stale"] == "false"
    body = me.json()
    assert body["buyer_id"] == str(user_id)
    assert (body["name"], body["email"]) == ("Grace Reader", "grace@example.com")
    assert body["address"] == {"street": "2 Quay Street", "city": "Fowey", "province": "Cornwall"}
    assert (body["deleted"], body["erased"], body["version"]) == (False, False, 0)


def test_a_user_is_a_buyer_once(api: ApiStack) -> None:
    user_id, headers = api.buyer()

    again = api.client.post(BUYERS, json=new_buyer(), headers=headers)

    assert problem(again, 409)["type"] == "/problems/buyer_exists"
    assert revisions(api, f"buyer-{user_id}") == [0]


def test_a_retried_creation_answers_the_first_answer_and_writes_once(api: ApiStack) -> None:
    user_id, headers = api.user()
    keyed = {**headers, "Idempotency-Key": f"create-buyer-{uuid.uuid4()}"}

    first = api.client.post(BUYERS, json=new_buyer(), headers=keyed)
    retry = api.client.post(BUYERS, json=new_buyer(), headers=keyed)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert revisions(api, f"buyer-{user_id}") == [0]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (new_buyer(address={"street": "2 Quay Street", "province": "Cornwall"}), "#/address/city"),
        (
            new_buyer(address={"street": "2 Quay Street", "city": "   ", "province": "Cornwall"}),
            "#/address/city",
        ),
        (
            new_buyer(address={"street": "x" * 51, "city": "Fowey", "province": "Cornwall"}),
            "#/address/street",
        ),
        (new_buyer(name="n" * 101), "#/name"),
        (new_buyer(email="grace.example.com"), "#/email"),
        (new_buyer(nickname="Gee"), "#/nickname"),
    ],
)
def test_an_invalid_buyer_is_refused_field_by_field_and_nothing_is_written(
    api: ApiStack, body: dict[str, Any], pointer: str
) -> None:
    user_id, headers = api.user()

    answer = api.client.post(BUYERS, json=body, headers=headers)

    errors = problem(answer, 422)["errors"]
    assert [error["pointer"] for error in errors] == [pointer]
    assert revisions(api, f"buyer-{user_id}") == []


def test_a_buyer_moves_with_if_match(api: ApiStack) -> None:
    user_id, headers = api.buyer()
    address = {"street": "3 Fore Street", "city": "Looe", "province": "Cornwall"}

    moved = api.client.put(
        f"{BUYERS}/me/address", json=address, headers={**headers, "If-Match": '"0"'}
    )

    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == '"1"'
    assert moved.json()["events"] == ["BuyerAddressChanged"]
    me = api.client.get(f"{BUYERS}/me", headers={**headers, **fresh(moved)})
    assert me.json()["address"] == address
    assert me.headers["ETag"] == '"1"'
    assert revisions(api, f"buyer-{user_id}") == [0, 1]


def test_a_move_decided_on_a_stale_record_is_refused_and_writes_nothing(api: ApiStack) -> None:
    user_id, headers = api.buyer()
    elsewhere = Address(street="9 Market Place", city="Truro", province="Cornwall")
    api.send(ChangeBuyerAddress(buyer_id=user_id, address=elsewhere))  # revision 1 now
    address = {"street": "3 Fore Street", "city": "Looe", "province": "Cornwall"}

    stale = api.client.put(
        f"{BUYERS}/me/address", json=address, headers={**headers, "If-Match": '"0"'}
    )

    problem(stale, 412)
    assert revisions(api, f"buyer-{user_id}") == [0, 1]


def test_an_invalid_address_is_refused_with_its_pointer(api: ApiStack) -> None:
    user_id, headers = api.buyer()
    address = {"street": "3 Fore Street", "city": "c" * 51, "province": "Cornwall"}

    answer = api.client.put(f"{BUYERS}/me/address", json=address, headers=headers)

    assert [e["pointer"] for e in problem(answer, 422)["errors"]] == ["#/city"]
    assert revisions(api, f"buyer-{user_id}") == [0]


def test_a_user_who_is_no_buyer_has_no_record_to_read_or_move(api: ApiStack) -> None:
    user_id, headers = api.user()
    address = {"street": "3 Fore Street", "city": "Looe", "province": "Cornwall"}

    problem(api.client.get(f"{BUYERS}/me", headers=headers), 404)
    problem(api.client.put(f"{BUYERS}/me/address", json=address, headers=headers), 404)
    assert revisions(api, f"buyer-{user_id}") == []


def test_a_user_reads_and_moves_only_its_own_record(api: ApiStack) -> None:
    owner_id, _owner = api.buyer()
    other_id, other = api.buyer()
    address = {"street": "3 Fore Street", "city": "Looe", "province": "Cornwall"}

    # The admin routes are closed to users; `/me` is always the caller's own record.
    problem(api.client.get(f"{BUYERS}/{owner_id}", headers=other), 403)
    moved = api.client.put(f"{BUYERS}/me/address", json=address, headers=other)
    mine = api.client.get(f"{BUYERS}/me", headers={**other, **fresh(moved)})

    assert moved.status_code == 200, moved.text
    assert moved.json()["id"] == str(other_id)
    assert mine.status_code == 200, mine.text
    assert mine.json()["buyer_id"] == str(other_id)
    assert revisions(api, f"buyer-{owner_id}") == [0]
    assert revisions(api, f"buyer-{other_id}") == [0, 1]


# -- auth -----------------------------------------------------------------------------------------

# Fixed, so that every collection of the suite names these tests alike (pytest-xdist compares).
_SOMEONE = uuid.UUID("3a9d5c7e-1f2b-4c8d-a6e0-9b4f7d2c1e8a")
ROUTES = [
    ("POST", BUYERS, new_buyer()),
    ("GET", f"{BUYERS}/me", None),
    ("PUT", f"{BUYERS}/me/address", new_buyer()["address"]),
    ("GET", BUYERS, None),
    ("GET", f"{BUYERS}/{_SOMEONE}", None),
    ("DELETE", f"{BUYERS}/{_SOMEONE}", None),
    ("POST", f"{BUYERS}/{_SOMEONE}/forget", None),
]
USER_ROUTES = ROUTES[:3]
ADMIN_ROUTES = ROUTES[3:]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_token(
    api: ApiStack, method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = api.client.request(method, path, json=body)

    problem(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES)
def test_the_own_record_routes_are_for_users(
    api: ApiStack, method: str, path: str, body: dict[str, Any] | None
) -> None:
    problem(api.client.request(method, path, json=body, headers=api.admin()), 403)
    problem(api.client.request(method, path, json=body, headers=api.reporter()), 403)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_the_buyer_administration_routes_are_for_admins(
    api: ApiStack, method: str, path: str, body: dict[str, Any] | None
) -> None:
    _user_id, user = api.buyer()

    problem(api.client.request(method, path, json=body, headers=user), 403)
    problem(api.client.request(method, path, json=body, headers=api.reporter()), 403)


# -- every buyer (admin) --------------------------------------------------------------------------


def test_an_admin_pages_through_every_buyer(api: ApiStack) -> None:
    ids = [api.buyer()[0] for _ in range(3)]
    last = api.send(ChangeBuyerAddress(buyer_id=ids[-1], address=Address(**new_buyer()["address"])))

    first = api.client.get(
        BUYERS, params={"page_size": 2}, headers={**api.admin(), **api.fresh(last)}
    )

    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["page"], page["page_size"], len(page["items"])) == (1, 2, 2)
    assert page["total_items"] >= 3
    assert (page["has_previous"], page["has_next"]) == (False, True)
    assert first.headers["Pagination-Count"] == str(page["total_items"])
    assert re.findall(r'rel="(\w+)"', first.headers["Link"]) == ["first", "next", "last"]
    everyone = api.client.get(BUYERS, params={"page_size": 100}, headers=api.admin()).json()
    listed = [item["buyer_id"] for item in everyone["items"]]
    assert [listed.index(str(i)) for i in ids] == sorted(listed.index(str(i)) for i in ids)


def test_paging_out_of_range_is_a_validation_problem(api: ApiStack) -> None:
    answer = api.client.get(BUYERS, params={"page_size": 101}, headers=api.admin())

    assert [e["parameter"] for e in problem(answer, 422)["errors"]] == ["page_size"]


def test_an_admin_reads_any_buyer(api: ApiStack) -> None:
    buyer_id, _headers = api.buyer()

    answer = api.client.get(
        f"{BUYERS}/{buyer_id}", headers={**api.admin(), **settled(api, buyer_id)}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["buyer_id"] == str(buyer_id)
    assert answer.headers["ETag"] == '"0"'
    problem(api.client.get(f"{BUYERS}/{uuid.uuid4()}", headers=api.admin()), 404)
    not_an_id = problem(api.client.get(f"{BUYERS}/not-an-id", headers=api.admin()), 422)
    assert [e["parameter"] for e in not_an_id["errors"]] == ["buyer_id"]


def test_an_admin_deletes_a_buyer(api: ApiStack) -> None:
    buyer_id, _headers = api.buyer()

    deleted = api.client.delete(f"{BUYERS}/{buyer_id}", headers=api.admin())

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["events"] == ["BuyerDeleted"]
    shown = api.client.get(f"{BUYERS}/{buyer_id}", headers={**api.admin(), **fresh(deleted)})
    assert shown.json()["deleted"] is True
    assert shown.json()["name"] == "Ada Reader"
    problem(api.client.delete(f"{BUYERS}/{uuid.uuid4()}", headers=api.admin()), 404)


def test_a_deletion_decided_on_a_stale_record_is_refused(api: ApiStack) -> None:
    buyer_id, _headers = api.buyer()
    api.send(ChangeBuyerAddress(buyer_id=buyer_id, address=Address(**new_buyer()["address"])))

    stale = api.client.delete(f"{BUYERS}/{buyer_id}", headers={**api.admin(), "If-Match": '"0"'})

    problem(stale, 412)
    assert revisions(api, f"buyer-{buyer_id}") == [0, 1]


def test_a_forgotten_buyer_reads_as_erased_and_moves_no_more(api: ApiStack) -> None:
    buyer_id, headers = api.buyer()

    forgotten = api.client.post(f"{BUYERS}/{buyer_id}/forget", headers=api.admin())

    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json()["events"] == ["BuyerForgotten"]
    me = api.client.get(f"{BUYERS}/me", headers={**headers, **fresh(forgotten)}).json()
    assert me["erased"] is True
    assert {me["name"], me["email"], *me["address"].values()} == {"[erased]"}
    move = api.client.put(f"{BUYERS}/me/address", json=new_buyer()["address"], headers=headers)
    assert problem(move, 409)["type"] == "/problems/buyer_forgotten"
    problem(api.client.post(f"{BUYERS}/{uuid.uuid4()}/forget", headers=api.admin()), 404)
