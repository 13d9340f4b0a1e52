"""`/books` and `/images` over HTTP: the paged list (filters, sort, paging headers), the detail
with its ETag, every admin command with its problems (422, 401, 403, 404, 409, 412), and image
uploads (415, 413, 422, the stored file, served back)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiStack, Shelf
from write_side.catalog import (
    Book,
    BookStatus,
    ChangeBookPrice,
    DeleteBook,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.domain import CommandResult

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(100))
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(range(28))
MIB = 1024 * 1024


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


def detail(api: ApiStack, book_id: uuid.UUID, after: CommandResult | int | None) -> httpx.Response:
    """The book's detail once the catalog has passed `after`."""
    answer: httpx.Response = api.client.get(f"/api/v1/books/{book_id}", headers=api.fresh(after))
    assert answer.headers.get("X-Read-Model-Stale") == "false"
    return answer


def names(api: ApiStack, after: CommandResult | None, **query: Any) -> list[str]:
    """The names on the page `query` answers (once the catalog has passed `after`)."""
    answer = api.client.get("/api/v1/books", params=query, headers=api.fresh(after))
    assert answer.status_code == 200, answer.text
    return [item["name"].split()[0] for item in answer.json()["items"]]


# -- the list -----------------------------------------------------------------------------------


def test_pages_carry_link_and_count_headers(api: ApiStack) -> None:
    shelf = api.shelf()
    books = [api.book(shelf, name=f"Volume {n}") for n in (1, 2, 3)]
    api.send(SetBookStock(book_id=books[0].aggregate_id, status=BookStatus.OUT_OF_STOCK))
    last = api.book(shelf, name="Volume 0")
    query = {"category_id": str(shelf.category_id), "page_size": 3}

    first = api.client.get("/api/v1/books", params=query, headers=api.fresh(last))

    assert first.status_code == 200, first.text
    assert first.headers["Pagination-Count"] == "4"
    page = first.json()
    assert (page["page"], page["total_items"], page["total_pages"]) == (1, 4, 2)
    assert (page["has_previous"], page["has_next"]) == (False, True)
    assert [i["name"] for i in page["items"]] == ["Volume 0", "Volume 1", "Volume 2"]
    assert [i["version"] for i in page["items"]] == [0, 1, 0]
    links = httpx.Headers(first.headers).get_list("Link", split_commas=True)
    rels = {link.split('rel="')[1].rstrip('"'): link for link in links}
    assert set(rels) == {"first", "next", "last"}
    assert "page=2" in rels["next"]
    assert f"category_id={shelf.category_id}" in rels["next"]
    second = api.client.get(rels["next"].split(">")[0].lstrip("<"))
    assert [i["name"] for i in second.json()["items"]] == ["Volume 3"]
    assert 'rel="prev"' in second.headers["Link"]
    assert 'rel="next"' not in second.headers["Link"]
    assert second.headers["Pagination-Count"] == "4"


@dataclass(frozen=True)
class Library:
    """Four books of one test: Alpha, beta, Gamma in category a, Delta in category b."""

    a: Shelf
    b: Shelf
    tag: str
    last: CommandResult


@pytest.fixture
def library(api: ApiStack) -> Library:
    """Alpha 10.00 (a); beta 20.00/15.00 (a, authors a and b); Gamma 30.00 (a, publisher b,
    out of stock); Delta 25.00 (b); created in this order."""
    a, b, tag = api.shelf(), api.shelf(), uuid.uuid4().hex[:8]
    api.book(a, name=f"Alpha {tag}", price=Decimal("10.00"))
    api.book(
        a,
        name=f"beta {tag}",
        price=Decimal("20.00"),
        discount_price=Decimal("15.00"),
        author_ids=(a.author_id, b.author_id),
    )
    gamma = api.book(a, name=f"Gamma {tag}", price=Decimal("30.00"), publisher_id=b.publisher_id)
    api.send(SetBookStock(book_id=gamma.aggregate_id, status=BookStatus.OUT_OF_STOCK))
    last = api.book(b, name=f"Delta {tag}", price=Decimal("25.00"))
    return Library(a, b, tag, last)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "Alpha beta Gamma"),
        ({"sort": "price", "descending": True}, "Gamma beta Alpha"),
        ({"sort": "discount_price"}, "beta Alpha Gamma"),
        ({"sort": "newest"}, "Gamma beta Alpha"),
        ({"sort": "status", "descending": True}, "Gamma Alpha beta"),
        ({"min_price": "15", "max_price": "20"}, "beta"),
        ({"max_price": "19.99"}, "Alpha"),
        ({"in_stock_only": True}, "Alpha beta"),
        ({"publisher_id": "<b>"}, "Gamma"),
    ],
)
def test_filters_and_sort_within_a_category(
    api: ApiStack, library: Library, query: dict[str, Any], expected: str
) -> None:
    given = {k: str(library.b.publisher_id) if v == "<b>" else v for k, v in query.items()}

    found = names(api, library.last, category_id=str(library.a.category_id), **given)

    assert found == expected.split()


