"""schemathesis against the app's own OpenAPI: every operation, generated requests (valid and
not), with a token holding every role. No answer may be a 500, and every answer must be one the
schema declares, in its declared shape and content type.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from api.web.app import create_app
from read_side.queries.progress import live_checkpoints
from tests.api.conftest import ApiStack

#: What must hold for every answer (the issue: no 500, nothing outside the schema).
MUST_HOLD = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _wait_until_every_model_is_built(api: ApiStack) -> None:
    """Until the worker has built every query model (before that, a query is a 503)."""
    names = list(api.platform.projections)
    deadline = time.monotonic() + 60
    while True:
        with api.platform.queries.connect() as conn:
            built = live_checkpoints(conn, names)
        if len(built) == len(names):
            return
        assert time.monotonic() < deadline, f"not built: {sorted(set(names) - set(built))}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def openapi(embedded_api: ApiStack) -> Iterator[OpenApiSchema]:
    """The app's schema, with requests sent in process to an app on the same stack that waits
    for a read model at most 50 ms (generated `X-Min-Position` values are mostly far ahead)."""
    embedded_api.book()  # a catalog with something in it
    _wait_until_every_model_is_built(embedded_api)
    impatient = embedded_api.settings.model_copy(update={"read_wait_s": 0.05})
    with TestClient(create_app(impatient)) as client:
        yield schemathesis.openapi.from_asgi("/openapi.json", client.app)


@pytest.fixture(scope="module")
def every_role(embedded_api: ApiStack) -> dict[str, str]:
    """A caller who is an admin, a reporter and a user at once (a UUID subject)."""
    return embedded_api.auth(str(uuid.uuid4()), "admin", "user", "reporter")


#: Generated requests per operation: enough to reach every declared status of most routes
#: while the whole run stays within a few seconds' budget of `make test`.
EXAMPLES = 25


def test_no_operation_answers_outside_its_schema(
    openapi: OpenApiSchema, every_role: dict[str, str]
) -> None:
    # schemathesis's own pytest plugin does not run under pytest 9; its strategies do.
    failures: dict[str, str] = {}
    operations = []
    for result in openapi.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the schema of every route is valid
        operations.append(result.ok())
    assert len(operations) >= 50  # every route of the API

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=every_role, checks=MUST_HOLD)

        try:
            check()
        except Exception as failure:  # collected, so one run reports every operation at fault
            failures[operation.label] = str(failure)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
