"""A consumer of a group on the SQLite store: a local buffer filled, and acks sent, in batches."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from write_side.groups.errors import (
    GroupNotFound,
    MaximumSubscribersReached,
    SubscriptionGroupError,
)
from write_side.groups.model import NACK_ACTIONS, DeliveredEvent, GroupSettings, NackAction
from write_side.groups.port import ConsumerBatching, GroupConsumer
from write_side.groups.sqlite.database import GroupDatabase
from write_side.groups.sqlite.dispatch import MAX_SCAN_PAGES, GroupTx, page_of_all
from write_side.groups.sqlite.rows import GroupRow, parse_filter, parse_settings

log = logging.getLogger(__name__)

#: Longest single wait for events: a stopped consumer or a closed store is noticed by then.
_MAX_WAIT_S = 1.0


def heartbeat_interval(settings: GroupSettings) -> float:
    """How often a connected consumer tells the group it is alive."""
    return min(settings.message_timeout / 10, 1.0)


def liveness_us(settings: GroupSettings) -> int:
    """How long a consumer may stay silent before the group drops it and takes its events back.

    Shorter than the message timeout, so a dead consumer is dropped before its events expire
    and they are not dispatched to it again.
    """
    seconds = max(settings.message_timeout / 2, 3 * heartbeat_interval(settings))
    return int(seconds * 1_000_000)


@dataclass(frozen=True, slots=True)
class _Probe:
    """What a read of the group says: is there work for a write transaction, or how long to wait."""

    work: bool
    wait_s: float


class SqliteGroupConsumer(GroupConsumer):
    """Joins the group on creation; each refill is one transaction for acks and new events.

    On the live tail (the last refill reached the end of the source and left room in the
    buffer) refills come at most once per the store's live window (`GroupDatabase.
    live_window_s`): the first commit after a quiet spell is taken at once, while commits
    arriving faster are taken together, one write transaction per window instead of one per
    commit. Catching up is never held back.

    A background thread sends acknowledgements held longer than `max_ack_delay` and keeps the
    consumer's registration alive while its caller is busy with an event, so a slow handler is
    not mistaken for a dead process (its events still time out after the message timeout).
    """

    def __init__(
        self,
        db: GroupDatabase,
        group: GroupRow,
        batching: ConsumerBatching,
        *,
        on_stop: Callable[[SqliteGroupConsumer], None],
    ) -> None:
        self._db = db
        self._group_id = group.id
        self._group_name = group.name
        self._stream_name = group.stream_name
        self._settings = group.settings
        self._name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._buffer_size = batching.event_buffer_size
        self._max_ack_batch_size = batching.max_ack_batch_size
        self._max_ack_delay = batching.max_ack_delay
        self._on_stop = on_stop
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._buffer: deque[tuple[int, DeliveredEvent]] = deque()
        self._buffered: set[int] = set()
        self._held: dict[uuid.UUID, int] = {}
        self._acked: list[int] = []
        self._skipped: list[int] = []
        self._retry: list[int] = []
        self._park: list[int] = []
        self._pending_since: float | None = None
        self._last_refill = 0.0
        self._live = False
        """Whether the last refill (or probe) found the source's end: the live tail."""
        self._last_seq = 0
        self._scanned = -1
        """On `$all`: the position up to which the probe found nothing for the group beyond
        its cursor (the cursor is moved there with the next write, not by a write of its own)."""
        self._id = self._join()
        self._last_write = time.monotonic()
        self._keeper = threading.Thread(
            target=self._keep, name=f"group-consumer:{group.name}", daemon=True
        )
        self._keeper.start()

    @property
    def consumer_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"SqliteGroupConsumer({self._group_name!r}, {self._name!r})"

    # -- receiving ----------------------------------------------------------------------------

    def _next_within(self, timeout: float | None) -> DeliveredEvent | None:
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if self._stopped.is_set():
                    raise StopIteration
                if self._buffer:
                    position, delivered = self._buffer.popleft()
                    self._buffered.discard(position)
                    self._held[delivered.id] = position
                    return delivered
                wait_s = self._live_pause_s()
                seen = None
                if wait_s <= 0:
                    notifier = self._db.notifier
                    seen = notifier.events_version, notifier.signals_version
                    wait_s = self._refill()
                    if self._buffer:
                        continue
            if give_up is not None:
                left = give_up - time.monotonic()
                if left <= 0:
                    return None
                wait_s = min(wait_s, left)
            if seen is None:
                # On the live tail, within a window of the last refill: let commits gather.
                self._stopped.wait(wait_s)
            else:
                # New events, or a signal (events handed over, the group changed); the commits
                # of acknowledgements and heartbeats wake nobody.
                self._db.notifier.wait_for_work(*seen, wait_s)

    def _live_pause_s(self) -> float:
        """How long to wait before the next refill: on the live tail, until a window has
        passed since the last one; catching up, not at all."""
        if not self._live or self._db.live_window_s <= 0:
            return 0.0
        return self._last_refill + self._db.live_window_s - time.monotonic()

    def _refill(self) -> float:
        """Send what is pending and take the events stamped for this consumer; else how long
        to wait before anything can change without a commit (the next deadline)."""
        self._last_refill = time.monotonic()
        if not self._pending():
            probe = self._probe()
            if not probe.work:
                self._live = True
                return probe.wait_s
        with self._db.write() as conn:
            tx = self._begin(conn)
            tx.connected(liveness_us(tx.settings))
            tx.expire()
            tx.dispatch(self._id)
            rows = tx.fetch(self._id, self._last_seq)
            tx.checkpoint_if_due()
            tx.finish()
            (next_deadline,) = conn.execute(
                "SELECT MIN(deadline_us) FROM subscription_group_messages "
                "WHERE group_id = ? AND deadline_us IS NOT NULL",
                (self._group_id,),
            ).fetchone()
        self._committed(tx)
        self._live = not tx.source_has_more and len(rows) < self._buffer_size
        for seq, retry_count, event in rows:
            self._last_seq = max(self._last_seq, seq)
            if event.position not in self._buffered:
                self._buffered.add(event.position)
                self._buffer.append((event.position, DeliveredEvent(event, retry_count)))
        return self._wait_until(next_deadline)

    def _probe(self) -> _Probe:
        head = (
            "(SELECT MAX(position) FROM events)"
            if self._stream_name is None
            else "(SELECT MAX(revision) FROM events WHERE stream_id = "
            "(SELECT id FROM streams WHERE name = :stream))"
        )
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT g.cursor, g.settings, g.filter, "
                "EXISTS (SELECT 1 FROM subscription_group_messages "
                "WHERE consumer_id = :consumer AND seq > :seq), "
                "EXISTS (SELECT 1 FROM subscription_group_messages "
                "WHERE group_id = :group AND deadline_us IS NULL), "
                "(SELECT MIN(deadline_us) FROM subscription_group_messages "
                "WHERE group_id = :group AND deadline_us IS NOT NULL), "
                "(SELECT MIN(last_seen) FROM subscription_group_consumers "
                f"WHERE group_id = :group), {head} "
                "FROM subscription_groups g WHERE g.id = :group",
                {
                    "group": self._group_id,
                    "consumer": self._id,
                    "seq": self._last_seq,
                    "stream": self._stream_name,
                },
            ).fetchone()
            if found is None:
                raise GroupNotFound(self._group_name, self._stream_name)
            cursor, settings_text, filter_text, mine, waiting, next_deadline, oldest_seen, head = (
                found
            )
            self._settings = parse_settings(settings_text)
            now = self._db.now_us()
            work = (
                bool(mine)
                or bool(waiting)
                or (next_deadline is not None and next_deadline <= now)
                or (oldest_seen is not None and oldest_seen < now - liveness_us(self._settings))
            )
            if not work and head is not None and head > cursor:
                work = self._new_events_wanted(conn, filter_text, cursor, head)
        return _Probe(work, self._wait_until(next_deadline))

    def _new_events_wanted(
        self, conn: sqlite3.Connection, filter_text: str | None, cursor: int, head: int
    ) -> bool:
        """Whether the events after the cursor hold one for the group. A stream's events all
        are; on `$all`, the probe reads past those its filter leaves out (remembering how far),
        so events of no interest to the group never cost it a write transaction."""
        if self._stream_name is not None:
            return True
        after = max(cursor, self._scanned)
        event_filter = parse_filter(filter_text)
        size = self._settings.read_batch_size
        for _ in range(MAX_SCAN_PAGES):
            if after >= head:
                return False
            positions, wanted = page_of_all(conn, event_filter, after, size)
            if wanted:
                return True
            if not positions:
                return False
            after = self._scanned = positions[-1]
        return after < head

    def _wait_until(self, deadline_us: int | None) -> float:
        if deadline_us is None:
            return _MAX_WAIT_S
        return min(_MAX_WAIT_S, max(0.001, (deadline_us - self._db.now_us()) / 1e6 + 0.001))

    # -- acknowledging ------------------------------------------------------------------------

    def ack(self, item: uuid.UUID | DeliveredEvent) -> None:
        with self._lock:
            position = self._held.pop(_event_id(item), None)
            if position is not None:
                self._acked.append(position)
                self._mark_pending()

    def nack(self, item: uuid.UUID | DeliveredEvent, action: NackAction) -> None:
        if action not in NACK_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(NACK_ACTIONS)}, got {action!r}")
        if action == "stop":
            # The event stays held: stopping gives it back to the group as delivered.
            self.stop()
            return
        with self._lock:
            position = self._held.pop(_event_id(item), None)
            if position is None:
                return
            {"retry": self._retry, "park": self._park, "skip": self._skipped}[action].append(
                position
            )
            self._mark_pending()

    def _mark_pending(self) -> None:
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        pending = len(self._acked) + len(self._skipped) + len(self._retry) + len(self._park)
        if pending >= self._max_ack_batch_size:
            self._flush()

    def _pending(self) -> bool:
        return bool(self._acked or self._skipped or self._retry or self._park)

    def _flush(self) -> None:
        """Send pending acknowledgements (and the heartbeat) in one transaction."""
        with self._db.write() as conn:
            tx = self._begin(conn)
            tx.checkpoint_if_due()
            tx.finish()
        self._committed(tx)

    def _begin(self, conn: sqlite3.Connection) -> GroupTx:
        """Load the group, send the heartbeat and every pending (n)ack."""
        group = GroupRow.load(conn, "id = ?", (self._group_id,))
        if group is None:
            raise GroupNotFound(self._group_name, self._stream_name)
        self._settings = group.settings
        if self._scanned > group.cursor:
            group.cursor = self._scanned  # nothing for the group in between (see `_probe`)
        tx = GroupTx(conn, group, self._db.now_us())
        tx.heartbeat(self._id, self._name, self._buffer_size)
        tx.ack(self._id, self._acked, self._skipped)
        tx.nack(self._id, self._retry, self._park)
        return tx

    def _committed(self, tx: GroupTx) -> None:
        """After a commit: forget what was sent, wake this process's other consumers if due."""
        self._acked, self._skipped, self._retry, self._park = [], [], [], []
        self._pending_since = None
        self._last_write = time.monotonic()
        if tx.woke_others or tx.wrote_events:
            self._db.notifier.changed(events=tx.wrote_events, signal=tx.woke_others)

    # -- membership ---------------------------------------------------------------------------

    def _join(self) -> int:
        with self._db.write() as conn:
            group = GroupRow.load(conn, "id = ?", (self._group_id,))
            if group is None:
                raise GroupNotFound(self._group_name, self._stream_name)
            tx = GroupTx(conn, group, self._db.now_us())
            limit = group.settings.max_subscriber_count
            if limit and tx.connected(liveness_us(group.settings)) >= limit:
                raise MaximumSubscribersReached(group.name, group.stream_name, limit)
            consumer_id = tx.join(None, self._name, self._buffer_size)
            tx.finish()
        return consumer_id

    def _keep(self) -> None:
        """Send late acknowledgements and heartbeats until stopped."""
        while not self._stopped.wait(min(heartbeat_interval(self._settings), self._max_ack_delay)):
            with self._lock:
                if self._stopped.is_set():
                    return
                now = time.monotonic()
                late = self._pending_since is not None and (
                    now - self._pending_since >= self._max_ack_delay
                )
                if not late and now - self._last_write < heartbeat_interval(self._settings):
                    continue
                try:
                    self._flush()
                except (SubscriptionGroupError, sqlite3.Error) as error:
                    # The group was deleted or the store closed: the reader will find out.
                    log.debug("%r: keeper stops: %s", self, error)
                    return

    def stop(self) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            try:
                with self._db.write() as conn:
                    tx = self._begin(conn)
                    tx.leave(self._id, handed=list(self._held.values()))
                    tx.finish()
                self._committed(tx)
            except (SubscriptionGroupError, sqlite3.Error) as error:
                log.debug("%r: stopped without leaving: %s", self, error)
            self._held.clear()
            self._buffer.clear()
            self._buffered.clear()
        self._db.notifier.wake_all()
        if threading.current_thread() is not self._keeper:
            self._keeper.join(timeout=5)
        self._on_stop(self)


def _event_id(item: uuid.UUID | DeliveredEvent) -> uuid.UUID:
    return item.id if isinstance(item, DeliveredEvent) else item