def test_any_of_the_categories_authors_and_words(api: ApiStack, library: Library) -> None:
    a, b = library.a, library.b
    both = [str(a.category_id), str(b.category_id)]

    assert names(api, library.last, category_id=both) == ["Alpha", "beta", "Delta", "Gamma"]
    assert names(api, None, author_id=str(b.author_id)) == ["beta", "Delta"]
    assert names(api, None, author_id=[str(a.author_id), str(b.author_id)]) == [
        "Alpha",
        "beta",
        "Delta",
        "Gamma",
    ]
    assert names(api, None, text=f"gamma {library.tag}") == ["Gamma"]
    assert names(api, None, category_id=str(uuid.uuid4())) == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page": 0}, "page"),
        ({"sort": "colour"}, "sort"),
        ({"min_price": "-1"}, "min_price"),
        ({"category_id": "poetry"}, "category_id"),
        ({"min_price": "20", "max_price": "10"}, "max_price"),
    ],
)
def test_an_invalid_query_is_422_naming_the_parameter(
    api: ApiStack, query: dict[str, Any], parameter: str
) -> None:
    answer = api.client.get("/api/v1/books", params=query)

    assert [e["parameter"] for e in problem(answer, 422)["errors"]] == [parameter]


def test_an_upside_down_price_range_says_which_way_up(api: ApiStack) -> None:
    answer = api.client.get("/api/v1/books", params={"min_price": "20", "max_price": "10"})

    assert problem(answer, 422)["errors"] == [
        {"parameter": "max_price", "detail": "must be at least min_price (20)"}
    ]
    same = api.client.get("/api/v1/books", params={"min_price": "10", "max_price": "10"})
    assert same.status_code == 200  # inclusive: a range of one price is a fair question


# -- the detail ---------------------------------------------------------------------------------


def test_the_detail_etag_is_the_book_revision(api: ApiStack) -> None:
    book = api.book(description="A lighthouse keeper's last winter.")
    book_id = book.aggregate_id
    stream = f"book-{book_id}"
    first = detail(api, book_id, book)
    cached = api.client.get(f"/api/v1/books/{book_id}")  # no wait: from the cache
    changed = api.send(ChangeBookPrice(book_id=book_id, price=Decimal("12.50")))

    then = detail(api, book_id, changed)

    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == cached.headers["ETag"] == '"0"'
    assert first.json()["description"] == "A lighthouse keeper's last winter."
    assert cached.content == first.content
    assert then.headers["ETag"] == f'"{revision(api, stream)}"' == '"1"'
    assert (then.json()["version"], then.json()["price"]) == (1, "12.50")


def test_an_unknown_or_deleted_book_is_not_found(api: ApiStack) -> None:
    book = api.book()
    deleted = api.send(DeleteBook(book_id=book.aggregate_id))

    problem(detail(api, book.aggregate_id, deleted), 404)
    problem(api.client.get(f"/api/v1/books/{uuid.uuid4()}"), 404)
    invalid = problem(api.client.get("/api/v1/books/not-a-book"), 422)
    assert invalid["errors"][0]["parameter"] == "book_id"


# -- create -------------------------------------------------------------------------------------


