"""Catch-up subscriptions over esdbclient, resumed after a dropped call from where they were."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NoReturn

import esdbclient
import esdbclient.exceptions as esdb_errors
from esdbclient.common import AbstractCatchupSubscription

from write_side.eventstore.errors import EventStoreClosed, EventStoreUnavailable
from write_side.eventstore.esdb.translate import raise_translated, recorded_event
from write_side.eventstore.model import CaughtUp, Checkpoint
from write_side.eventstore.port import Subscription, SubscriptionItem

log = logging.getLogger(__name__)

#: Opens the server-side subscription after a position (None: from where the caller asked).
Opener = Callable[[int | None], AbstractCatchupSubscription]

#: How often a dropped subscription is reopened before the error reaches the caller.
RESUME_ATTEMPTS = 5
RESUME_BACKOFF_S = 0.1


class EsdbSubscription(Subscription):
    """One esdbclient catch-up subscription, in our item types.

    The server drops slow or interrupted subscriptions (`ConsumerTooSlow`, unavailable): it
    is reopened after the last item it delivered, a few times with a growing pause, so the
    caller sees neither a gap nor a duplicate; then the error reaches the caller, whose own
    checkpoint is where it restarts from.
    """

    def __init__(
        self,
        open_after: Opener,
        *,
        stream: str | None,
        keeps: Callable[[esdbclient.RecordedEvent], bool],
        start: int | None,
    ) -> None:
        self._open_after = open_after
        self._stream = stream
        self._keeps = keeps
        self._last: int | None = start
        """The last position (or stream revision) delivered or passed by a checkpoint."""
        self._stopped = threading.Event()
        self._closed_store = False
        self._lock = threading.Lock()
        self._current: AbstractCatchupSubscription | None = self._open(None)

    def __next__(self) -> SubscriptionItem:
        failures = 0
        while True:
            current = self._current
            if current is None or self._stopped.is_set():
                self._end()
            try:
                item = next(current)
            except StopIteration:
                self._end()
            except (esdb_errors.AbortedByServer, esdb_errors.ServiceUnavailable) as error:
                failures += 1
                if self._stopped.is_set():
                    self._end()
                if failures > RESUME_ATTEMPTS:
                    raise EventStoreUnavailable(
                        f"subscription dropped {failures} times: {error!r}"
                    ) from error
                log.warning("subscription dropped (%r); reopening after %s", error, self._last)
                time.sleep(RESUME_BACKOFF_S * 2 ** (failures - 1))
                self._reopen()
                continue
            except esdb_errors.EventStoreDBClientException as error:
                raise_translated(error, self._stream, None)
            failures = 0
            mapped = self._item(item)
            if mapped is not None:
                return mapped

    def _item(self, item: esdbclient.RecordedEvent) -> SubscriptionItem | None:
        if isinstance(item, esdbclient.Checkpoint):
            assert item.commit_position is not None
            self._last = item.commit_position
            return Checkpoint(item.commit_position)
        if isinstance(item, esdbclient.CaughtUp):
            return CaughtUp(self._last)
        self._last = item.stream_position if self._stream is not None else item.commit_position
        if not self._keeps(item):
            return None
        return recorded_event(item)

    def _open(self, after: int | None) -> AbstractCatchupSubscription:
        try:
            return self._open_after(after)
        except esdb_errors.EventStoreDBClientException as error:
            raise_translated(error, self._stream, None)

    def _reopen(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.stop()
            if self._stopped.is_set():
                self._current = None
                return
        fresh = self._open(self._last)
        with self._lock:
            if self._stopped.is_set():
                fresh.stop()
                self._current = None
            else:
                self._current = fresh

    def _end(self) -> NoReturn:
        if self._closed_store:
            raise EventStoreClosed("the event store was closed under this subscription")
        raise StopIteration

    def close_with_store(self) -> None:
        """The store is closing: end with `EventStoreClosed` rather than a plain stop."""
        self._closed_store = True
        self.stop()

    def stop(self) -> None:
        """End the subscription; a blocked reader wakes and its iteration ends."""
        self._stopped.set()
        with self._lock:
            current = self._current
        if current is not None:
            try:
                current.stop()
            except esdb_errors.EventStoreDBClientException as error:  # already broken
                log.debug("stopping a subscription: %r", error)

    @property
    def cursor(self) -> int | None:
        """The last position (or revision) this subscription has considered."""
        return self._last
