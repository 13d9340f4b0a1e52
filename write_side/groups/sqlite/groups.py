"""`SqliteSubscriptionGroups`: persistent subscription groups in the SQLite event store's file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence

import orjson

from write_side.eventstore.model import (
    Capability,
    EventFilter,
    StreamMetadata,
    StreamState,
)
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.notifier import signal_change
from write_side.eventstore.sqlite.transaction import StreamRow, fetch_stream
from write_side.groups.errors import GroupAlreadyExists, GroupNotFound
from write_side.groups.model import (
    ALL_STREAMS,
    ConsumerInfo,
    GroupInfo,
    GroupSettings,
    parked_stream_name,
)
from write_side.groups.port import ConsumerBatching, GroupConsumer, SubscriptionGroups
from write_side.groups.sqlite.consumer import SqliteGroupConsumer
from write_side.groups.sqlite.database import GroupDatabase
from write_side.groups.sqlite.dispatch import GroupTx
from write_side.groups.sqlite.rows import GroupRow, at, dump_filter, dump_settings


class SqliteSubscriptionGroups(SubscriptionGroups):
    """Groups whose state lives in the store's own SQLite file, in tables of their own.

    Consumers in any thread or process that opens the same file share a group. Claims,
    acknowledgements, timeouts and parking are committed under SQLite's write lock, so an
    event is with one consumer at a time, and a restarted process finds the group exactly as
    it was left (events that were in flight come back after their message timeout). On
    `:memory:` the groups work within the one process that holds the store.
    """

    def __init__(self, store: SqliteEventStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._db = GroupDatabase(store, clock)
        self.capabilities = frozenset(
            {
                Capability.PERSISTENT_GROUPS,
                Capability.FULL_GROUP_INFO,
                Capability.DISPATCH_ON_RECEIVE,
            }
            | (store.capabilities & {Capability.MULTI_PROCESS, Capability.CRASH_DURABLE})
        )
        self._consumers: set[SqliteGroupConsumer] = set()
        self._consumers_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteSubscriptionGroups({self._store!r})"

    # -- definitions --------------------------------------------------------------------------

    def create_subscription_to_all(
        self,
        group_name: str,
        *,
        from_end: bool = False,
        commit_position: int | None = None,
        filter: EventFilter | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        _check_start(from_end, commit_position)
        with self._db.write() as conn:
            if from_end:
                (head,) = conn.execute("SELECT MAX(position) FROM events").fetchone()
                cursor = head or 0
            else:
                cursor = max(0, (commit_position or 1) - 1)
            self._insert(
                conn, group_name, None, filter, from_end, commit_position, cursor, settings
            )

    def create_subscription_to_stream(
        self,
        group_name: str,
        stream_name: str,
        *,
        from_end: bool = False,
        stream_position: int | None = None,
        settings: GroupSettings | None = None,
    ) -> None:
        _check_start(from_end, stream_position)
        if not stream_name or stream_name == ALL_STREAMS:
            raise ValueError(f"not a stream name: {stream_name!r}")
        with self._db.write() as conn:
            if from_end:
                cursor = fetch_stream(conn, stream_name).last_revision
            else:
                cursor = (stream_position or 0) - 1
            self._insert(
                conn, group_name, stream_name, None, from_end, stream_position, cursor, settings
            )

    def _insert(
        self,
        conn: sqlite3.Connection,
        group_name: str,
        stream_name: str | None,
        event_filter: EventFilter | None,
        from_end: bool,
        start: int | None,
        cursor: int,
        settings: GroupSettings | None,
    ) -> None:
        if not group_name:
            raise ValueError("a group needs a name")
        source = stream_name or ALL_STREAMS
        if GroupRow.load(conn, "source = ? AND name = ?", (source, group_name)) is not None:
            raise GroupAlreadyExists(group_name, stream_name)
        conn.execute(
            "INSERT INTO subscription_groups (source, name, filter, from_end, start_position, "
            "settings, cursor, checkpointed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                group_name,
                dump_filter(event_filter),
                int(from_end),
                start,
                dump_settings(settings or GroupSettings()),
                cursor,
                self._db.now_us(),
                self._db.now_us(),
            ),
        )

    def update_subscription_to_all(self, group_name: str, *, settings: GroupSettings) -> None:
        self._update(group_name, None, settings)

    def update_subscription_to_stream(
        self, group_name: str, stream_name: str, *, settings: GroupSettings
    ) -> None:
        self._update(group_name, stream_name, settings)

    def _update(self, group_name: str, stream_name: str | None, settings: GroupSettings) -> None:
        with self._db.write() as conn:
            updated = conn.execute(
                "UPDATE subscription_groups SET settings = ? WHERE source = ? AND name = ?",
                (dump_settings(settings), stream_name or ALL_STREAMS, group_name),
            ).rowcount
            signal_change(conn)
        if not updated:
            raise GroupNotFound(group_name, stream_name)
        self._db.notifier.changed(signal=True)

    def delete_subscription(self, group_name: str, stream_name: str | None = None) -> None:
        with self._db.write() as conn:
            group = self._group(conn, group_name, stream_name)
            conn.execute("DELETE FROM subscription_group_messages WHERE group_id = ?", (group.id,))
            conn.execute("DELETE FROM subscription_group_consumers WHERE group_id = ?", (group.id,))
            conn.execute("DELETE FROM subscription_groups WHERE id = ?", (group.id,))
            signal_change(conn)
            parked = parked_stream_name(group_name, stream_name)
            tx = GroupTx(conn, group, self._db.now_us())
            if fetch_stream(conn, parked).exists:
                tx.store_writes().delete(parked, StreamState.ANY)
                tx.store_writes().flush()
        self._db.notifier.changed(signal=True)

    # -- figures ------------------------------------------------------------------------------

    def get_subscription_info(self, group_name: str, stream_name: str | None = None) -> GroupInfo:
        with self._db.read() as conn:
            return self._info(conn, self._group(conn, group_name, stream_name))

    def list_subscriptions(self) -> Sequence[GroupInfo]:
        with self._db.read() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM subscription_groups")]
            infos = []
            for group_id in ids:
                group = GroupRow.load(conn, "id = ?", (group_id,))
                assert group is not None
                infos.append(self._info(conn, group))
        return sorted(
            infos, key=lambda i: (i.stream_name is not None, i.event_source, i.group_name)
        )

    def _info(self, conn: sqlite3.Connection, group: GroupRow) -> GroupInfo:
        totals = conn.execute(
            "SELECT delivered, acked, retried, skipped, parked FROM subscription_groups "
            "WHERE id = ?",
            (group.id,),
        ).fetchone()
        in_flight, waiting, highest = conn.execute(
            "SELECT COUNT(consumer_id), COUNT(*) - COUNT(consumer_id), "
            "COALESCE(MAX(retry_count), 0) FROM subscription_group_messages WHERE group_id = ?",
            (group.id,),
        ).fetchone()
        consumers = tuple(
            ConsumerInfo(
                name=r[0],
                in_flight=r[1],
                buffer_size=r[2],
                delivered=r[3],
                acked=r[4],
                connected_at=at(r[5]),
                last_seen=at(r[6]),
            )
            for r in conn.execute(
                "SELECT c.name, (SELECT COUNT(*) FROM subscription_group_messages m "
                "WHERE m.consumer_id = c.id), c.buffer_size, c.delivered, c.acked, c.joined_at, "
                "c.last_seen FROM subscription_group_consumers c WHERE c.group_id = ? "
                "ORDER BY c.id",
                (group.id,),
            )
        )
        parked = fetch_stream(conn, parked_stream_name(group.name, group.stream_name))
        if group.stream_name is None:
            (head,) = conn.execute("SELECT MAX(position) FROM events").fetchone()
        else:
            last = fetch_stream(conn, group.stream_name).last_revision
            head = None if last < 0 else last
        initial = _initial_cursor(group)
        return GroupInfo(
            group_name=group.name,
            stream_name=group.stream_name,
            filter=group.filter,
            from_end=group.from_end,
            start_position=group.start_position,
            settings=group.settings,
            last_read_position=None if group.cursor == initial else group.cursor,
            last_checkpointed_position=group.checkpoint,
            last_known_position=head,
            in_flight=in_flight,
            waiting=waiting,
            parked=_visible_events(parked) if parked.exists else 0,
            highest_retry_count=highest,
            delivered_total=totals[0],
            acked_total=totals[1],
            retried_total=totals[2],
            skipped_total=totals[3],
            parked_total=totals[4],
            consumers=consumers,
        )

    # -- consumers and parked events ----------------------------------------------------------

    def _join(
        self, group_name: str, stream_name: str | None, batching: ConsumerBatching
    ) -> GroupConsumer:
        with self._db.read() as conn:
            group = self._group(conn, group_name, stream_name)
        consumer = SqliteGroupConsumer(
            self._db,
            group,
            batching,
            on_stop=self._forget,
        )
        with self._consumers_lock:
            self._consumers.add(consumer)
        return consumer

    def _forget(self, consumer: SqliteGroupConsumer) -> None:
        with self._consumers_lock:
            self._consumers.discard(consumer)

    def replay_parked_events(
        self, group_name: str, stream_name: str | None = None, *, stop_at: int | None = None
    ) -> None:
        if stop_at is not None and stop_at < 0:
            raise ValueError(f"stop_at must be >= 0, got {stop_at}")
        with self._db.write() as conn:
            group = self._group(conn, group_name, stream_name)
            parked_name = parked_stream_name(group_name, stream_name)
            parked = fetch_stream(conn, parked_name)
            if not parked.exists or stop_at == 0:
                return
            links = conn.execute(
                "SELECT revision, metadata FROM events WHERE stream_id = ? AND revision >= ? "
                "ORDER BY revision LIMIT ?",
                (
                    parked.id,
                    max(0, parked.truncate_before or 0),
                    -1 if stop_at is None else stop_at,
                ),
            ).fetchall()
            if not links:
                return
            conn.executemany(
                "INSERT OR IGNORE INTO subscription_group_messages "
                "(group_id, position, retry_count, replayed) VALUES (?, ?, 0, 1)",
                [(group.id, orjson.loads(metadata)["position"]) for _, metadata in links],
            )
            # As EventStoreDB does: the replayed links leave the parked stream by truncation.
            tx = GroupTx(conn, group, self._db.now_us())
            tx.store_writes().set_metadata(
                parked_name, StreamMetadata(truncate_before=links[-1][0] + 1), StreamState.ANY
            )
            tx.store_writes().flush()
            signal_change(conn)
        self._db.notifier.changed(signal=True)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._consumers_lock:
            consumers = list(self._consumers)
        for consumer in consumers:
            consumer.stop()
        self._db.close()

    def _group(
        self, conn: sqlite3.Connection, group_name: str, stream_name: str | None
    ) -> GroupRow:
        group = GroupRow.load(
            conn, "source = ? AND name = ?", (stream_name or ALL_STREAMS, group_name)
        )
        if group is None:
            raise GroupNotFound(group_name, stream_name)
        return group


def _check_start(from_end: bool, position: int | None) -> None:
    if from_end and position is not None:
        raise ValueError("start from the end or from a position, not both")
    if position is not None and position < 0:
        raise ValueError(f"a start position must be >= 0, got {position}")


def _initial_cursor(group: GroupRow) -> int | None:
    """The cursor a group had when created from a position (None: from the end, unknowable)."""
    if group.from_end:
        return None
    if group.stream_name is None:
        return max(0, (group.start_position or 1) - 1)
    return (group.start_position or 0) - 1


def _visible_events(stream: StreamRow) -> int:
    return stream.last_revision + 1 - max(0, stream.truncate_before or 0)