def new_book(shelf: Shelf, **changes: Any) -> dict[str, Any]:
    """A valid body of `POST /books` on the shelf, with `changes`."""
    body = {
        "name": f"The Quiet Harbour {uuid.uuid4().hex[:6]}",
        "description": "A lighthouse keeper's last winter.",
        "price": "18.50",
        "discount_price": "14.99",
        "category_id": str(shelf.category_id),
        "publisher_id": str(shelf.publisher_id),
        "author_ids": [str(shelf.author_id)],
    }
    return body | changes


def test_create_answers_201_with_where_the_book_is(api: ApiStack) -> None:
    shelf = api.shelf()
    body = new_book(shelf)

    answer = api.client.post("/api/v1/books", json=body, headers=api.admin())

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert answer.headers["Location"] == f"/api/v1/books/{created['id']}"
    assert answer.headers["ETag"] == '"0"'
    assert created["events"] == ["BookCreated"]
    shown = api.client.get(answer.headers["Location"], headers=api.fresh(created["position"]))
    book = shown.json()
    assert (book["name"], book["price"], book["discount_price"]) == (body["name"], "18.50", "14.99")
    assert (book["status"], book["version"]) == ("InStock", 0)
    assert book["category"]["id"] == str(shelf.category_id)
    assert [a["id"] for a in book["authors"]] == [str(shelf.author_id)]


def test_create_again_with_the_same_key_adds_no_second_book(api: ApiStack) -> None:
    shelf = api.shelf()
    body = new_book(shelf)
    headers = {**api.admin(), "Idempotency-Key": str(uuid.uuid4())}

    first = api.client.post("/api/v1/books", json=body, headers=headers)
    again = api.client.post("/api/v1/books", json=body, headers=headers)

    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.client.get(
        "/api/v1/books",
        params={"category_id": str(shelf.category_id)},
        headers=api.fresh(first.json()["position"]),
    )
    assert listed.json()["total_items"] == 1


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"price": "0"}, "#/price"),
        ({"price": "10.00", "discount_price": "10.01"}, "#/discount_price"),
        ({"name": "x" * 51}, "#/name"),
        ({"name": "  "}, "#/name"),
        ({"description": "x" * 501}, "#/description"),
        ({"author_ids": []}, "#/author_ids"),
        ({"category_id": "poetry"}, "#/category_id"),
        ({"stock": 3}, "#/stock"),
    ],
)
def test_create_refuses_an_invalid_body(
    api: ApiStack, changes: dict[str, Any], pointer: str
) -> None:
    body = new_book(api.shelf(), **changes)

    answer = api.client.post("/api/v1/books", json=body, headers=api.admin())

    assert [e["pointer"] for e in problem(answer, 422)["errors"]] == [pointer]


def test_create_refuses_references_that_do_not_exist(api: ApiStack) -> None:
    shelf = api.shelf()
    missing = str(uuid.uuid4())

    category = api.client.post(
        "/api/v1/books", json=new_book(shelf, category_id=missing), headers=api.admin()
    )
    author = api.client.post(
        "/api/v1/books",
        json=new_book(shelf, author_ids=[str(shelf.author_id), missing]),
        headers=api.admin(),
    )

    assert problem(category, 422)["errors"][0]["pointer"] == "#/category_id"
    assert problem(author, 422)["errors"][0]["pointer"] == "#/author_ids/1"


def test_create_is_for_admins(api: ApiStack) -> None:
    shelf = api.shelf()
    _, user = api.user()

    anonymous = api.client.post("/api/v1/books", json=new_book(shelf))
    as_user = api.client.post("/api/v1/books", json=new_book(shelf), headers=user)

    problem(anonymous, 401)
    problem(as_user, 403)
    listed = api.client.get("/api/v1/books", params={"category_id": str(shelf.category_id)})
    assert listed.json()["total_items"] == 0


