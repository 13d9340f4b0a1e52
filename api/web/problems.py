"""Errors as RFC 9457 problem details, the one shape every error of the API has.

`type` is `about:blank` for plain HTTP statuses and `/problems/<rule>` for a rule of the domain
(`/problems/book_deleted`); `errors` lists what is wrong with each field of a validation error,
located by `pointer` (a JSON pointer into the body, `#/rating`), `parameter` (query or path) or
`header`. Each route declares the problems it can answer (`declared(...)`), so the OpenAPI says
so too. A 500 is always a bug: it is logged with its traceback and answered without one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

from read_side.queries.ordering import NotAllowed
from write_side.domain import DomainError, InvalidValue, NotFound, StaleVersion
from write_side.domain.errors import ConcurrencyConflict
from write_side.eventstore import StreamDeleted, StreamNotFound, WrongExpectedVersion

log = logging.getLogger("bookworm.api")

PROBLEM_JSON = "application/problem+json"

F = TypeVar("F", bound=Callable[..., Any])


class FieldProblem(BaseModel):
    """What is wrong with one field; exactly one of `pointer`, `parameter`, `header` says where."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    pointer: str | None = Field(default=None, examples=["#/rating"])
    """A JSON pointer into the request body."""
    parameter: str | None = Field(default=None, examples=["page_size"])
    """A query or path parameter."""
    header: str | None = Field(default=None, examples=["If-Match"])
    """A request header."""


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "the request has 1 invalid field",
                    "errors": [{"pointer": "#/rating", "detail": "must be at most 5"}],
                }
            ]
        }
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raised anywhere in the API to answer a problem (with headers such as `Retry-After`)."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        title: str | None = None,
        errors: Sequence[FieldProblem] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.problem = Problem(
            type=type,
            title=title or HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            errors=list(errors) if errors else None,
        )
        self.headers = dict(headers or {})


def bad_header(name: str, detail: str) -> ProblemError:
    """A malformed request header (400)."""
    return ProblemError(
        400, f"the {name} header is malformed", errors=[FieldProblem(header=name, detail=detail)]
    )


def problem_response(
    problem: Problem, request: Request | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """The problem as an `application/problem+json` answer."""
    if request is not None and problem.instance is None:
        problem = problem.model_copy(update={"instance": request.url.path})
    body = problem.model_dump_json(exclude_none=True).encode()
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def declared(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can answer as a problem, and 500."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*statuses, 500})
    }


def raises(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency with the problems it can answer, so every route using it declares
    them (see `declare_dependency_problems`)."""

    def mark(function: F) -> F:
        function.__problems__ = statuses  # type: ignore[attr-defined]
        return function

    return mark


def declare_dependency_problems(app: FastAPI) -> None:
    """Add to each route's declared answers the problems its dependencies can answer (a
    bearer check its 401, an `If-Match` its 412...), which a route cannot forget that way."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        statuses: set[int] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            statuses.update(getattr(dependant.call, "__problems__", ()))
            pending.extend(dependant.dependencies)
        if route.dependant.query_params or route.dependant.path_params:
            statuses.add(422)
        for status, declaration in declared(*statuses).items():
            route.responses.setdefault(status, declaration)


# -- translating errors -----------------------------------------------------------------------

_LOCATIONS = {"query": "parameter", "path": "parameter", "header": "header", "cookie": "parameter"}


def _field_problem(error: Mapping[str, Any], *, body_root: bool) -> FieldProblem:
    """One pydantic error as a field problem; `body_root` when `loc` starts at the body."""
    loc = [str(part) for part in error.get("loc", ())]
    detail = str(error.get("msg", "invalid"))
    if not body_root and loc and loc[0] in _LOCATIONS:
        name = loc[1] if len(loc) > 1 else loc[0]
        return FieldProblem(detail=detail, **{_LOCATIONS[loc[0]]: name})
    if not body_root and loc and loc[0] == "body":
        loc = loc[1:]
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in loc)
    return FieldProblem(detail=detail, pointer="#/" + "/".join(escaped))


