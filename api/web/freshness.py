"""Read-your-writes: a query waits (bounded) until its query models have passed a position.

A command's answer carries `X-Event-Position`, the commit position of its events. A query sent
with `X-Min-Position` (or `?min_position=`) waits up to `read_wait_s` until every query model it
reads has passed that position, then answers as usual; when time runs out it answers anyway,
with `X-Read-Model-Stale: true`. Every such answer says how far the models were
(`X-Read-Model-Position`).

A model has passed a position when its checkpoint is at or beyond it, or when none of the
events between its checkpoint and that position is one it handles (a model that wants few
events only moves its checkpoint over the others now and then). A position beyond the store's
last event came from no command: it is answered at once, as stale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query
from starlette.concurrency import run_in_threadpool

from api.web.deps import PlatformDep
from api.web.platform import Platform
from api.web.problems import bad_header, raises
from read_side.queries.progress import live_checkpoints

#: How often a waiting query looks at the checkpoints again.
POLL_S = 0.003


@dataclass(frozen=True, slots=True)
class ReadState:
    """How fresh an answer is: the position asked for, how far its models were, and whether
    they had not reached it when the wait ended."""

    asked: int | None = None
    reached: int | None = None
    stale: bool = False

    @property
    def waited(self) -> bool:
        """Whether the caller asked for a position (and the answer must bypass any cache)."""
        return self.asked is not None

    def headers(self) -> dict[str, str]:
        """`X-Read-Model-Position` and `X-Read-Model-Stale` when a position was asked for."""
        if self.asked is None:
            return {}
        return {
            "X-Read-Model-Position": str(self.reached or 0),
            "X-Read-Model-Stale": "true" if self.stale else "false",
        }


def _passed(platform: Platform, names: tuple[str, ...], position: int) -> tuple[bool, int]:
    """Whether every model in `names` has passed `position`, and their least checkpoint."""
    with platform.queries.connect() as conn:
        found = live_checkpoints(conn, names)
    least = min((found.get(name, 0) for name in names), default=0)
    for name in names:
        checkpoint = found.get(name)
        if checkpoint is None:
            return False, least
        if checkpoint >= position:
            continue
        handles = platform.projections[name].handles
        upcoming = next(iter(platform.store.read_all_after(checkpoint, filter=handles)), None)
        if upcoming is not None and upcoming.position <= position:
            return False, least
    return True, least


async def wait_until(platform: Platform, names: tuple[str, ...], position: int) -> ReadState:
    """Wait until the models have passed `position`, or `read_wait_s` has gone by."""
    deadline = time.monotonic() + platform.settings.read_wait_s
    # A position beyond the store's last event came from no command: answer at once, stale.
    unknown = (await run_in_threadpool(platform.store.head_position) or 0) < position
    while True:
        passed, least = await run_in_threadpool(_passed, platform, names, position)
        if passed and not unknown:
            return ReadState(asked=position, reached=max(least, position))
        if unknown or time.monotonic() >= deadline:
            return ReadState(asked=position, reached=least, stale=True)
        await asyncio.sleep(POLL_S)


def fresh(*names: str) -> Callable[..., Coroutine[Any, Any, ReadState]]:
    """A dependency for a query reading the models `names`: it waits when asked to."""

    @raises(400)
    async def wait(
        platform: PlatformDep,
        x_min_position: Annotated[
            str | None,
            Header(description="wait until the query models have passed this commit position"),
        ] = None,
        min_position: Annotated[
            int | None,
            Query(ge=0, description="the same as the `X-Min-Position` header"),
        ] = None,
    ) -> ReadState:
        position = min_position
        if x_min_position is not None:
            try:
                position = int(x_min_position)
            except ValueError:
                raise bad_header(
                    "X-Min-Position", "must be a commit position (an integer)"
                ) from None
            if position < 0:
                raise bad_header("X-Min-Position", "must not be negative")
        if position is None:
            return ReadState()
        return await wait_until(platform, names, position)

    return wait


def Fresh(*names: str) -> Any:  # noqa: N802 - reads as a type in a signature
    """`Annotated[ReadState, Fresh("book_catalog")]`: the dependency of `fresh(*names)`."""
    return Depends(fresh(*names))