# -- every command on a book ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """An admin command on a book: how to send it, a body it refuses, and what it changes."""

    name: str
    method: str
    suffix: str
    body: Callable[[Shelf], dict[str, Any]] | None
    invalid: tuple[dict[str, Any] | bytes, str] | None
    changed: Callable[[dict[str, Any], Shelf], bool]
    image: bool = False

    def send(
        self, api: ApiStack, book_id: uuid.UUID, other: Shelf, headers: dict[str, str]
    ) -> httpx.Response:
        """Send it with a valid body (moving the book to `other` where it moves it)."""
        url = f"/api/v1/books/{book_id}{self.suffix}"
        if self.image:
            headers = {**headers, "Content-Type": "image/png"}
            sent: httpx.Response = api.client.request(
                self.method, url, content=PNG, headers=headers
            )
            return sent
        body = None if self.body is None else self.body(other)
        sent = api.client.request(self.method, url, json=body, headers=headers)
        return sent


ROUTES = [
    Route(
        "details",
        "PUT",
        "",
        lambda _: {"name": "Renamed", "description": "New text."},
        ({"name": ""}, "#/name"),
        lambda book, _: (book["name"], book["description"]) == ("Renamed", "New text."),
    ),
    Route(
        "price",
        "PUT",
        "/price",
        lambda _: {"price": "12.00", "discount_price": "9.50"},
        ({"price": "12.00", "discount_price": "13.00"}, "#/discount_price"),
        lambda book, _: (book["price"], book["discount_price"]) == ("12.00", "9.50"),
    ),
    Route(
        "authors",
        "PUT",
        "/authors",
        lambda other: {"author_ids": [str(other.author_id)]},
        ({"author_ids": []}, "#/author_ids"),
        lambda book, other: [a["id"] for a in book["authors"]] == [str(other.author_id)],
    ),
    Route(
        "category",
        "PUT",
        "/category",
        lambda other: {"category_id": str(other.category_id)},
        ({"category_id": "poetry"}, "#/category_id"),
        lambda book, other: book["category"]["id"] == str(other.category_id),
    ),
    Route(
        "publisher",
        "PUT",
        "/publisher",
        lambda other: {"publisher_id": str(other.publisher_id)},
        ({"publisher_id": None}, "#/publisher_id"),
        lambda book, other: book["publisher"]["id"] == str(other.publisher_id),
    ),
    Route(
        "stock",
        "PUT",
        "/stock",
        lambda _: {"status": "OutOfStock"},
        ({"status": "Gone"}, "#/status"),
        lambda book, _: book["status"] == "OutOfStock",
    ),
    Route(
        "image",
        "PUT",
        "/image",
        None,
        (JPEG, "#"),  # sent as image/png
        lambda book, _: book["image"].endswith(".png"),
        image=True,
    ),
    Route("delete", "DELETE", "", None, None, lambda _book, _other: True),
]
EVERY_ROUTE = [pytest.param(r, id=r.name) for r in ROUTES]


@pytest.mark.parametrize("route", EVERY_ROUTE)
def test_each_command_with_the_current_etag(api: ApiStack, route: Route) -> None:
    book_id, other = api.book().aggregate_id, api.shelf()

    answer = route.send(api, book_id, other, {**api.admin(), "If-Match": '"0"'})

    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'"{revision(api, f"book-{book_id}")}"' == '"1"'
    assert answer.json()["revision"] == 1
    shown = detail(api, book_id, int(answer.headers["X-Event-Position"]))
    if route.name == "delete":
        problem(shown, 404)
    else:
        assert shown.headers["ETag"] == '"1"'
        assert route.changed(shown.json(), other), shown.json()


@pytest.mark.parametrize("route", EVERY_ROUTE)
def test_each_command_with_a_stale_etag_writes_nothing(api: ApiStack, route: Route) -> None:
    book_id, other = api.book().aggregate_id, api.shelf()
    api.send(UpdateBookDetails(book_id=book_id, name="Moved on"))

    answer = route.send(api, book_id, other, {**api.admin(), "If-Match": '"0"'})

    assert problem(answer, 412)["type"] == "/problems/stale_version"
    assert revision(api, f"book-{book_id}") == 1


