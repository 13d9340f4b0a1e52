"""The typed dependencies of the routes, declared once (`Annotated` aliases).

- `PlatformDep`: the app's adapters.
- `Anyone`, `UserCaller`, `AdminCaller`, `Auditor`, `UserOrAdmin`: the caller, with the role
  check of the route (401 without a valid token, 403 without the role).
- `QueryConn`: a connection to the query tables for the request.
- `Paging`: `page` and `page_size` as DOMAIN.md fixes them.
- `rate_limited(group)`: DOMAIN.md's per-client limit of a route group (429 with Retry-After).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.web.auth import InvalidToken, Principal
from api.web.platform import Platform
from api.web.problems import ProblemError, raises
from read_side.cache import RATE_LIMITS, rate_bucket
from read_side.queries.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

#: The bearer token of a request, or None (never an error: `caller` decides what none means).
bearer = HTTPBearer(auto_error=False, description="A JWT from `bookworm token` (embedded mode)")


# The dependencies below do no I/O of their own (or hand it to a thread themselves): they are
# `async`, so FastAPI calls them on the event loop instead of paying a thread hop for each.


async def get_platform(request: Request) -> Platform:
    """The adapters the app was created with."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="bookworm"'})


@raises(401)
async def caller(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: anonymous without a token, a 401 with an invalid one."""
    if credentials is None:
        return Principal.anonymous()
    try:
        return platform.auth.verify(credentials.credentials)
    except InvalidToken as error:
        raise _unauthorized(f"the bearer token is invalid: {error}") from None


Anyone = Annotated[Principal, Depends(caller)]


def require(*roles: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets through only callers holding one of `roles`."""

    @raises(401, 403)
    async def check(principal: Anyone) -> Principal:
        if principal.subject is None:
            raise _unauthorized("this route needs a bearer token")
        if not principal.roles & set(roles):
            needed = " or ".join(roles)
            raise ProblemError(403, f"this route is for the {needed} role")
        return principal

    return check


UserCaller = Annotated[Principal, Depends(require("user"))]
AdminCaller = Annotated[Principal, Depends(require("admin"))]
UserOrAdmin = Annotated[Principal, Depends(require("user", "admin"))]
Auditor = Annotated[Principal, Depends(require("admin", "reporter"))]


def own_buyer_id(principal: Principal) -> UUID:
    """The calling user's id, which is also its buyer id and its basket's id."""
    if principal.user_id is None:  # `UserCaller` lets only users through
        raise ProblemError(403, "this route is for the user role")
    return principal.user_id


async def _own_buyer_id(user: UserCaller) -> UUID:
    return own_buyer_id(user)


#: The calling user's buyer (and basket) id, for routes of the user's own records.
OwnBuyerId = Annotated[UUID, Depends(_own_buyer_id)]


@raises(503)
def query_connection(platform: PlatformDep) -> Iterator[Connection]:
    """A connection to the query tables for one request."""
    with platform.queries.connect() as conn:
        yield conn


QueryConn = Annotated[Connection, Depends(query_connection)]


#: The highest page number asked for (far beyond any real answer; keeps offsets in 64 bits).
MAX_PAGE = 2**31 - 1


def paging(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page (at most 100)")
    ] = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    """The page a paged query asks for."""
    return PageRequest(page=page, page_size=page_size)


Paging = Annotated[PageRequest, Depends(paging)]


def rate_limited(group: str) -> Any:
    """`Depends` on the rate limit of a route group, per client (its subject, else its address)."""
    limit = RATE_LIMITS[group]

    @raises(429)
    async def take(request: Request, platform: PlatformDep, principal: Anyone) -> None:
        if not platform.settings.rate_limits:
            return
        client = principal.subject or (request.client.host if request.client else "unknown")
        decision = await run_in_threadpool(
            platform.cache.take_token, rate_bucket(client, group), limit
        )
        if not decision.allowed:
            raise ProblemError(
                429,
                f"too many {group} requests; at most {limit.capacity} "
                f"per {int(limit.per.total_seconds())} s",
                headers={"Retry-After": str(max(1, math.ceil(decision.retry_after_s)))},
            )

    return Depends(take)
