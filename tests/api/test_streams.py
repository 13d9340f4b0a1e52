"""`GET /api/v1/streams/{stream}/events`: a stream's events as recorded, for auditors."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import orjson
import pytest

from api.web.deps import MAX_PAGE
from tests.api.conftest import ApiStack
from write_side.eventstore import NewEvent, StreamMetadata, StreamState


def _stream(api: ApiStack, count: int, *, prefix: str = "audittest") -> str:
    """A new stream of `count` JSON events `{"n": i}` (revisions 0 .. count-1)."""
    name = f"{prefix}-{uuid.uuid4()}"
    events = [
        NewEvent(
            type="Counted",
            data=orjson.dumps({"n": n}),
            metadata=orjson.dumps({"correlation_id": f"c{n}"}),
        )
        for n in range(count)
    ]
    api.platform.store.append(name, events, expected_version=StreamState.NO_STREAM)
    return name


def _url(stream: str) -> str:
    return f"/api/v1/streams/{stream}/events"


def test_a_books_events_come_as_the_store_recorded_them(embedded_api: ApiStack) -> None:
    api = embedded_api
    created = api.book(name="The Quiet Harbour")
    answer = api.client.get(_url(created.stream), headers=api.admin())

    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'"{created.revision}"'
    assert answer.headers["Pagination-Count"] == "1"
    body = answer.json()
    assert body["total_items"] == 1
    (event,) = body["items"]
    recorded = api.platform.store.read_stream(created.stream)[0]
    assert event["id"] == str(recorded.id)
    assert event["type"] == "BookCreated"
    assert event["stream"] == created.stream
    assert event["revision"] == 0
    assert event["position"] == created.position
    assert datetime.fromisoformat(event["recorded_at"]) == recorded.recorded_at
    assert event["content_type"] == "application/json"
    assert event["data"] == orjson.loads(recorded.data)
    assert event["data"]["name"] == "The Quiet Harbour"
    assert event["metadata"] == orjson.loads(recorded.metadata)
    assert event["data_base64"] is None


def test_pages_go_over_the_revisions_with_link_headers(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 5)
    answer = api.client.get(
        _url(stream), params={"page": 2, "page_size": 2}, headers=api.reporter()
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [e["revision"] for e in body["items"]] == [2, 3]
    assert [e["data"] for e in body["items"]] == [{"n": 2}, {"n": 3}]
    assert (body["total_items"], body["total_pages"]) == (5, 3)
    assert (body["has_previous"], body["has_next"]) == (True, True)
    assert answer.headers["ETag"] == '"4"'
    assert answer.headers["Pagination-Count"] == "5"
    links = answer.headers["Link"]
    assert 'page=1&page_size=2>; rel="first"' in links
    assert 'page=1&page_size=2>; rel="prev"' in links
    assert 'page=3&page_size=2>; rel="next"' in links
    assert 'page=3&page_size=2>; rel="last"' in links

    last = api.client.get(_url(stream), params={"page": 3, "page_size": 2}, headers=api.admin())
    assert [e["revision"] for e in last.json()["items"]] == [4]
    assert last.json()["has_next"] is False


def test_a_page_past_the_end_is_empty_with_the_real_totals(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 3)
    for page in (4, MAX_PAGE):  # the last page number asked for is far past any stream
        answer = api.client.get(
            _url(stream), params={"page": page, "page_size": 100}, headers=api.admin()
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == []
        assert answer.json()["total_items"] == 3
        assert answer.headers["ETag"] == '"2"'
    beyond = api.client.get(_url(stream), params={"page": MAX_PAGE + 1}, headers=api.admin())
    assert beyond.status_code == 422
    assert beyond.json()["errors"][0]["parameter"] == "page"


def test_events_hidden_by_the_streams_metadata_are_not_paged(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 5)
    api.platform.store.set_stream_metadata(
        stream, StreamMetadata(truncate_before=3), expected_version=StreamState.ANY
    )
    answer = api.client.get(_url(stream), params={"page_size": 1}, headers=api.admin())

    assert answer.status_code == 200, answer.text
    assert [e["revision"] for e in answer.json()["items"]] == [3]
    assert answer.json()["total_items"] == 2
    assert answer.headers["ETag"] == '"4"'


def test_data_that_is_not_json_comes_as_base64(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = f"audittest-{uuid.uuid4()}"
    raw = b"\x00\x01 not json"
    api.platform.store.append(
        stream,
        [NewEvent(type="Blob", data=raw, content_type="application/octet-stream")],
        expected_version=StreamState.NO_STREAM,
    )
    (event,) = api.client.get(_url(stream), headers=api.admin()).json()["items"]

    assert event["content_type"] == "application/octet-stream"
    assert event["data"] is None
    assert base64.b64decode(event["data_base64"]) == raw
    assert event["metadata"] is None  # none was written
    assert event["metadata_base64"] is None


@pytest.mark.parametrize("deletion", ["never written", "soft-deleted", "tombstoned"])
def test_a_missing_or_deleted_stream_is_a_404_problem(
    embedded_api: ApiStack, deletion: str
) -> None:
    api = embedded_api
    if deletion == "never written":
        stream = f"audittest-{uuid.uuid4()}"
    else:
        stream = _stream(api, 2)
        delete = (
            api.platform.store.delete_stream
            if deletion == "soft-deleted"
            else api.platform.store.tombstone_stream
        )
        delete(stream, expected_version=1)
    answer = api.client.get(_url(stream), headers=api.admin())

    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert stream in answer.json()["detail"]


def test_system_streams_are_not_served(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 1, prefix="$audittest")
    assert api.platform.store.read_stream(stream)  # it exists

    answer = api.client.get(_url(stream), headers=api.admin())

    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == f"system stream {stream!r} is not served here"


def test_only_admins_and_reporters_read_streams(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 1)
    _, user = api.user()

    anonymous = api.client.get(_url(stream))
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.client.get(_url(stream), headers=user).status_code == 403
    assert api.client.get(_url(stream), headers=api.reporter()).status_code == 200
    assert api.client.get(_url(stream), headers=api.admin()).status_code == 200


def test_a_page_size_over_100_is_a_422(embedded_api: ApiStack) -> None:
    api = embedded_api
    stream = _stream(api, 1)
    answer = api.client.get(_url(stream), params={"page_size": 101}, headers=api.admin())

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["parameter"] == "page_size"