@pytest.mark.parametrize("route", EVERY_ROUTE)
def test_each_command_is_for_admins(api: ApiStack, route: Route) -> None:
    book_id, other = api.book().aggregate_id, api.shelf()
    _, user = api.user()

    anonymous = route.send(api, book_id, other, {})
    as_user = route.send(api, book_id, other, user)
    as_reporter = route.send(api, book_id, other, api.reporter())

    problem(anonymous, 401)
    problem(as_user, 403)
    problem(as_reporter, 403)
    assert revision(api, f"book-{book_id}") == 0


@pytest.mark.parametrize("route", EVERY_ROUTE)
def test_each_command_on_an_unknown_book_is_not_found(api: ApiStack, route: Route) -> None:
    answer = route.send(api, uuid.uuid4(), api.shelf(), api.admin())

    assert problem(answer, 404)["type"] == "/problems/book_not_found"


@pytest.mark.parametrize("route", EVERY_ROUTE)
def test_a_deleted_book_takes_no_command(api: ApiStack, route: Route) -> None:
    book_id, other = api.book().aggregate_id, api.shelf()
    api.send(DeleteBook(book_id=book_id))

    answer = route.send(api, book_id, other, api.admin())

    assert problem(answer, 409)["type"] == "/problems/book_deleted"
    assert revision(api, f"book-{book_id}") == 1


@pytest.mark.parametrize("route", [pytest.param(r, id=r.name) for r in ROUTES if r.invalid])
def test_each_command_refuses_an_invalid_body(api: ApiStack, route: Route) -> None:
    book_id = api.book().aggregate_id
    assert route.invalid is not None
    body, pointer = route.invalid
    url = f"/api/v1/books/{book_id}{route.suffix}"

    if isinstance(body, bytes):
        headers = {**api.admin(), "Content-Type": "image/png"}
        answer = api.client.request(route.method, url, content=body, headers=headers)
    else:
        answer = api.client.request(route.method, url, json=body, headers=api.admin())

    assert [e["pointer"] for e in problem(answer, 422)["errors"]] == [pointer]
    assert revision(api, f"book-{book_id}") == 0


# -- images -------------------------------------------------------------------------------------


def upload(
    api: ApiStack, book_id: uuid.UUID, data: bytes, content_type: str | None, **headers: str
) -> httpx.Response:
    """`PUT /books/{id}/image` as an admin."""
    sent = {**api.admin(), **headers}
    if content_type is not None:
        sent["Content-Type"] = content_type
    answer: httpx.Response = api.client.put(
        f"/api/v1/books/{book_id}/image", content=data, headers=sent
    )
    return answer


def stored(api: ApiStack, book_id: uuid.UUID) -> list[str]:
    """The names of the book's stored images."""
    folder = api.settings.data_dir / "images"
    return sorted(p.name for p in folder.glob(f"{book_id}-*")) if folder.exists() else []


