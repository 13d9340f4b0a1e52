"""Catch-up subscriptions over the SQLite store: page through history, then wait on the notifier."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from write_side.eventstore.errors import EventStoreClosed
from write_side.eventstore.model import CaughtUp, Checkpoint, RecordedEvent
from write_side.eventstore.port import Subscription, SubscriptionItem
from write_side.eventstore.sqlite.notifier import ChangeNotifier

#: Upper bound on one wait, so a subscription notices a closed store even without a wake-up.
_MAX_WAIT_S = 0.5

#: Reads the page after a cursor (a position in `$all`, a revision in a stream) and returns the
#: events that pass the filter, the last cursor and the last commit position it scanned
#: (both None when there was nothing new).
PageReader = Callable[[int], tuple[list[RecordedEvent], int | None, int | None]]


class CatchUpSubscription(Subscription):
    """History page by page, then the live tail; the cursor is a position or a revision.

    On the live tail it reads at most once per tick of `live_batch_window_s` (the grid of
    `_hold_back`): a commit after a quiet spell is read at once, while commits arriving faster
    than that are read together, one read (and one batch for its consumer) per window instead
    of one per commit.
    """

    def __init__(
        self,
        read_page: PageReader,
        notifier: ChangeNotifier,
        *,
        after: int,
        after_position: int | None,
        is_closed: Callable[[], bool],
        include_checkpoints: bool = False,
        include_caught_up: bool = False,
        wake_on_every_commit: bool = False,
        live_batch_window_s: float = 0.0,
    ) -> None:
        self._read_page = read_page
        self._notifier = notifier
        self._after = after
        self._position = after_position
        self._is_closed = is_closed
        self._include_checkpoints = include_checkpoints
        self._include_caught_up = include_caught_up
        self._buffer: deque[SubscriptionItem] = deque()
        self._caught_up = False
        self._stopped = threading.Event()
        self._wake_on_every_commit = wake_on_every_commit
        self._window_s = live_batch_window_s
        self._last_read = 0.0

    def __next__(self) -> SubscriptionItem:
        timed_out = False
        while not self._buffer:
            if self._stopped.is_set():
                raise StopIteration
            if self._is_closed():
                self._stopped.set()
                raise EventStoreClosed("the event store was closed under this subscription")
            # Read the version *before* the data: a commit after our read then always wakes us.
            seen = self._seen()
            if not timed_out:
                # The read after a wait that timed out is a check, not a read of new commits:
                # a commit soon after it is still one after a quiet spell, read at once.
                self._last_read = time.monotonic()
            events, cursor, position = self._read_page(self._after)
            if cursor is not None:
                self._buffer.extend(events)
                self._after, self._position = cursor, position
                skipped_tail = not events or events[-1].position != position
                if skipped_tail and self._include_checkpoints and position is not None:
                    self._buffer.append(Checkpoint(position))
                continue
            if not self._caught_up:
                self._caught_up = True
                if self._include_caught_up:
                    self._buffer.append(CaughtUp(self._position))
                    continue
            timed_out = not self._wait(seen)
            if not timed_out:
                self._hold_back()
        return self._buffer.popleft()

    def _seen(self) -> int:
        if self._wake_on_every_commit:
            return self._notifier.version
        return self._notifier.events_version

    def _wait(self, seen: int) -> bool:
        """Wait for a commit after `seen`; False after `_MAX_WAIT_S` without one."""
        if self._wake_on_every_commit:
            return self._notifier.wait_for_change(seen, _MAX_WAIT_S)
        return self._notifier.wait_for_events(seen, _MAX_WAIT_S)

    def _hold_back(self) -> None:
        """Wait for the next tick of the window's grid after the last read, so that commits
        arriving meanwhile are read together.

        The grid is the monotonic clock's multiples of the window, the same for every
        subscription with that window: on a busy store the live subscriptions of a process
        wake at the same moments and share one read of the tail (see the store's
        `_rows_after`), instead of each reading it at a moment of its own.
        """
        if self._window_s <= 0:
            return
        early = next_tick(self._window_s, self._last_read) - time.monotonic()
        if early > 0:
            self._stopped.wait(early)

    def stop(self) -> None:
        """End the subscription; a blocked reader wakes and its iteration ends."""
        self._stopped.set()
        self._notifier.wake_all()

    @property
    def cursor(self) -> int:
        """The last position (or revision) this subscription has considered."""
        return self._after


def next_tick(window: float, after: float) -> float:
    """The first tick of the window's grid (the monotonic clock's multiples of `window`) later
    than `after`."""
    return (after // window + 1) * window
