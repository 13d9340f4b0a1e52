"""Contract: processes sharing one store append exactly once while subscribers see everything."""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from tests.contracts.children import Child
from tests.contracts.concurrency import TIMEOUT_S, only, strictly_increasing
from tests.contracts.conftest import Backend, requires
from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    Capability,
    EventFilter,
    EventStore,
    RecordedEvent,
    StreamState,
)


@dataclass(frozen=True)
class ChildAck:
    """One append a child process reported as acknowledged by the store."""

    stream: str
    id: uuid.UUID
    position: int
    expected_revision: int  # what the successful try expected (-1: NO_STREAM)
    attempts: int

    @classmethod
    def parse(cls, line: str) -> ChildAck:
        raw = json.loads(line)
        return cls(
            raw["stream"], uuid.UUID(raw["id"]), raw["position"], raw["expected"], raw["attempts"]
        )


class Follower:
    """A catch-up subscription to `$all` from the start, drained by a thread until a marker.

    The marker is the first event of `until_stream`, appended by the test once all else is.
    """

    def __init__(self, store: EventStore, filter: EventFilter, until_stream: str) -> None:
        self.received: list[RecordedEvent] = []
        self._until = until_stream
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._subscription = store.subscribe_to_all(filter=filter)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            for item in self._subscription:
                assert isinstance(item, RecordedEvent), f"unasked-for item {item!r}"
                self.received.append(item)
                if item.stream == self._until:
                    return
        except BaseException as error:  # handed to the test thread by `result`
            self._error = error
        finally:
            self._done.set()

    def stop(self) -> None:
        """End the subscription and its thread (bounded)."""
        self._subscription.stop()
        self._thread.join(TIMEOUT_S)

    def result(self, timeout: float) -> list[RecordedEvent]:
        """Everything received up to the end marker; fails when it does not come in time."""
        finished = self._done.wait(timeout)
        self.stop()
        if self._error is not None:
            raise self._error
        assert finished, f"the end marker never arrived; got {len(self.received)} events"
        return self.received


@pytest.mark.multiprocess
def test_processes_sharing_the_store_append_exactly_once_while_followers_see_everything(
    event_store: EventStore, backend: Backend, stream: Names
) -> None:
    """Given a store with a little history, and 4 child processes on the same store, each
    about to append 50 events to one shared stream (exact expected version, retried on
    conflict) and 50 to a stream of its own,
    and a catch-up subscriber to `$all` from the start running in this process before they
    begin, and a second one started once they are under way,
    when the children append concurrently,
    then the shared stream holds each child's events exactly once with gapless revisions and
    positions rising with them, each own stream holds its child's events in order, every
    acknowledged position is the recorded one, `$all` has no duplicate and strictly rising
    positions, each child's acknowledgements rise in commit order, and both subscribers
    received exactly `$all`'s events, once each, in position order, none skipped.
    """
    requires(event_store, Capability.MULTI_PROCESS)
    assert backend.uri is not None, "a multi-process backend names its storage with a URI"
    workers, count = 4, 50
    shared, end = stream("shared"), stream("end")
    owns = [stream("own") for _ in range(workers)]
    history = stream("history")
    ours = EventFilter.stream_prefixes(shared, end, history, *owns)
    earlier = events(5, type="Before")
    event_store.append(history, earlier, expected_version=StreamState.NO_STREAM)

    with ExitStack() as cleanup:
        children = [
            cleanup.enter_context(
                Child("appender", backend.uri, shared, own, str(count), str(worker))
            )
            for worker, own in enumerate(owns)
        ]
        for child in children:
            assert child.next_line(TIMEOUT_S) == "ready"
        early = Follower(event_store, ours, until_stream=end)
        cleanup.callback(early.stop)
        for child in children:
            child.send("go")
        lines = {0: [children[0].next_line(TIMEOUT_S)]}
        late = Follower(event_store, ours, until_stream=end)
        cleanup.callback(late.stop)
        for worker, child in enumerate(children):
            lines.setdefault(worker, []).extend(child.finish(TIMEOUT_S))
        marker = events(1, type="End")
        event_store.append(end, marker, expected_version=StreamState.NO_STREAM)
        seen_early, seen_late = early.result(TIMEOUT_S), late.result(TIMEOUT_S)

    acks = {w: [ChildAck.parse(line) for line in lines[w]] for w in range(workers)}
    everything = only(event_store, shared, end, history, *owns)
    by_id = {e.id: e for e in everything}
    assert len(by_id) == len(everything), "an event appears twice in $all"
    assert strictly_increasing([e.position for e in everything])
    every_ack = [ack for w in range(workers) for ack in acks[w]]
    assert set(by_id) == {ack.id for ack in every_ack} | {e.id for e in earlier + marker}
    for ack in every_ack:
        recorded = by_id[ack.id]
        assert (recorded.stream, recorded.position) == (ack.stream, ack.position)
        assert recorded.revision == ack.expected_revision + 1, "a lost update"
    for worker, own in enumerate(owns):
        assert [a.stream for a in acks[worker]] == [shared, own] * count
        assert strictly_increasing([a.position for a in acks[worker]])
        recorded_own = event_store.read_stream(own)
        assert [e.id for e in recorded_own] == [a.id for a in acks[worker] if a.stream == own]
        assert [e.revision for e in recorded_own] == list(range(count))
    recorded_shared = event_store.read_stream(shared)
    assert [e.revision for e in recorded_shared] == list(range(workers * count))
    assert strictly_increasing([e.position for e in recorded_shared])
    assert {e.id for e in recorded_shared} == {a.id for a in every_ack if a.stream == shared}
    assert len({e.id for e in recorded_shared}) == workers * count
    expected_feed = [(e.id, e.position) for e in everything]
    assert [(e.id, e.position) for e in seen_early] == expected_feed
    assert [(e.id, e.position) for e in seen_late] == expected_feed