@pytest.mark.parametrize(
    ("data", "content_type", "extension"),
    [(PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"), (WEBP, "image/webp", "webp")],
)
def test_an_uploaded_image_is_named_in_the_book_and_served(
    api: ApiStack, data: bytes, content_type: str, extension: str
) -> None:
    book_id = api.book(name="Harbour Lights", description="Fog.").aggregate_id

    answer = upload(api, book_id, data, f"{content_type}; charset=binary")

    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == ["BookDetailsUpdated"]
    name = f"{book_id}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
    assert stored(api, book_id) == [name]
    book = detail(api, book_id, answer.json()["position"]).json()
    assert (book["image"], book["name"], book["description"]) == (name, "Harbour Lights", "Fog.")
    served = api.client.get(f"/api/v1/images/{name}")
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == content_type
    assert "immutable" in served.headers["Cache-Control"]


def test_an_upload_keeps_the_details_changed_meanwhile(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    book_id = api.book(name="Before", description="Old.").aggregate_id
    repository = api.platform.bus.services.repository
    load = repository.load
    interfered: list[bool] = []

    def load_then_change(kind: Any, id: uuid.UUID) -> Any:
        loaded = load(kind, id)
        if kind is Book and id == book_id and not interfered:
            interfered.append(True)  # another admin, between reading the book and the command
            api.send(UpdateBookDetails(book_id=book_id, name="Meanwhile", description="New."))
        return loaded

    monkeypatch.setattr(repository, "load", load_then_change)

    answer = upload(api, book_id, PNG, "image/png")

    assert answer.status_code == 200, answer.text
    assert interfered == [True]
    assert revision(api, f"book-{book_id}") == answer.json()["revision"] == 2
    book = detail(api, book_id, answer.json()["position"]).json()
    assert (book["name"], book["description"]) == ("Meanwhile", "New.")
    assert book["image"].endswith(".png")


def test_the_same_image_again_changes_nothing(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    first = upload(api, book_id, PNG, "image/png")

    again = upload(api, book_id, PNG, "image/png")

    assert first.json()["revision"] == again.json()["revision"] == 1
    assert again.json()["events"] == []
    assert revision(api, f"book-{book_id}") == 1


def test_an_upload_retried_with_its_key_is_answered_once(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    key = str(uuid.uuid4())
    first = upload(api, book_id, PNG, "image/png", **{"Idempotency-Key": key})

    again = upload(api, book_id, PNG, "image/png", **{"Idempotency-Key": key})
    other_bytes = upload(api, book_id, JPEG, "image/jpeg", **{"Idempotency-Key": key})

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert problem(other_bytes, 422)["type"] == "/problems/idempotency_key_reused"
    assert revision(api, f"book-{book_id}") == 1
    assert len(stored(api, book_id)) == 1


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"GIF89a" + bytes(20), "image/gif"),
        (PNG, "application/octet-stream"),
        (PNG, "text/plain"),
        (PNG, None),
    ],
)
def test_another_media_type_is_unsupported(
    api: ApiStack, data: bytes, content_type: str | None
) -> None:
    book_id = api.book().aggregate_id

    answer = upload(api, book_id, data, content_type)

    assert problem(answer, 415)["errors"][0]["header"] == "Content-Type"
    assert revision(api, f"book-{book_id}") == 0
    assert stored(api, book_id) == []


def test_an_image_may_be_1_mib_and_no_more(api: ApiStack) -> None:
    book_id = api.book().aggregate_id
    largest = PNG + bytes(MIB - len(PNG))

    too_large = upload(api, book_id, largest + b"\x00", "image/png")
    chunked = api.client.put(  # no Content-Length: the body is read up to the limit only
        f"/api/v1/books/{book_id}/image",
        content=iter([largest, b"\x00" * 10]),
        headers={**api.admin(), "Content-Type": "image/png"},
    )
    fits = upload(api, book_id, largest, "image/png")

    problem(too_large, 413)
    assert "content-length" not in chunked.request.headers
    problem(chunked, 413)
    assert fits.status_code == 200, fits.text
    assert len(stored(api, book_id)) == 1


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (JPEG, "image/png"),
        (PNG, "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVE", "image/webp"),
        (b"", "image/jpeg"),
    ],
)
def test_bytes_that_are_not_of_their_type_are_refused(
    api: ApiStack, data: bytes, content_type: str
) -> None:
    book_id = api.book().aggregate_id

    answer = upload(api, book_id, data, content_type)

    assert problem(answer, 422)["errors"][0]["pointer"] == "#"
    assert stored(api, book_id) == []


def test_a_refused_upload_leaves_no_file(api: ApiStack) -> None:
    stale = api.book().aggregate_id
    api.send(UpdateBookDetails(book_id=stale, name="Moved on"))
    deleted = api.book().aggregate_id
    api.send(DeleteBook(book_id=deleted))

    problem(upload(api, stale, PNG, "image/png", **{"If-Match": '"0"'}), 412)
    problem(upload(api, deleted, PNG, "image/png"), 409)

    assert stored(api, stale) == stored(api, deleted) == []


def test_only_stored_images_are_served(api: ApiStack) -> None:
    unknown = f"{uuid.uuid4()}-{'0' * 16}.png"

    problem(api.client.get(f"/api/v1/images/{unknown}"), 404)
    problem(api.client.get("/api/v1/images/..%2Fevents.db"), 404)
    for name in ("events.db", f"{uuid.uuid4()}.png", f"{unknown}.txt", f".{unknown}.part"):
        answer = api.client.get(f"/api/v1/images/{name}")
        assert problem(answer, 422)["errors"][0]["parameter"] == "name"
