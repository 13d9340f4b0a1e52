"""One write transaction of a group: acknowledgements in, timeouts out, events dispatched.

Every function here runs under SQLite's write lock, held by whichever consumer (of any thread
or process) needs events or has acknowledgements to send. That consumer dispatches for the
whole group: waiting events (retries and replays first) and new events from the store go to
every connected consumer with room in its buffer, by the group's strategy, each row stamped
with the consumer, a deadline and a dispatch sequence number. A consumer then takes the rows
stamped for it with a sequence number above the last it took. Two consumers therefore never
hold one event at once, and a consumer that dies holds its events only until their deadline.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from write_side.eventstore.model import (
    EventFilter,
    NewEvent,
    RecordedEvent,
    StreamState,
    is_excluded_by_default,
)
from write_side.eventstore.sqlite.notifier import signal_change
from write_side.eventstore.sqlite.schema import EVENT_COLUMNS
from write_side.eventstore.sqlite.transaction import WriteTx, fetch_stream
from write_side.groups.model import GroupSettings, parked_stream_name
from write_side.groups.sqlite.rows import GroupRow, at, recorded
from write_side.groups.sqlite.strategy import assign

#: Type and content type of a parked event: a link to the original, as EventStoreDB writes it.
LINK_EVENT_TYPE = "$>"
LINK_CONTENT_TYPE = "application/octet-stream"

#: Pages of `read_batch_size` events one dispatch scans at most (a selective filter may match
#: nothing in them); the write lock is never held for a whole history.
MAX_SCAN_PAGES = 8

_FETCH = (
    f"SELECT m.seq, m.retry_count, {EVENT_COLUMNS} FROM subscription_group_messages m "
    "JOIN events e ON e.position = m.position JOIN streams s ON s.id = e.stream_id "
    "WHERE m.consumer_id = ? AND m.seq > ? ORDER BY m.seq"
)


@dataclass(slots=True)
class Totals:
    """What one transaction adds to a group's running totals."""

    delivered: int = 0
    acked: int = 0
    retried: int = 0
    skipped: int = 0
    parked: int = 0


