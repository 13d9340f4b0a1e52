"""Contract, property-based: random programs of appends obey the expected-version rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.concurrency import only, read_or_empty, run_together, strictly_increasing
from tests.contracts.conftest import Backend
from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    EventStore,
    ExpectedVersion,
    NewEvent,
    StreamState,
    WrongExpectedVersion,
)


@dataclass(frozen=True)
class PlannedAppend:
    """One append of a random program: to which of its streams, expecting what, how many."""

    stream: int
    expected: ExpectedVersion
    size: int


@dataclass(frozen=True)
class Outcome:
    """What the store answered to one planned append."""

    planned: PlannedAppend
    batch: list[NewEvent]
    position: int | None
    rejection: WrongExpectedVersion | None


STREAMS_PER_PROGRAM = 3

expected_versions: st.SearchStrategy[ExpectedVersion] = st.one_of(
    st.sampled_from([StreamState.NO_STREAM, StreamState.ANY, StreamState.STREAM_EXISTS]),
    # An exact revision; "-1" (nothing written yet) is spelled NO_STREAM, as the port requires.
    # Low revisions are drawn more often: they are the ones these young streams are at.
    st.one_of(st.integers(-1, 2), st.integers(-1, 6)).map(
        lambda r: StreamState.NO_STREAM if r < 0 else r
    ),
)
planned_appends = st.builds(
    PlannedAppend,
    stream=st.integers(0, STREAMS_PER_PROGRAM - 1),
    expected=expected_versions,
    size=st.integers(1, 3),
)
thread_programs = st.lists(
    st.lists(planned_appends, min_size=1, max_size=10), min_size=2, max_size=4
)


def perform(store: EventStore, names: Sequence[str], planned: PlannedAppend) -> Outcome:
    """Make one planned append with fresh events and record the answer."""
    name, batch = names[planned.stream], events(planned.size, type="Planned")
    try:
        position = store.append(name, batch, expected_version=planned.expected)
    except WrongExpectedVersion as rejected:
        return Outcome(planned, batch, None, rejected)
    return Outcome(planned, batch, position, None)


def rejection_was_right(expected: ExpectedVersion, actual: int | None) -> bool:
    """Whether a stream at `actual` (None: no stream) may refuse an append expecting this."""
    if expected is StreamState.ANY:
        return False
    if expected is StreamState.NO_STREAM:
        return actual is not None
    if expected is StreamState.STREAM_EXISTS:
        return actual is None
    return actual != expected


def check_concurrent_outcomes(
    store: EventStore, names: Sequence[str], per_thread: Sequence[Sequence[Outcome]]
) -> None:
    """The rules every interleaving of the threads' appends must obey."""
    outcomes = [o for thread in per_thread for o in thread]
    accepted_ids = {e.id for o in outcomes if o.position is not None for e in o.batch}
    in_all = only(store, *names)
    assert {e.id for e in in_all} == accepted_ids, "the store differs from the accepted appends"
    assert len(in_all) == len(accepted_ids)
    assert strictly_increasing([e.position for e in in_all])

    for index, name in enumerate(names):
        recorded = read_or_empty(store, name)
        assert [e.revision for e in recorded] == list(range(len(recorded)))
        assert strictly_increasing([e.position for e in recorded])
        by_id = {e.id: e for e in recorded}
        ends = {-1}
        for o in (o for o in outcomes if o.planned.stream == index and o.position is not None):
            revisions = [by_id[e.id].revision for e in o.batch]
            first = revisions[0]
            assert revisions == list(range(first, first + len(o.batch))), "split or reordered"
            assert by_id[o.batch[-1].id].position == o.position
            expected = o.planned.expected
            if isinstance(expected, int):
                assert first == expected + 1
            elif expected is StreamState.NO_STREAM:
                assert first == 0
            elif expected is StreamState.STREAM_EXISTS:
                assert first > 0
            ends.add(revisions[-1])
        for o in (o for o in outcomes if o.planned.stream == index):
            if o.rejection is None:
                continue
            assert o.rejection.stream == name
            actual = o.rejection.actual_version
            assert rejection_was_right(o.planned.expected, actual), o.rejection
            assert (-1 if actual is None else actual) in ends, "a version the stream never had"

    for thread in per_thread:
        # One thread's appends are sequential: it never sees a stream go back in time, and
        # its accepted appends commit in its order.
        accepted = [o.position for o in thread if o.position is not None]
        assert strictly_increasing(accepted)
        for index in range(len(names)):
            seen = []
            for o in (o for o in thread if o.planned.stream == index):
                if o.rejection is not None:
                    actual = o.rejection.actual_version
                    seen.append(-1 if actual is None else actual)
                else:
                    assert o.position is not None
                    ids = {e.id for e in o.batch}
                    seen.append(max(e.revision for e in in_all if e.id in ids))
            assert seen == sorted(seen), f"stream {index} went back in time: {seen}"


