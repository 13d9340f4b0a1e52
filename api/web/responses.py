"""Answers with their headers: `ETag`, paging (`Link`, `Pagination-Count`) and freshness.

Routes answer `Response` objects built here from pydantic models (or from bytes the cache
holds), so the bytes sent are exactly the model's JSON and every header is set in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from api.web.freshness import ReadState
from read_side.queries.paging import Page

JSON = "application/json"


def etag(revision: int) -> str:
    """The strong entity tag of a resource at a stream revision."""
    return f'"{revision}"'


def json_response(
    body: BaseModel | bytes,
    *,
    status_code: int = 200,
    read: ReadState | None = None,
    revision: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer with the freshness and `ETag` headers that apply."""
    content = body if isinstance(body, bytes) else body.model_dump_json().encode()
    all_headers: dict[str, str] = dict(headers or {})
    if read is not None:
        all_headers.update(read.headers())
    if revision is not None:
        all_headers["ETag"] = etag(revision)
    return Response(content, status_code=status_code, media_type=JSON, headers=all_headers)


def page_headers(request: Request, page: Page[Any]) -> dict[str, str]:
    """RFC 8288 `Link` (first, prev, next, last) and `Pagination-Count` of a page."""
    last = max(page.total_pages, 1)

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number, page_size=page.page_size))

    links = [f'<{url(1)}>; rel="first"']
    if page.page > 1:
        links.append(f'<{url(min(page.page - 1, last))}>; rel="prev"')
    if page.page < page.total_pages:
        links.append(f'<{url(page.page + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    return {"Link": ", ".join(links), "Pagination-Count": str(page.total_items)}


def page_response(request: Request, page: Page[Any], *, read: ReadState | None = None) -> Response:
    """A page of a paged query, with its paging headers."""
    return json_response(page, read=read, headers=page_headers(request, page))