class GroupTx:
    """The work of one write transaction on one group (see the module's docstring)."""

    def __init__(self, conn: sqlite3.Connection, group: GroupRow, now_us: int) -> None:
        self.conn = conn
        self.group = group
        self.now_us = now_us
        self.totals = Totals()
        self.woke_others = False
        """True when this transaction gave events to other consumers or back to the group."""
        self._writes: WriteTx | None = None
        self._source_has_more = False

    @property
    def settings(self) -> GroupSettings:
        """The group's settings."""
        return self.group.settings

    @property
    def source_has_more(self) -> bool:
        """True when this transaction's dispatch stopped short of the end of the source."""
        return self._source_has_more

    # -- consumers ----------------------------------------------------------------------------

    def join(self, consumer_id: int | None, name: str, buffer_size: int) -> int:
        """Register a consumer (again, under its id, when it had been dropped); its id."""
        cursor = self.conn.execute(
            "INSERT INTO subscription_group_consumers "
            "(id, group_id, name, buffer_size, joined_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
            (consumer_id, self.group.id, name, buffer_size, self.now_us, self.now_us),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def heartbeat(self, consumer_id: int, name: str, buffer_size: int) -> None:
        """The consumer is alive; one dropped for silence comes back under its id."""
        updated = self.conn.execute(
            "UPDATE subscription_group_consumers SET last_seen = ? WHERE id = ?",
            (self.now_us, consumer_id),
        ).rowcount
        if not updated:
            self.join(consumer_id, name, buffer_size)

    def connected(self, liveness_us: int) -> int:
        """Drop consumers silent for longer than `liveness_us`; how many remain."""
        stale = [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM subscription_group_consumers WHERE group_id = ? AND last_seen < ?",
                (self.group.id, self.now_us - liveness_us),
            )
        ]
        for consumer_id in stale:
            self.leave(consumer_id, handed=None)
        (count,) = self.conn.execute(
            "SELECT COUNT(*) FROM subscription_group_consumers WHERE group_id = ?",
            (self.group.id,),
        ).fetchone()
        return int(count)

    def leave(self, consumer_id: int, handed: Iterable[int] | None) -> None:
        """Unregister a consumer and give its events back to the group at once.

        Events it had handed to its caller (all of them when `handed` is None: a consumer that
        went silent) count as delivered, so their retry count goes up, as EventStoreDB does
        for a client that disconnects; those still in its buffer do not.
        """
        before = self.conn.total_changes
        if handed is None:
            self.conn.execute(
                "UPDATE subscription_group_messages SET retry_count = retry_count + 1 "
                "WHERE consumer_id = ?",
                (consumer_id,),
            )
        else:
            self.conn.executemany(
                "UPDATE subscription_group_messages SET retry_count = retry_count + 1 "
                "WHERE group_id = ? AND position = ? AND consumer_id = ?",
                [(self.group.id, p, consumer_id) for p in handed],
            )
        self.totals.retried += self.conn.total_changes - before
        released = self.conn.execute(
            "UPDATE subscription_group_messages SET consumer_id = NULL, seq = NULL, "
            "deadline_us = NULL WHERE consumer_id = ?",
            (consumer_id,),
        ).rowcount
        self.conn.execute("DELETE FROM subscription_group_consumers WHERE id = ?", (consumer_id,))
        self.woke_others = self.woke_others or released > 0

    # -- acknowledgements ---------------------------------------------------------------------

    def ack(self, consumer_id: int, acked: Sequence[int], skipped: Sequence[int]) -> None:
        """Forget handled (and skipped) events, whoever holds them now."""
        for positions, kind in ((acked, "acked"), (skipped, "skipped")):
            if not positions:
                continue
            before = self.conn.total_changes
            self.conn.executemany(
                "DELETE FROM subscription_group_messages WHERE group_id = ? AND position = ?",
                [(self.group.id, p) for p in positions],
            )
            done = self.conn.total_changes - before
            setattr(self.totals, kind, getattr(self.totals, kind) + done)
            self.group.uncheckpointed += done
        if acked:
            self.conn.execute(
                "UPDATE subscription_group_consumers SET acked = acked + ? WHERE id = ?",
                (len(acked), consumer_id),
            )

    def nack(self, consumer_id: int, retry: Sequence[int], park: Sequence[int]) -> None:
        """Retry (or park, when out of retries) and park events this consumer still holds."""
        for positions, parking in ((retry, False), (park, True)):
            held: list[tuple[int, int]] = []
            for position in positions:
                row = self.conn.execute(
                    "SELECT retry_count FROM subscription_group_messages "
                    "WHERE group_id = ? AND position = ? AND consumer_id = ?",
                    (self.group.id, position, consumer_id),
                ).fetchone()
                if row is not None:
                    held.append((position, row[0]))
            if parking:
                self.park(held, "the consumer parked it")
            else:
                self.retry_or_park(held)

    def retry_or_park(self, held: Sequence[tuple[int, int]]) -> None:
        """Put events back for another delivery, parking those out of retries."""
        limit = self.settings.max_retry_count
        exhausted = [(p, n) for p, n in held if n >= limit]
        again = [(p, n) for p, n in held if n < limit]
        self.park(exhausted, f"reached the maximum retry count of {limit}")
        self.conn.executemany(
            "UPDATE subscription_group_messages SET consumer_id = NULL, seq = NULL, "
            "deadline_us = NULL, retry_count = retry_count + 1 WHERE group_id = ? AND position = ?",
            [(self.group.id, p) for p, _ in again],
        )
        self.totals.retried += len(again)
        self.woke_others = self.woke_others or bool(again)

    def park(self, held: Sequence[tuple[int, int]], reason: str) -> None:
        """Append a link to each event to the parked stream and drop it from the group."""
        if not held:
            return
        parked = parked_stream_name(self.group.name, self.group.stream_name)
        parked_at = at(self.now_us).isoformat()
        for position, retry_count in held:
            event_id, stream, revision = self.conn.execute(
                "SELECT e.id, s.name, e.revision FROM events e "
                "JOIN streams s ON s.id = e.stream_id WHERE e.position = ?",
                (position,),
            ).fetchone()
            metadata = {
                "position": position,
                "event_id": str(uuid.UUID(bytes=event_id)),
                "retry_count": retry_count,
                "reason": reason,
                "parked_at": parked_at,
            }
            link = NewEvent(
                type=LINK_EVENT_TYPE,
                data=f"{revision}@{stream}".encode(),
                metadata=orjson.dumps(metadata),
                content_type=LINK_CONTENT_TYPE,
            )
            self.store_writes().append(parked, [link], StreamState.ANY)
        self.conn.executemany(
            "DELETE FROM subscription_group_messages WHERE group_id = ? AND position = ?",
            [(self.group.id, p) for p, _ in held],
        )
        self.totals.parked += len(held)

    def store_writes(self) -> WriteTx:
        """Writes to the store's own tables (parked events, their metadata) in this transaction."""
        if self._writes is None:
            self._writes = WriteTx(self.conn, self.now_us)
        return self._writes

    # -- dispatch -----------------------------------------------------------------------------

    def expire(self) -> None:
        """Events past their deadline go back to the group, or to the parked stream."""
        overdue = self.conn.execute(
            "SELECT position, retry_count FROM subscription_group_messages "
            "WHERE group_id = ? AND deadline_us < ?",
            (self.group.id, self.now_us),
        ).fetchall()
        self.retry_or_park([(p, n) for p, n in overdue])

    def dispatch(self, dispatcher: int | None) -> None:
        """Give waiting events, then new ones, to the consumers with room, by the strategy.

        `dispatcher` is the consumer running this transaction (None: an operator's command).
        """
        free = self.conn.execute(
            "SELECT c.id, c.buffer_size - (SELECT COUNT(*) FROM subscription_group_messages m "
            "WHERE m.consumer_id = c.id) FROM subscription_group_consumers c "
            "WHERE c.group_id = ? ORDER BY c.id",
            (self.group.id,),
        ).fetchall()
        room = sum(max(0, space) for _, space in free)
        if room == 0:
            return
        waiting = [
            r[0]
            for r in self.conn.execute(
                "SELECT position FROM subscription_group_messages "
                "WHERE group_id = ? AND deadline_us IS NULL "
                "ORDER BY replayed DESC, position LIMIT ?",
                (self.group.id, room),
            )
        ]
        fresh = self._take_new(room - len(waiting))
        positions = waiting + fresh
        if not positions:
            return
        chosen, self.group.rotation = assign(
            free, len(positions), self.settings.consumer_strategy, self.group.rotation
        )
        deadline = self.now_us + int(self.settings.message_timeout * 1_000_000)
        first_seq = self.group.next_seq + 1
        self.group.next_seq += len(chosen)
        stamped = list(
            zip(chosen, range(first_seq, first_seq + len(chosen)), positions, strict=False)
        )
        self.conn.executemany(
            "UPDATE subscription_group_messages SET consumer_id = ?, seq = ?, deadline_us = ? "
            "WHERE group_id = ? AND position = ?",
            [(c, seq, deadline, self.group.id, p) for c, seq, p in stamped[: len(waiting)]],
        )
        self.conn.executemany(
            "INSERT INTO subscription_group_messages "
            "(group_id, position, retry_count, consumer_id, seq, deadline_us) "
            "VALUES (?, ?, 0, ?, ?, ?)",
            [(self.group.id, p, c, seq, deadline) for c, seq, p in stamped[len(waiting) :]],
        )
        per_consumer: dict[int, int] = {}
        for consumer in chosen:
            per_consumer[consumer] = per_consumer.get(consumer, 0) + 1
        self.conn.executemany(
            "UPDATE subscription_group_consumers SET delivered = delivered + ? WHERE id = ?",
            [(n, c) for c, n in per_consumer.items()],
        )
        self.totals.delivered += len(chosen)
        # Others are told when they got events, and when they have room while the source
        # may hold more than this dispatch took (it takes a bounded slice): the consumers
        # of other processes wait for new events or a signal, and the backlog is neither.
        left_for_others = any(
            space > per_consumer.get(c, 0) for c, space in free if c != dispatcher
        )
        self.woke_others = (
            self.woke_others
            or any(c != dispatcher for c in per_consumer)
            or (self._source_has_more and left_for_others)
        )

    def _take_new(self, wanted: int) -> list[int]:
        """Positions of up to `wanted` new events of the source; moves the cursor past them."""
        if wanted <= 0:
            return []
        settings = self.settings
        limit = min(wanted, settings.live_buffer_size)
        taken: list[int] = []
        self._source_has_more = True  # until a page comes back short
        for page in range(MAX_SCAN_PAGES):
            rows, matching = self._page(settings.read_batch_size)
            if not rows:
                self._source_has_more = False
                break
            if page == 0 and len(rows) == settings.read_batch_size:
                limit = min(wanted, settings.history_buffer_size)  # catching up
            for cursor, position in matching:
                taken.append(position)
                if len(taken) == limit:
                    self.group.cursor = cursor
                    return taken
            self.group.cursor = rows[-1]
            if len(rows) < settings.read_batch_size:
                self._source_has_more = False
                break
        return taken

    def _page(self, size: int) -> tuple[list[int], list[tuple[int, int]]]:
        """The next page of the source after the cursor: every cursor value read, and the
        (cursor, position) of each event the group delivers."""
        if self.group.stream_name is None:
            positions, wanted = page_of_all(self.conn, self.group.filter, self.group.cursor, size)
            return positions, [(p, p) for p in wanted]
        stream = fetch_stream(self.conn, self.group.stream_name)
        if stream.id is None:
            return [], []
        hidden_below = stream.truncate_before or 0
        found = self.conn.execute(
            "SELECT revision, position FROM events WHERE stream_id = ? AND revision > ? "
            "AND revision >= ? ORDER BY revision LIMIT ?",
            (stream.id, self.group.cursor, hidden_below, size),
        ).fetchall()
        if not found and min(stream.last_revision, hidden_below - 1) > self.group.cursor:
            # Everything new is truncated or deleted: move past it, delivering nothing.
            return [min(stream.last_revision, hidden_below - 1)], []
        return [r[0] for r in found], [(r[0], r[1]) for r in found]

    def fetch(self, consumer_id: int, after_seq: int) -> list[tuple[int, int, RecordedEvent]]:
        """(seq, retry count, event) of each event stamped for the consumer after `after_seq`."""
        return [
            (row[0], row[1], recorded(row[2:]))
            for row in self.conn.execute(_FETCH, (consumer_id, after_seq))
        ]

    # -- checkpoint and end -------------------------------------------------------------------

    def checkpoint_if_due(self) -> None:
        """Record the checkpoint after `checkpoint_after` and `min_checkpoint_count` acks, or
        at once after `max_checkpoint_count`: the last position all before which is handled."""
        group, settings = self.group, self.settings
        due = group.uncheckpointed >= settings.max_checkpoint_count or (
            group.uncheckpointed >= settings.min_checkpoint_count
            and self.now_us - group.checkpointed_at >= settings.checkpoint_after * 1_000_000
        )
        if not due:
            return
        (oldest,) = self.conn.execute(
            "SELECT MIN(position) FROM subscription_group_messages "
            "WHERE group_id = ? AND replayed = 0",
            (group.id,),
        ).fetchone()
        if oldest is None:
            mark: int | None = group.cursor
        elif group.stream_name is None:
            (mark,) = self.conn.execute(
                "SELECT MAX(position) FROM events WHERE position < ?", (oldest,)
            ).fetchone()
        else:
            (revision,) = self.conn.execute(
                "SELECT revision FROM events WHERE position = ?", (oldest,)
            ).fetchone()
            mark = revision - 1
        if mark is not None and (group.checkpoint is None or mark > group.checkpoint):
            group.checkpoint = mark
        group.checkpointed_at = self.now_us
        group.uncheckpointed = 0

    def finish(self) -> None:
        """Write the store's buffered rows and the group's row back; signal the other
        processes when this transaction gave them events (`woke_others`)."""
        if self._writes is not None:
            self._writes.flush()
        if self.woke_others:
            signal_change(self.conn)
        group, totals = self.group, self.totals
        self.conn.execute(
            "UPDATE subscription_groups SET cursor = ?, checkpoint = ?, checkpointed_at = ?, "
            "uncheckpointed = ?, next_seq = ?, rotation = ?, delivered = delivered + ?, "
            "acked = acked + ?, retried = retried + ?, skipped = skipped + ?, "
            "parked = parked + ? WHERE id = ?",
            (
                group.cursor,
                group.checkpoint,
                group.checkpointed_at,
                group.uncheckpointed,
                group.next_seq,
                group.rotation,
                totals.delivered,
                totals.acked,
                totals.retried,
                totals.skipped,
                totals.parked,
                group.id,
            ),
        )

    @property
    def wrote_events(self) -> bool:
        """True when parked events (or parked-stream metadata) were appended to the store."""
        return self._writes is not None and self._writes.buffered > 0


def page_of_all(
    conn: sqlite3.Connection, event_filter: EventFilter | None, after: int, size: int
) -> tuple[list[int], list[int]]:
    """The positions of the next `size` events of `$all` after `after`, and those of them a
    group with `event_filter` delivers."""
    found = conn.execute(
        "SELECT e.position, s.name, e.type FROM events e "
        "JOIN streams s ON s.id = e.stream_id WHERE e.position > ? "
        "ORDER BY e.position LIMIT ?",
        (after, size),
    ).fetchall()
    matches = event_filter.matches if event_filter is not None else None
    return [r[0] for r in found], [
        r[0]
        for r in found
        if not is_excluded_by_default(r[1]) and (matches is None or matches(r[1], r[2]))
    ]
