"""Operations: `/health`, `/ready` and `/metrics` at the root; projections and groups (admin).

`/health` is liveness (the process answers), `/ready` readiness (the event store and the query
tables answer, and no SQL projection lags more than `ready_max_lag_s`). Both stay cheap and, like
`/metrics`, need no token, so probes and scrapers can use them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, and_, inspect, select, text
from starlette.requests import Request

from api import bootstrap
from api.web.deps import AdminCaller, PlatformDep
from api.web.platform import Platform
from api.web.problems import declared
from api.web.responses import json_response
from pipelines.overview import LAG_COUNT_LIMIT, projection_status
from pipelines.status import ProjectionStatus, RunnerState
from read_side.projection import Projection
from read_side.targets.sql import checkpoints, live_builds
from write_side.groups import GroupInfo

log = logging.getLogger("bookworm.api.operations")

router = APIRouter(tags=["operations"])
api_router = APIRouter(tags=["operations"])


def _sql_projections(platform: Platform) -> list[Projection]:  # type: ignore[type-arg]
    """The projections into the query tables (the warehouse's belong to Dagster's runs)."""
    return [p for p in platform.projections.values() if p.target_kind == "sql"]


# -- liveness, readiness, metrics -------------------------------------------------------------


class Health(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class ReadinessCheck(BaseModel):
    """One check of `/ready`: what was checked, whether it passed, and what was found."""

    check: Literal["event_store", "query_db", "projection_lag"]
    ok: bool
    detail: str
    projection: str | None = Field(default=None, description="the projection of a lag check")
    lag_seconds: float | None = Field(
        default=None, description="age of the oldest event the projection has yet to apply"
    )


class Readiness(BaseModel):
    """Whether the API can serve, with every check (a failed one says what failed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ready": False,
                    "checks": [
                        {"check": "event_store", "ok": True, "detail": "head position 4711"},
                        {"check": "query_db", "ok": True, "detail": "answers"},
                        {
                            "check": "projection_lag",
                            "projection": "book_catalog",
                            "ok": False,
                            "detail": "42.0 s behind (limit 30.0 s): next event at 4700",
                            "lag_seconds": 42.0,
                        },
                    ],
                }
            ]
        }
    )

    ready: bool
    checks: list[ReadinessCheck]


@router.get("/health", response_model=Health, summary="Liveness")
async def health() -> Response:
    """200 whenever the process answers; nothing else is checked (that is `/ready`)."""
    return json_response(Health())


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the failed checks say why"}},
    summary="Readiness",
)
def ready(platform: PlatformDep) -> Response:
    """200 when the event store answers, the query tables answer, and the oldest event each SQL
    projection has yet to apply is younger than `BOOKWORM_READY_MAX_LAG_S`; else 503. The body
    lists every check either way.

    A projection's lag is the age of the first event after its live build's checkpoint that it
    handles (none: no lag; never built: from the first such event), so the check reads at most
    one event per projection however far behind it is. Lag is not checked while the event
    store or the query tables fail.
    """
    store_check = _event_store_check(platform)
    query_check, stored = _query_db_check(platform)
    checks = [store_check, query_check]
    if store_check.ok and stored is not None:
        now = datetime.now(UTC)
        checks.extend(
            _lag_check(platform, p, stored.get(p.name), now) for p in _sql_projections(platform)
        )
    readiness = Readiness(ready=all(c.ok for c in checks), checks=checks)
    return json_response(readiness, status_code=200 if readiness.ready else 503)


def _event_store_check(platform: Platform) -> ReadinessCheck:
    try:
        head = platform.store.head_position()
    except Exception as error:  # whatever the backend raises, readiness answers 503
        log.warning("readiness: the event store does not answer: %s", error)
        return ReadinessCheck(check="event_store", ok=False, detail=f"does not answer: {error}")
    shown = "empty" if head is None else f"head position {head}"
    return ReadinessCheck(check="event_store", ok=True, detail=shown)


#: The commit position each projection's live build has applied up to, by projection.
LiveCheckpoints = dict[str, int]


def _query_db_check(platform: Platform) -> tuple[ReadinessCheck, LiveCheckpoints | None]:
    try:
        with platform.queries.connect() as conn:
            conn.execute(text("SELECT 1"))
            found = _live_checkpoints(conn)
    except Exception as error:  # whatever the driver raises, readiness answers 503
        log.warning("readiness: the query database does not answer: %s", error)
        return ReadinessCheck(check="query_db", ok=False, detail=f"does not answer: {error}"), None
    return ReadinessCheck(check="query_db", ok=True, detail="answers"), found


def _live_checkpoints(conn: Connection) -> LiveCheckpoints:
    """The checkpoint of each projection's live build (none before a worker first ran)."""
    if not inspect(conn).has_table(live_builds.name):
        return {}
    rows = conn.execute(
        select(checkpoints.c.projection, checkpoints.c.position).join(
            live_builds,
            and_(
                live_builds.c.projection == checkpoints.c.projection,
                live_builds.c.build == checkpoints.c.build,
            ),
        )
    ).all()
    return {row.projection: int(row.position) for row in rows}


def _lag_check(
    platform: Platform,
    projection: Projection,  # type: ignore[type-arg]
    checkpoint: int | None,
    now: datetime,
) -> ReadinessCheck:
    limit = platform.settings.ready_max_lag_s
    upcoming = next(
        iter(platform.store.read_all_after(checkpoint, filter=projection.handles)), None
    )
    if upcoming is None:
        return ReadinessCheck(
            check="projection_lag",
            projection=projection.name,
            ok=True,
            detail="caught up",
            lag_seconds=0.0,
        )
    lag = max((now - upcoming.recorded_at).total_seconds(), 0.0)
    where = "not built yet" if checkpoint is None else f"checkpoint {checkpoint}"
    return ReadinessCheck(
        check="projection_lag",
        projection=projection.name,
        ok=lag < limit,
        detail=f"{lag:.1f} s behind (limit {limit:g} s): {where}, next at {upcoming.position}",
        lag_seconds=lag,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Prometheus metrics",
)
def metrics(request: Request) -> Response:
    """The API's request counts and durations by method, route template and status, in the
    Prometheus text format."""
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


