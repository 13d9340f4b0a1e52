"""Contract: threads appending at once: races on one stream, group commit, rejected members."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.contracts.concurrency import (
    Landed,
    append_with_retry,
    only,
    read_or_empty,
    run_together,
    strictly_increasing,
)
from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    EventStore,
    ExpectedVersion,
    NewEvent,
    StreamState,
    WrongExpectedVersion,
)


def test_threads_racing_on_one_stream_land_each_event_exactly_once(
    event_store: EventStore, stream: Names
) -> None:
    """Given 8 threads, each appending 50 single events to one shared stream at the revision it
    just read and retrying after every WrongExpectedVersion,
    when they all start at once,
    then the stream holds each event exactly once with revisions 0..399 and no gap, each
    event sits right after the revision its successful try expected (no lost update), positions
    rise with revisions, every acknowledged position is the recorded one, each thread's events
    keep its order, and conflicts really happened (the retry loop was exercised).
    """
    name = stream("race")
    threads, per_thread = 8, 50

    def racer(thread: int) -> Callable[[], list[tuple[NewEvent, Landed]]]:
        def run() -> list[tuple[NewEvent, Landed]]:
            batch = events(per_thread, type="Raced", thread=thread)
            return [(event, append_with_retry(event_store, name, event)) for event in batch]

        return run

    results = run_together([racer(t) for t in range(threads)])

    recorded = event_store.read_stream(name)
    assert [e.revision for e in recorded] == list(range(threads * per_thread))
    assert len({e.id for e in recorded}) == len(recorded)
    assert {e.id for e in recorded} == {event.id for acked in results for event, _ in acked}
    assert strictly_increasing([e.position for e in recorded])
    by_id = {e.id: e for e in recorded}
    for acked in results:
        assert [by_id[e.id].position for e, _ in acked] == [landed.position for _, landed in acked]
        assert [by_id[e.id].revision for e, _ in acked] == [
            landed.expected_revision + 1 for _, landed in acked
        ]
        assert [by_id[e.id].data for e, _ in acked] == [e.data for e, _ in acked]
        assert strictly_increasing([by_id[e.id].revision for e, _ in acked])
    assert [e.id for e in only(event_store, name)] == [e.id for e in recorded]
    attempts = sum(landed.attempts for acked in results for _, landed in acked)
    assert attempts > threads * per_thread, "no append ever conflicted: nothing raced"


def test_threads_appending_to_their_own_streams_each_get_their_own_result(
    event_store: EventStore, stream: Names
) -> None:
    """Given 12 threads, each appending 15 batches of 1 to 3 events to a stream of its own
    with exact expected versions,
    when they all start at once (so their appends share commits where the store groups them),
    then every append succeeds, each returned position is that batch's last recorded position,
    no two appends got the same position, and each stream holds exactly its own thread's
    events, in order, with gapless revisions.
    """
    threads, batches = 12, 15
    names = [stream("own") for _ in range(threads)]

    def writer(name: str) -> Callable[[], list[tuple[list[NewEvent], int]]]:
        def run() -> list[tuple[list[NewEvent], int]]:
            acked: list[tuple[list[NewEvent], int]] = []
            last = -1
            for k in range(batches):
                batch = events(1 + k % 3, type="Written", stream=name)
                expected: ExpectedVersion = StreamState.NO_STREAM if last < 0 else last
                acked.append((batch, event_store.append(name, batch, expected_version=expected)))
                last += len(batch)
            return acked

        return run

    results = run_together([writer(name) for name in names])

    all_positions = [position for acked in results for _, position in acked]
    assert len(set(all_positions)) == len(all_positions)
    for name, acked in zip(names, results, strict=True):
        recorded = event_store.read_stream(name)
        assert [e.id for e in recorded] == [e.id for batch, _ in acked for e in batch]
        assert [e.revision for e in recorded] == list(range(len(recorded)))
        assert strictly_increasing([e.position for e in recorded])
        by_id = {e.id: e for e in recorded}
        assert [by_id[batch[-1].id].position for batch, _ in acked] == [p for _, p in acked]


def attempt(
    store: EventStore, stream: str, batch: list[NewEvent], expected: ExpectedVersion
) -> Callable[[], int | WrongExpectedVersion]:
    """An append to run later, answering its position or its rejection."""

    def run() -> int | WrongExpectedVersion:
        try:
            return store.append(stream, batch, expected_version=expected)
        except WrongExpectedVersion as rejected:
            return rejected

    return run


def test_a_rejected_append_does_not_undo_or_fail_the_appends_committed_with_it(
    event_store: EventStore, stream: Names
) -> None:
    """Given 16 streams at revision 0, and 16 threads each about to append 2 events to one of
    them, half with the right expected version (0) and half with a wrong one (a stale or future
    revision, NO_STREAM on an existing stream, STREAM_EXISTS on a missing one),
    when all 16 append at the same moment (20 rounds, so rejections share commits with
    successes),
    then exactly the right ones land, each with its own position, and each wrong one raises
    WrongExpectedVersion naming its stream and real version and leaves its stream untouched.
    """
    width, rounds = 16, 20
    wrong_versions: list[ExpectedVersion] = [7, StreamState.NO_STREAM, StreamState.STREAM_EXISTS]
    for _ in range(rounds):
        names = [stream("group") for _ in range(width)]
        expectations: list[ExpectedVersion] = []
        for i, name in enumerate(names):
            good, wrong = i % 2 == 0, wrong_versions[(i // 2) % len(wrong_versions)]
            if good or wrong is not StreamState.STREAM_EXISTS:
                event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)
            expectations.append(0 if good else wrong)
        batches = [events(2, type="Grouped") for _ in names]

        outcomes = run_together(
            [
                attempt(event_store, name, batch, expected)
                for name, batch, expected in zip(names, batches, expectations, strict=True)
            ]
        )

        for i, (name, outcome) in enumerate(zip(names, outcomes, strict=True)):
            recorded = read_or_empty(event_store, name)
            if i % 2 == 0:
                assert isinstance(outcome, int), f"a right append was refused: {outcome}"
                assert [e.revision for e in recorded] == [0, 1, 2]
                assert [e.id for e in recorded[1:]] == [e.id for e in batches[i]]
                assert recorded[-1].position == outcome
            else:
                assert isinstance(outcome, WrongExpectedVersion), "a wrong append landed"
                assert outcome.stream == name
                assert outcome.expected == expectations[i]
                seeded = expectations[i] is not StreamState.STREAM_EXISTS
                assert outcome.actual_version == (0 if seeded else None)
                assert len(recorded) == (1 if seeded else 0)
        landed = [o for o in outcomes if isinstance(o, int)]
        assert len(set(landed)) == width // 2
        group_ids = {e.id for batch in batches for e in batch}
        assert {e.id for e in only(event_store, *names)} & group_ids == {
            e.id for batch in batches[::2] for e in batch
        }


@pytest.mark.parametrize(
    ("existing", "expected"),
    [(0, StreamState.NO_STREAM), (2, 1), (2, StreamState.ANY), (2, StreamState.STREAM_EXISTS)],
    ids=["no_stream", "exact", "any", "stream_exists"],
)
def test_an_append_racing_its_own_retries_is_written_once(
    event_store: EventStore, stream: Names, existing: int, expected: ExpectedVersion
) -> None:
    """Given a stream with `existing` events, and 8 threads holding the very same batch (same
    event ids) and the same expected version, as when a client's retries race the original,
    when all 8 append it at the same moment (10 rounds, so copies share commits),
    then all 8 get the same position, the batch is in the stream exactly once, after the
    existing events, and that position is its last event's.
    """
    copies, rounds = 8, 10
    for _ in range(rounds):
        name = stream("retried")
        if existing:
            event_store.append(name, events(existing), expected_version=StreamState.NO_STREAM)
        batch = events(3, type="Retried")

        answers = run_together([attempt(event_store, name, batch, expected)] * copies)

        assert all(isinstance(a, int) for a in answers), answers
        assert len(set(answers)) == 1, f"copies of one append got different answers: {answers}"
        recorded = event_store.read_stream(name)
        assert [e.id for e in recorded[existing:]] == [e.id for e in batch]
        assert len(recorded) == existing + len(batch)
        assert recorded[-1].position == answers[0]
