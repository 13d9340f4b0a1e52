"""`bookworm groups …`: persistent subscription groups, for operators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

import typer
from rich.table import Table

from api import bootstrap
from api.cli_reading import reading_store
from api.console import listing, out
from api.settings import load_settings
from write_side.eventstore import EventFilter, EventStore
from write_side.groups import (
    CONSUMER_STRATEGIES,
    GroupInfo,
    GroupSettings,
    SubscriptionGroupError,
    SubscriptionGroups,
)

groups_app = typer.Typer(
    help="Persistent subscription groups: competing consumers with ack, retry, park and replay.",
    no_args_is_help=True,
)

GroupName = Annotated[str, typer.Argument(help="the group, e.g. email_sender")]
StreamOption = Annotated[
    str | None, typer.Option("--stream", help="the group's stream (default: a group on $all)")
]
_DEFAULTS = GroupSettings()


@contextmanager
def _groups(*, new_store: bool = False) -> Iterator[SubscriptionGroups]:
    """The configured store's groups; their errors become a message and exit code 1. Only
    `create` (`new_store`) may begin an embedded store: the others need one that exists."""
    settings = load_settings()
    opened: AbstractContextManager[EventStore] = (
        bootstrap.event_store(settings) if new_store else reading_store(settings)
    )
    with opened as store, bootstrap.subscription_groups(store) as groups:
        try:
            yield groups
        except SubscriptionGroupError as error:
            out().print(f"[red]{error}[/]")
            raise typer.Exit(1) from None


def _shown(value: int | None) -> str:
    return "-" if value is None else str(value)


@groups_app.command("list")
def list_groups() -> None:
    """Every group: position, checkpoint, in flight, waiting, parked, consumers, retries.

    `info NAME` shows a group's settings, head and consumers.
    """
    table = listing(
        "group",
        "source",
        "position",
        "checkpoint",
        "in flight",
        "waiting",
        "parked",
        "consumers",
        "acked",
        "retries (max)",
        title="subscription groups",
    )
    with _groups() as groups:
        for i in groups.list_subscriptions():
            table.add_row(
                i.group_name,
                i.event_source,
                _shown(i.last_read_position),
                _shown(i.last_checkpointed_position),
                str(i.in_flight),
                str(i.waiting),
                str(i.parked),
                str(len(i.consumers)),
                str(i.acked_total),
                f"{i.retried_total} ({i.highest_retry_count})",
            )
    out().print(table)


@groups_app.command("info")
def info(name: GroupName, stream: StreamOption = None) -> None:
    """One group: its settings, figures and connected consumers."""
    with _groups() as groups:
        found = groups.get_subscription_info(name, stream)
    out().print(_figures(found))
    consumers = listing(
        "consumer",
        "in flight",
        "buffer",
        "delivered",
        "acked",
        "connected",
        "last seen",
        title="consumers",
    )
    for c in found.consumers:
        consumers.add_row(
            c.name,
            str(c.in_flight),
            str(c.buffer_size),
            str(c.delivered),
            str(c.acked),
            f"{c.connected_at:%Y-%m-%d %H:%M:%S}",
            f"{c.last_seen:%H:%M:%S.%f}"[:-3],
        )
    out().print(consumers)


def _figures(i: GroupInfo) -> Table:
    table = listing("", "", title=f"{i.group_name} on {i.event_source}", show_header=False)
    start = "end" if i.from_end else _shown(i.start_position) if i.start_position else "start"
    rows = {
        "filter": "-" if i.filter is None else f"{i.filter.on} ~ {i.filter.regex}",
        "start from": start,
        "strategy": i.settings.consumer_strategy,
        "message timeout": f"{i.settings.message_timeout:g} s",
        "max retry count": str(i.settings.max_retry_count),
        "checkpoint after": (
            f"{i.settings.checkpoint_after:g} s, {i.settings.min_checkpoint_count}"
            f" to {i.settings.max_checkpoint_count} events"
        ),
        "max consumers": str(i.settings.max_subscriber_count or "no limit"),
        "buffers (read/history/live)": (
            f"{i.settings.read_batch_size}/{i.settings.history_buffer_size}/"
            f"{i.settings.live_buffer_size}"
        ),
        "position": _shown(i.last_read_position),
        "checkpoint": _shown(i.last_checkpointed_position),
        "head": _shown(i.last_known_position),
        "in flight": str(i.in_flight),
        "waiting (retries, replays)": str(i.waiting),
        "parked": f"{i.parked} in {i.parked_stream}",
        "highest retry count": str(i.highest_retry_count),
        "delivered / acked": f"{i.delivered_total} / {i.acked_total}",
        "retried / skipped / parked (all time)": (
            f"{i.retried_total} / {i.skipped_total} / {i.parked_total}"
        ),
    }
    for label, value in rows.items():
        table.add_row(label, value)
    return table


@groups_app.command("create")
def create(
    name: GroupName,
    stream: StreamOption = None,
    stream_prefix: Annotated[
        list[str] | None, typer.Option("--stream-prefix", help="$all: only these stream prefixes")
    ] = None,
    event_type: Annotated[
        list[str] | None, typer.Option("--type", help="$all: only these event types")
    ] = None,
    from_end: Annotated[bool, typer.Option(help="only events appended from now on")] = False,
    from_position: Annotated[
        int | None, typer.Option(help="first commit position (or stream revision), inclusive")
    ] = None,
    message_timeout: Annotated[
        float, typer.Option(help="seconds before an unacknowledged event goes back")
    ] = _DEFAULTS.message_timeout,
    max_retry_count: Annotated[
        int, typer.Option(help="retries before an event is parked")
    ] = _DEFAULTS.max_retry_count,
    strategy: Annotated[
        str, typer.Option(help=f"one of {', '.join(CONSUMER_STRATEGIES)}")
    ] = _DEFAULTS.consumer_strategy,
    checkpoint_after: Annotated[
        float, typer.Option(help="seconds between checkpoints")
    ] = _DEFAULTS.checkpoint_after,
    min_checkpoint_count: Annotated[int, typer.Option()] = _DEFAULTS.min_checkpoint_count,
    max_checkpoint_count: Annotated[int, typer.Option()] = _DEFAULTS.max_checkpoint_count,
    max_consumers: Annotated[
        int, typer.Option(help="consumers at once (0: no limit)")
    ] = _DEFAULTS.max_subscriber_count,
    read_batch_size: Annotated[int, typer.Option()] = _DEFAULTS.read_batch_size,
    history_buffer_size: Annotated[int, typer.Option()] = _DEFAULTS.history_buffer_size,
    live_buffer_size: Annotated[int, typer.Option()] = _DEFAULTS.live_buffer_size,
) -> None:
    """Create a group on $all (optionally filtered) or on one stream."""
    if stream_prefix and event_type:
        raise typer.BadParameter("filter on stream prefixes or on event types, not both")
    if stream and (stream_prefix or event_type):
        raise typer.BadParameter("a group on a stream takes no filter")
    if strategy not in CONSUMER_STRATEGIES:
        raise typer.BadParameter(f"--strategy must be one of {', '.join(CONSUMER_STRATEGIES)}")
    try:
        settings = GroupSettings(
            message_timeout=message_timeout,
            max_retry_count=max_retry_count,
            consumer_strategy=strategy,
            checkpoint_after=checkpoint_after,
            min_checkpoint_count=min_checkpoint_count,
            max_checkpoint_count=max_checkpoint_count,
            max_subscriber_count=max_consumers,
            read_batch_size=read_batch_size,
            history_buffer_size=history_buffer_size,
            live_buffer_size=live_buffer_size,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    with _groups(new_store=True) as groups:
        if stream:
            groups.create_subscription_to_stream(
                name, stream, from_end=from_end, stream_position=from_position, settings=settings
            )
        else:
            event_filter = (
                EventFilter.stream_prefixes(*stream_prefix)
                if stream_prefix
                else EventFilter.event_types(*event_type)
                if event_type
                else None
            )
            groups.create_subscription_to_all(
                name,
                from_end=from_end,
                commit_position=from_position,
                filter=event_filter,
                settings=settings,
            )
    out().print(f"created group {name} on {stream or '$all'}")


@groups_app.command("delete")
def delete(name: GroupName, stream: StreamOption = None) -> None:
    """Delete a group, its state and its parked events; its consumers stop."""
    with _groups() as groups:
        groups.delete_subscription(name, stream)
    out().print(f"deleted group {name} on {stream or '$all'}")


@groups_app.command("replay-parked")
def replay_parked(
    name: GroupName,
    stream: StreamOption = None,
    stop_at: Annotated[
        int | None, typer.Option(help="replay only the oldest N (default: all)")
    ] = None,
) -> None:
    """Give parked events back to the group (oldest first), ahead of new events."""
    with _groups() as groups:
        before = groups.get_subscription_info(name, stream).parked
        groups.replay_parked_events(name, stream, stop_at=stop_at)
        after = groups.get_subscription_info(name, stream).parked
    out().print(f"{name}: replaying {before - after} parked events; {after} stay parked")