# -- projections and groups (admin) -----------------------------------------------------------


class ProjectionView(BaseModel):
    """A projection's build, state, checkpoint, lag, rate and parked events."""

    projection: str
    build: int = Field(description="the live build (0: never built)")
    state: RunnerState = Field(description="as its worker last reported (stopped: no worker)")
    checkpoint: int = Field(description="commit position the live build has applied up to")
    head: int | None = Field(description="the last event it handles (None: none yet)")
    lag_events: int | None = Field(
        description=f"events it handles after its checkpoint (counted up to {LAG_COUNT_LIMIT:,})"
    )
    lag_seconds: float | None = Field(
        description="age of the last event applied when behind (0 when caught up)"
    )
    events_per_s: float
    handled: int
    parked: int = Field(description="dead letters: events it could not apply")
    last_error: str | None
    updated_at: datetime

    @classmethod
    def of(cls, status: ProjectionStatus) -> ProjectionView:
        """The answer's form of a status."""
        return cls(**asdict(status))


class Projections(BaseModel):
    """Every projection into the query tables."""

    items: list[ProjectionView]


@api_router.get(
    "/projections",
    response_model=Projections,
    responses=declared(401, 403),
    summary="Projections' status",
)
def projections(platform: PlatformDep, _admin: AdminCaller) -> Response:
    """Each SQL projection's live build, state, checkpoint, head, lag (in events, counted up to
    a million, and in seconds), rate and parked events, as `bookworm projections status` shows
    them. Counting lag reads the events behind, so this is an operator's route, not a probe."""
    chosen = _sql_projections(platform)
    with bootstrap.targets(platform.settings, {"sql"}) as targets:
        items = [
            ProjectionView.of(projection_status(platform.store, p, targets["sql"]))
            for p in sorted(chosen, key=lambda p: p.name)
        ]
    return json_response(Projections(items=items))


class EventFilterView(BaseModel):
    """A filter on `$all`: a regex on stream names or on event types."""

    on: Literal["stream_name", "event_type"]
    regex: str
    exclude: bool


class GroupSettingsView(BaseModel):
    """How a group delivers, retries, checkpoints and buffers (EventStoreDB's names)."""

    message_timeout: float = Field(description="seconds before an unacknowledged event goes back")
    max_retry_count: int = Field(description="retries before an event is parked")
    consumer_strategy: str
    checkpoint_after: float
    min_checkpoint_count: int
    max_checkpoint_count: int
    max_subscriber_count: int = Field(description="consumers at once (0: no limit)")
    live_buffer_size: int
    read_batch_size: int
    history_buffer_size: int


class ConsumerView(BaseModel):
    """A connected consumer of a group."""

    name: str
    in_flight: int
    buffer_size: int
    delivered: int
    acked: int
    connected_at: datetime
    last_seen: datetime


class GroupView(BaseModel):
    """A persistent subscription group: its definition, positions and figures.

    Positions are commit positions on `$all`, revisions on a stream. The running totals are
    0 on EventStoreDB, whose group info does not keep them.
    """

    group_name: str
    event_source: str = Field(description="`$all` or the stream's name")
    filter: EventFilterView | None
    from_end: bool
    start_position: int | None
    settings: GroupSettingsView
    last_read_position: int | None
    last_checkpointed_position: int | None
    last_known_position: int | None
    in_flight: int
    waiting: int = Field(description="back in the group for a retry or a replay")
    parked: int
    parked_stream: str
    highest_retry_count: int
    delivered_total: int
    acked_total: int
    retried_total: int
    skipped_total: int
    parked_total: int
    consumers: list[ConsumerView]

    @classmethod
    def of(cls, info: GroupInfo) -> GroupView:
        """The answer's form of a group's info."""
        found = info.filter
        return cls(
            group_name=info.group_name,
            event_source=info.event_source,
            filter=None
            if found is None
            else EventFilterView(on=found.on, regex=found.regex, exclude=found.exclude),
            from_end=info.from_end,
            start_position=info.start_position,
            settings=GroupSettingsView(**asdict(info.settings)),
            last_read_position=info.last_read_position,
            last_checkpointed_position=info.last_checkpointed_position,
            last_known_position=info.last_known_position,
            in_flight=info.in_flight,
            waiting=info.waiting,
            parked=info.parked,
            parked_stream=info.parked_stream,
            highest_retry_count=info.highest_retry_count,
            delivered_total=info.delivered_total,
            acked_total=info.acked_total,
            retried_total=info.retried_total,
            skipped_total=info.skipped_total,
            parked_total=info.parked_total,
            consumers=[ConsumerView(**asdict(c)) for c in info.consumers],
        )


class Groups(BaseModel):
    """Every persistent subscription group, on `$all` and on streams."""

    items: list[GroupView]


@api_router.get(
    "/groups",
    response_model=Groups,
    responses=declared(401, 403),
    summary="Subscription groups",
)
def groups(platform: PlatformDep, _admin: AdminCaller) -> Response:
    """Every persistent subscription group (ordered by source and name) with its settings,
    positions, events in flight, waiting and parked, and its connected consumers, as
    `bookworm groups list` and `groups info` show them."""
    found = platform.groups.list_subscriptions()
    return json_response(Groups(items=[GroupView.of(i) for i in found]))