# `backend` and `stream` are function-scoped, yet sharing them across examples is safe: the
# backend is an immutable factory (each example opens and closes its own store through it)
# and `stream` only mints fresh names, so no example sees another one's state.
@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(programs=thread_programs)
def test_random_concurrent_programs_obey_the_expected_version_rules(
    backend: Backend, stream: Names, programs: list[list[PlannedAppend]]
) -> None:
    """Given a random program of appends (3 fresh streams, any kind of expected version, 1-3
    events each) split over 2-4 threads,
    when the threads run it concurrently and record each append's outcome,
    then the store holds exactly the accepted appends' events, each accepted append is
    contiguous and in order in its stream from the revision its expected version names,
    revisions are gapless from 0, rejected appends left nothing and reported a version the
    stream really had, and no thread saw a stream go back in time.
    """
    names = [stream("prop") for _ in range(STREAMS_PER_PROGRAM)]
    with backend.open() as store:

        def thread(program: list[PlannedAppend]) -> Callable[[], list[Outcome]]:
            return lambda: [perform(store, names, planned) for planned in program]

        per_thread = run_together([thread(program) for program in programs])
        check_concurrent_outcomes(store, names, per_thread)


RETRY = "retry the previous append"

sequential_programs = st.lists(st.one_of(planned_appends, st.just(RETRY)), min_size=1, max_size=40)


def model_accepts(last_revision: int, expected: ExpectedVersion) -> bool:
    """The reference rule: does a stream at `last_revision` (-1: none) accept `expected`?"""
    if expected is StreamState.ANY:
        return True
    if expected is StreamState.NO_STREAM:
        return last_revision == -1
    if expected is StreamState.STREAM_EXISTS:
        return last_revision >= 0
    return expected == last_revision


def _steps(program: Sequence[PlannedAppend | str]) -> Iterator[tuple[PlannedAppend, bool]]:
    """The program's appends, each flagged when it retries (re-sends) the previous one."""
    previous: PlannedAppend | None = None
    for step in program:
        if isinstance(step, PlannedAppend):
            previous = step
            yield step, False
        elif previous is not None:
            yield previous, True


# Safe for the same reasons as above: a store of its own per example, fresh stream names.
@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(program=sequential_programs)
def test_sequential_appends_match_a_reference_model(
    backend: Backend, stream: Names, program: list[PlannedAppend | str]
) -> None:
    """Given a random sequence of appends to 3 fresh streams (any kind of expected version,
    1-3 events each), some of them immediate retries of the previous append with the same
    event ids,
    when they run one after another against the store and against a dict-of-revisions model,
    then the store accepts exactly the appends the model accepts, at the revisions it
    predicts, rejects the others with the model's actual version, answers a retry of an
    accepted append with its first position and writes nothing, and in the end each stream
    and `$all` hold exactly the model's events in program order.
    """
    names = [stream("model") for _ in range(STREAMS_PER_PROGRAM)]
    last_revision = [-1] * STREAMS_PER_PROGRAM
    model_streams: list[list[uuid.UUID]] = [[] for _ in names]
    model_all: list[uuid.UUID] = []
    last_position: int | None = None
    first_answer: int | None = None
    batch: list[NewEvent] = []
    with backend.open() as store:
        for planned, is_retry in _steps(program):
            name, s = names[planned.stream], planned.stream
            if not is_retry:
                batch = events(planned.size, type="Modelled")
            if is_retry and first_answer is not None:
                answer = store.append(name, batch, expected_version=planned.expected)
                assert answer == first_answer, "an idempotent retry moved"
            elif model_accepts(last_revision[s], planned.expected):
                first_answer = store.append(name, batch, expected_version=planned.expected)
                assert last_position is None or first_answer > last_position
                last_position = first_answer
                written = store.read_stream(name, from_revision=last_revision[s] + 1)
                assert [e.id for e in written] == [e.id for e in batch]
                assert [e.revision for e in written] == [
                    last_revision[s] + 1 + i for i in range(len(batch))
                ]
                assert written[-1].position == first_answer
                last_revision[s] += len(batch)
                model_streams[s].extend(e.id for e in batch)
                model_all.extend(e.id for e in batch)
            else:
                first_answer = None
                with pytest.raises(WrongExpectedVersion) as caught:
                    store.append(name, batch, expected_version=planned.expected)
                actual = last_revision[s]
                assert caught.value.actual_version == (None if actual < 0 else actual)

        for name, ids in zip(names, model_streams, strict=True):
            assert [e.id for e in read_or_empty(store, name)] == ids
        assert [e.id for e in only(store, *names)] == model_all