def validation_problem(
    errors: Iterable[Mapping[str, Any]], *, body_root: bool = False
) -> ProblemError:
    """A 422 naming each invalid field."""
    problems = [_field_problem(error, body_root=body_root) for error in errors]
    count = len(problems)
    return ProblemError(
        422,
        f"the request has {count} invalid field{'s' if count != 1 else ''}",
        errors=problems,
    )


def field_pointer(field: str) -> str:
    """A command field's name as a JSON pointer: `items[1].book_id` -> `#/items/1/book_id`."""
    parts = re.sub(r"\[(\d+)\]", r"/\1", field).replace(".", "/").strip("/")
    return "#/" + parts


def domain_problem(error: DomainError) -> ProblemError:
    """A broken rule of the domain as its status: 404, 409, 412 or 422."""
    errors = None
    if isinstance(error, InvalidValue) and error.field:
        errors = [FieldProblem(pointer=field_pointer(error.field), detail=str(error))]
    return ProblemError(error.status, str(error), type=f"/problems/{error.rule}", errors=errors)


def missing_reference(error: NotFound) -> ProblemError:
    """A missing aggregate named by a field of the body: a bad value (422), not a 404."""
    return ProblemError(
        422,
        str(error),
        type=f"/problems/{error.rule}",
        errors=[FieldProblem(pointer=field_pointer(error.field or ""), detail=str(error))],
    )


def _not_built(error: Exception) -> bool:
    """Whether the database says a query model's table or view does not exist (yet)."""
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def install(app: FastAPI) -> None:
    """Answer every error raised by a route (or by the framework) as a problem."""

    async def on_problem(request: Request, error: Exception) -> Response:
        assert isinstance(error, ProblemError)
        return problem_response(error.problem, request, error.headers)

    async def on_request_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = "; ".join(str(e.get("ctx", {}).get("error", e.get("msg"))) for e in errors)
            problem = ProblemError(400, f"the body is not valid JSON: {detail}")
        else:
            problem = validation_problem(errors)
        return problem_response(problem.problem, request)

    async def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, ValidationError)
        problem = validation_problem(error.errors(include_url=False), body_root=True)
        return problem_response(problem.problem, request)

    async def on_domain(request: Request, error: Exception) -> Response:
        assert isinstance(error, DomainError)
        return problem_response(domain_problem(error).problem, request)

    async def on_store_conflict(request: Request, error: Exception) -> Response:
        problem = ProblemError(409, str(error), type="/problems/concurrency_conflict")
        return problem_response(problem.problem, request)

    async def on_stream_missing(request: Request, error: Exception) -> Response:
        return problem_response(ProblemError(404, str(error)).problem, request)

    async def on_not_allowed(request: Request, error: Exception) -> Response:
        return problem_response(ProblemError(403, str(error)).problem, request)

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        problem = ProblemError(error.status_code, str(error.detail), headers=error.headers)
        return problem_response(problem.problem, request, problem.headers)

    async def on_database(request: Request, error: Exception) -> Response:
        if _not_built(error):
            problem = ProblemError(
                503,
                "this query model has not been built yet; start `bookworm worker`",
                type="/problems/read_model_not_built",
                headers={"Retry-After": "5"},
            )
            return problem_response(problem.problem, request, problem.headers)
        return await on_bug(request, error)

    async def on_bug(request: Request, error: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        problem = ProblemError(500, "an internal error; it has been logged")
        return problem_response(problem.problem, request)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(ValidationError, on_validation)
    app.add_exception_handler(StaleVersion, on_domain)
    app.add_exception_handler(ConcurrencyConflict, on_domain)
    app.add_exception_handler(NotFound, on_domain)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(WrongExpectedVersion, on_store_conflict)
    app.add_exception_handler(StreamNotFound, on_stream_missing)
    app.add_exception_handler(StreamDeleted, on_stream_missing)
    app.add_exception_handler(NotAllowed, on_not_allowed)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(ProgrammingError, on_database)
    app.add_exception_handler(Exception, on_bug)
