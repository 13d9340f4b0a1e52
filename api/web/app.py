"""`create_app(settings)`: the FastAPI edge of the platform, one router per resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from api.settings import Settings
from api.web import problems
from api.web.body_limit import BodyLimitMiddleware
from api.web.hot_path import CachedBookDetail
from api.web.lean_route import LeanPostFeedback
from api.web.observability import ObservabilityMiddleware, RequestMetrics
from api.web.platform import Platform
from api.web.routers import (
    baskets,
    books,
    buyers,
    feedbacks,
    images,
    operations,
    orders,
    references,
    streams,
)

API_PREFIX = "/api/v1"

#: The largest request body read (a book image is at most 1 MiB; JSON bodies are far smaller).
MAX_BODY_BYTES = 2 * 1024 * 1024

DESCRIPTION = """\
Commands and queries of the BookWorm bookstore over its event store.

* **Auth**: a bearer JWT with roles `admin`, `user` (its subject is the buyer id) and
  `reporter`; anonymous callers may read the catalog and post feedback.
* **Errors** are RFC 9457 problem details (`application/problem+json`).
* **Concurrency**: resources carry `ETag: "<stream revision>"`; commands accept `If-Match`.
* **Idempotency**: send `Idempotency-Key` (or `X-Request-ID`) on POST/PUT/PATCH/DELETE; a retry
  within an hour answers the first answer and writes nothing.
* **Read-your-writes**: a command answers `X-Event-Position`; a query sent with
  `X-Min-Position` waits (bounded) until its query models have passed it.
* Query models are eventually consistent: a change shows in queries once its projection has
  applied it (milliseconds when the worker runs).
"""

TAGS = [
    {"name": "books", "description": "The catalog's books."},
    {"name": "authors", "description": "Authors of books."},
    {"name": "categories", "description": "Categories of books (unique names)."},
    {"name": "publishers", "description": "Publishers of books (unique names)."},
    {"name": "feedbacks", "description": "Ratings and comments on books."},
    {"name": "basket", "description": "The calling user's basket."},
    {"name": "buyers", "description": "Buyers (a user's own record; all of them for admins)."},
    {"name": "orders", "description": "Orders, placed from the caller's basket."},
    {"name": "audit", "description": "Event streams as recorded (admin, reporter)."},
    {"name": "operations", "description": "Health, readiness, projections, groups, metrics."},
]


def create_app(settings: Settings, *, platform: Platform | None = None) -> FastAPI:
    """The API on the adapters the settings name (or on `platform`, which the app then owns)."""
    opened = platform or Platform.open(settings)
    metrics = RequestMetrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(
        title="BookWorm Event Platform API",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.platform = opened
    app.state.metrics = metrics
    problems.install(app)
    for module in (books, images, references, feedbacks, baskets, buyers, orders, streams):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(operations.api_router, prefix=API_PREFIX)
    app.include_router(operations.router)
    problems.declare_dependency_problems(app)
    # First, so that it sees the plain POSTs of feedback before the FastAPI route does.
    app.router.routes.insert(0, LeanPostFeedback())
    templates = {
        id(context.original_route): context.path_format or ""
        for context in iter_route_contexts(app.routes)
    }
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(CachedBookDetail, platform=opened)  # a GET: before the body limit
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, templates=templates)
    return app
