"""`/authors`, `/categories`, `/publishers` over HTTP: lists with versions, one by id with its
ETag, and the admin commands with their problems (422, 401, 403, 404, 409, 412)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiStack, Shelf
from write_side.catalog import (
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteCategory,
    DeletePublisher,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
)
from write_side.domain import Command, CommandResult


@dataclass(frozen=True)
class Kind:
    """One kind of reference as the API and the write side name it."""

    path: str
    category: str
    """The stream category (`author` in `author-{id}`) and the prefix of its rules."""
    max_name: int
    unique: bool
    create: Callable[..., Command]
    rename: Callable[..., Command]
    delete: Callable[..., Command]

    @property
    def url(self) -> str:
        return f"/api/v1/{self.path}"

    def new(self, api: ApiStack, name: str | None = None) -> CommandResult:
        """Given one, through the write side."""
        return api.send(self.create(name=name or unique_name(self.category)))

    def renamed(self, api: ApiStack, ref: uuid.UUID, name: str) -> CommandResult:
        """Given it renamed, through the write side."""
        return api.send(self.rename(**{f"{self.category}_id": ref, "name": name}))

    def deleted(self, api: ApiStack, ref: uuid.UUID) -> CommandResult:
        """Given it deleted, through the write side."""
        return api.send(self.delete(**{f"{self.category}_id": ref}))

    def used_by(self, shelf: Shelf) -> uuid.UUID:
        """The one of this kind a book on `shelf` uses."""
        id: uuid.UUID = getattr(shelf, f"{self.category}_id")
        return id


AUTHORS = Kind("authors", "author", 100, False, CreateAuthor, RenameAuthor, DeleteAuthor)
CATEGORIES = Kind(
    "categories", "category", 50, True, CreateCategory, RenameCategory, DeleteCategory
)
PUBLISHERS = Kind(
    "publishers", "publisher", 100, True, CreatePublisher, RenamePublisher, DeletePublisher
)
KINDS = [pytest.param(k, id=k.path) for k in (AUTHORS, CATEGORIES, PUBLISHERS)]
UNIQUE_KINDS = [pytest.param(k, id=k.path) for k in (CATEGORIES, PUBLISHERS)]


def unique_name(prefix: str) -> str:
    """A name no other test of the module uses."""
    return f"{prefix.title()} {uuid.uuid4().hex[:10]}"


def revision(api: ApiStack, stream: str) -> int:
    """The stream's revision, as the event store has it."""
    return api.platform.store.read_stream(stream)[-1].revision


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """Then: a problem details answer of this status (its body)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def listed(api: ApiStack, kind: Kind, position: int | None, ids: list[uuid.UUID]) -> list[Any]:
    """The items of the list that are among `ids` (the list holds every test's), in order."""
    answer = api.client.get(kind.url, headers=api.fresh(position))
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Read-Model-Stale"] == "false"
    wanted = {str(i) for i in ids}
    return [item for item in answer.json() if item["id"] in wanted]


# -- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_list_holds_the_live_ones_by_name_with_their_versions(
    api: ApiStack, kind: Kind
) -> None:
    tag = uuid.uuid4().hex[:8]
    zeta = kind.new(api, f"Zeta {tag}").aggregate_id
    alpha = kind.new(api, f"alpha {tag}").aggregate_id
    gone = kind.new(api, f"Beta {tag}").aggregate_id
    kind.renamed(api, zeta, f"Mid {tag}")
    last = kind.deleted(api, gone)

    items = listed(api, kind, last.position, [zeta, alpha, gone])

    assert items == [
        {"id": str(alpha), "name": f"alpha {tag}", "version": 0},
        {"id": str(zeta), "name": f"Mid {tag}", "version": 1},
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_one_by_id_has_its_revision_as_etag(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    renamed = kind.renamed(api, ref, unique_name("renamed"))

    answer = api.client.get(f"{kind.url}/{ref}", headers=api.fresh(renamed))

    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'"{revision(api, f"{kind.category}-{ref}")}"' == '"1"'
    assert answer.json()["version"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_or_deleted_one_is_not_found(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    deleted = kind.deleted(api, ref)

    gone = api.client.get(f"{kind.url}/{ref}", headers=api.fresh(deleted))
    problem(gone, 404)
    assert gone.headers["X-Read-Model-Stale"] == "false"
    problem(api.client.get(f"{kind.url}/{uuid.uuid4()}"), 404)
    body = problem(api.client.get(f"{kind.url}/not-an-id"), 422)
    assert body["errors"][0]["parameter"] == f"{kind.category}_id"


# -- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_create_answers_201_with_where_it_is(api: ApiStack, kind: Kind) -> None:
    name = unique_name(kind.category)

    answer = api.client.post(kind.url, json={"name": f"  {name} "}, headers=api.admin())

    assert answer.status_code == 201, answer.text
    created = answer.json()
    ref = created["id"]
    assert answer.headers["Location"] == f"/api/v1/{kind.path}/{ref}"
    assert created["stream"] == f"{kind.category}-{ref}"
    assert answer.headers["ETag"] == '"0"'
    assert created["events"] == [f"{kind.category.title()}Created"]
    shown = api.client.get(answer.headers["Location"], headers=api.fresh(created["position"]))
    assert shown.json() == {"id": ref, "name": name, "version": 0}


@pytest.mark.parametrize("kind", KINDS)
def test_create_again_with_the_same_key_adds_nothing(api: ApiStack, kind: Kind) -> None:
    headers = {**api.admin(), "Idempotency-Key": str(uuid.uuid4())}
    name = unique_name(kind.category)

    first = api.client.post(kind.url, json={"name": name}, headers=headers)
    again = api.client.post(kind.url, json={"name": name}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    answer = api.client.get(kind.url, headers=api.fresh(first.json()["position"]))
    assert [item["name"] for item in answer.json()].count(name) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "   "}, "#/name"),
        ({}, "#/name"),
        ({"name": 7}, "#/name"),
        ({"name": "Fine", "id": "mine"}, "#/id"),
    ],
)
def test_create_refuses_an_invalid_body(
    api: ApiStack, kind: Kind, body: dict[str, Any], pointer: str
) -> None:
    answer = api.client.post(kind.url, json=body, headers=api.admin())

    assert [e["pointer"] for e in problem(answer, 422)["errors"]] == [pointer]


@pytest.mark.parametrize("kind", KINDS)
def test_a_name_may_be_as_long_as_the_domain_says_and_no_longer(api: ApiStack, kind: Kind) -> None:
    longest = uuid.uuid4().hex + "x" * (kind.max_name - 32)

    fits = api.client.post(kind.url, json={"name": longest}, headers=api.admin())
    too_long = api.client.post(kind.url, json={"name": longest + "y"}, headers=api.admin())

    assert fits.status_code == 201, fits.text
    assert problem(too_long, 422)["errors"][0]["pointer"] == "#/name"


@pytest.mark.parametrize("kind", KINDS)
def test_create_is_for_admins(api: ApiStack, kind: Kind) -> None:
    body = {"name": unique_name(kind.category)}

    anonymous = api.client.post(kind.url, json=body)
    _, user = api.user()
    as_user = api.client.post(kind.url, json=body, headers=user)
    as_reporter = api.client.post(kind.url, json=body, headers=api.reporter())

    problem(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    problem(as_user, 403)
    problem(as_reporter, 403)
    # Nothing was created: the (unique) name is still free for an admin.
    assert api.client.post(kind.url, json=body, headers=api.admin()).status_code == 201


@pytest.mark.parametrize("kind", UNIQUE_KINDS)
def test_a_taken_name_is_a_conflict_until_freed(api: ApiStack, kind: Kind) -> None:
    name = unique_name(kind.category)
    first = kind.new(api, name).aggregate_id
    other = kind.new(api).aggregate_id

    taken = api.client.post(kind.url, json={"name": f" {name.upper()} "}, headers=api.admin())
    renamed = api.client.put(f"{kind.url}/{other}", json={"name": name}, headers=api.admin())

    assert problem(taken, 409)["type"] == f"/problems/{kind.category}_name_taken"
    assert problem(renamed, 409)["type"] == f"/problems/{kind.category}_name_taken"
    assert revision(api, f"{kind.category}-{other}") == 0
    kind.deleted(api, first)
    again = api.client.post(kind.url, json={"name": name}, headers=api.admin())
    assert again.status_code == 201, again.text


def test_author_names_need_not_be_unique(api: ApiStack) -> None:
    name = unique_name("author")
    AUTHORS.new(api, name)

    answer = api.client.post(AUTHORS.url, json={"name": name}, headers=api.admin())

    assert answer.status_code == 201, answer.text


# -- rename -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_rename_with_the_current_etag(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    name = unique_name("renamed")

    answer = api.client.put(
        f"{kind.url}/{ref}", json={"name": name}, headers={**api.admin(), "If-Match": '"0"'}
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == '"1"'
    assert revision(api, f"{kind.category}-{ref}") == answer.json()["revision"] == 1
    shown = api.client.get(f"{kind.url}/{ref}", headers=api.fresh(answer.json()["position"]))
    assert shown.json() == {"id": str(ref), "name": name, "version": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_rename_with_a_stale_etag_writes_nothing(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    kind.renamed(api, ref, unique_name("renamed"))
    stream = f"{kind.category}-{ref}"
    before = revision(api, stream)

    answer = api.client.put(
        f"{kind.url}/{ref}",
        json={"name": unique_name("stale")},
        headers={**api.admin(), "If-Match": '"0"'},
    )

    assert problem(answer, 412)["type"] == "/problems/stale_version"
    assert revision(api, stream) == before == 1


@pytest.mark.parametrize("kind", KINDS)
def test_rename_problems(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    url = f"{kind.url}/{ref}"
    name = {"name": unique_name("renamed")}
    _, user = api.user()

    problem(api.client.put(url, json=name), 401)
    problem(api.client.put(url, json=name, headers=user), 403)
    invalid = problem(api.client.put(url, json={"name": ""}, headers=api.admin()), 422)
    assert invalid["errors"][0]["pointer"] == "#/name"
    assert revision(api, f"{kind.category}-{ref}") == 0
    missing = api.client.put(f"{kind.url}/{uuid.uuid4()}", json=name, headers=api.admin())
    assert problem(missing, 404)["type"] == f"/problems/{kind.category}_not_found"
    kind.deleted(api, ref)
    deleted = problem(api.client.put(url, json=name, headers=api.admin()), 409)
    assert deleted["type"] == f"/problems/{kind.category}_deleted"


# -- delete -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_delete_takes_it_off_the_list(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id

    answer = api.client.delete(f"{kind.url}/{ref}", headers={**api.admin(), "If-Match": '"0"'})

    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == [f"{kind.category.title()}Deleted"]
    assert answer.headers["ETag"] == f'"{revision(api, f"{kind.category}-{ref}")}"' == '"1"'
    assert listed(api, kind, answer.json()["position"], [ref]) == []
    again = api.client.delete(f"{kind.url}/{ref}", headers=api.admin())
    assert problem(again, 409)["type"] == f"/problems/{kind.category}_deleted"


@pytest.mark.parametrize("kind", KINDS)
def test_delete_problems(api: ApiStack, kind: Kind) -> None:
    ref = kind.new(api).aggregate_id
    kind.renamed(api, ref, unique_name("renamed"))
    url = f"{kind.url}/{ref}"
    _, user = api.user()

    problem(api.client.delete(url), 401)
    problem(api.client.delete(url, headers=user), 403)
    problem(api.client.delete(url, headers={**api.admin(), "If-Match": '"0"'}), 412)
    missing = api.client.delete(f"{kind.url}/{uuid.uuid4()}", headers=api.admin())

    assert problem(missing, 404)["type"] == f"/problems/{kind.category}_not_found"
    assert revision(api, f"{kind.category}-{ref}") == 1


@pytest.mark.parametrize("kind", KINDS)
def test_delete_of_one_a_book_uses_is_a_conflict(api: ApiStack, kind: Kind) -> None:
    shelf = api.shelf()
    book = api.book(shelf)
    # The check reads the catalog query model: let it see the book first.
    seen = api.client.get(f"/api/v1/books/{book.aggregate_id}", headers=api.fresh(book))
    assert seen.status_code == 200, seen.text
    ref = kind.used_by(shelf)

    answer = api.client.delete(f"{kind.url}/{ref}", headers=api.admin())

    assert problem(answer, 409)["type"] == f"/problems/{kind.category}_in_use"
    assert revision(api, f"{kind.category}-{ref}") == 0
