"""The projection runtime across processes: exactly once under SIGKILL, and lease takeover.

Every projector here is a real process (`children/projector.py`, or `bookworm worker` itself)
on a SQLite event store file and a SQLite query db file; the test appends, kills, stops and
watches from outside, reading the query db as any other process would.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from pipelines.runner import ProjectionRunner, RunnerSettings
from read_side.projections.event_counts import EventCounts
from read_side.targets.sql import SqlTarget
from tests.pipelines.children import Process, Projector
from write_side.eventstore import EventStore, NewEvent, StreamState
from write_side.eventstore.factory import open_event_store

#: Fixed, so a failure can be replayed: what is appended, and when each projector is killed.
SEED = 20_251_126
PROJECTION = EventCounts.name
#: Bound on every single wait for a process (start-up, exit) or for a projector to keep up.
TIMEOUT_S = 30.0

#: Event types of each stream category; "inventory" streams have no dash (a category alone).
TYPES: dict[str, tuple[str, ...]] = {
    "book": ("BookAdded", "BookRenamed", "BookPriced", "Noted"),
    "order": ("OrderPlaced", "OrderPaid", "OrderShipped", "Noted"),
    "customer": ("CustomerRegistered", "CustomerMoved"),
    "review": ("ReviewPosted", "Noted"),
    "inventory": ("StockCounted",),
}

#: A row of `event_counts`: (category, event type) -> (events, last position).
Rows = dict[tuple[str, str], tuple[int, int]]


# -- given: events -----------------------------------------------------------------------------


def append_random(store: EventStore, rng: random.Random) -> int:
    """Append a batch of 1-4 events of one category to one of its streams; how many."""
    kind = rng.choice(sorted(TYPES))
    stream = kind if kind == "inventory" else f"{kind}-{rng.randrange(25)}"
    batch = [
        NewEvent(type=rng.choice(TYPES[kind]), data=b"{}") for _ in range(rng.choice((1, 1, 2, 4)))
    ]
    store.append(stream, batch, expected_version=StreamState.ANY)
    return len(batch)


def append_many(store: EventStore, rng: random.Random, at_least: int) -> int:
    """Append random batches until at least `at_least` events are in; how many."""
    appended = 0
    while appended < at_least:
        appended += append_random(store, rng)
    return appended


class Appender(threading.Thread):
    """Appends random batches at a steady pace until `finish`, as the write side would."""

    def __init__(self, store: EventStore, seed: int, pause_s: float) -> None:
        super().__init__(name="appender", daemon=True)
        self.store, self.pause_s = store, pause_s
        self.rng = random.Random(seed)
        self.appended = 0
        self._halt = threading.Event()
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                self.appended += append_random(self.store, self.rng)
                self._halt.wait(self.pause_s)
        except BaseException as error:  # handed to the test thread by `finish`
            self._error = error

    def finish(self, timeout: float) -> int:
        """Stop appending; how many events were appended (re-raises the thread's error)."""
        self._halt.set()
        self.join(timeout)
        assert not self.is_alive(), "the appender did not stop"
        if self._error is not None:
            raise self._error
        return self.appended


def expected_rows(store: EventStore) -> Rows:
    """What `event_counts` must hold, counted here from `$all` (not by the projection)."""
    rows: Rows = {}
    for event in store.read_all():
        key = (event.stream.split("-", 1)[0], event.type)
        rows[key] = (rows.get(key, (0, 0))[0] + 1, event.position)
    return rows


# -- then: what the query db says ----------------------------------------------------------------


class QueryDb:
    """The test's own connection to a query db: checkpoint, lease holders and live rows."""

    def __init__(self, url: str) -> None:
        self.target = SqlTarget(url)

    def checkpoint(self) -> int | None:
        """The live build's stored checkpoint; None before a projector created the build."""
        with self.target.transaction() as tx:
            live = tx.live_build(PROJECTION)
            stored = None if live is None else tx.checkpoint(PROJECTION, live)
        return None if stored is None else stored.position

    def holders(self) -> list[str]:
        """Who holds a lease on the projection (a dead holder's until it expires)."""
        return [lease.holder for lease in self.target.leases() if lease.projection == PROJECTION]

    def lease_expiry(self) -> datetime:
        """When the one lease on the projection expires."""
        (lease,) = [lease for lease in self.target.leases() if lease.projection == PROJECTION]
        return lease.expires_at

    def rows(self) -> Rows:
        """The rows of the stable `event_counts` view (empty before the build exists)."""
        if self.checkpoint() is None:
            return {}
        with self.target.transaction() as tx:
            found = tx.connection.execute(
                text("SELECT category, event_type, events, last_position FROM event_counts")
            ).all()
        return {(r.category, r.event_type): (r.events, r.last_position) for r in found}

    def builds(self) -> tuple[int | None, list[int]]:
        """The live build and every build there is."""
        with self.target.transaction() as tx:
            return tx.live_build(PROJECTION), tx.builds(PROJECTION)

    def dead_letters(self) -> int:
        """How many events of the projection are parked."""
        with self.target.transaction() as tx:
            return len(tx.dead_letters(PROJECTION))

    def close(self) -> None:
        self.target.close()


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, every_s: float = 0.02
) -> None:
    """Poll `condition` every `every_s` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {timeout} s")
        time.sleep(every_s)


def wait_for_lease(db: QueryDb, projector: Projector, timeout: float) -> str:
    """Wait until `projector` (and only it) holds the lease; its holder name."""
    name = projector.holder(TIMEOUT_S)

    def holds() -> bool:
        if projector.process.poll() is not None:
            raise projector.fail("exited while waiting for the lease")
        return db.holders() == [name]

    # Often, so that a kill soon after can land in the new holder's catching up.
    wait_until(holds, timeout=timeout, what=f"{projector.name} holding the lease", every_s=0.005)
    return name


@dataclass(frozen=True)
class Places:
    """The event store and query db files of one test."""

    events_uri: str
    query_url: str


@pytest.fixture
def places(tmp_path: Path) -> Places:
    return Places(f"sqlite:///{tmp_path / 'events.db'}", f"sqlite:///{tmp_path / 'query.db'}")


@pytest.fixture
def store(places: Places) -> Iterator[EventStore]:
    """The event store file (created here, before any child opens it)."""
    with open_event_store(places.events_uri) as opened:
        yield opened


@pytest.fixture
def db(places: Places) -> Iterator[QueryDb]:
    query_db = QueryDb(places.query_url)
    yield query_db
    query_db.close()


# -- exactly once under SIGKILL ----------------------------------------------------------------

KILLS = 30
KILL_TTL_S = 1.0
KILL_BATCH = 50
#: A holder runs for a random time before its kill: a third of them up to `CATCH_UP_S` (while
#: it applies, in batches, the backlog its predecessor's death left), the others up to
#: `MAX_RUN_S` (mostly on the live tail, applying each new event as it comes).
CATCH_UP_S = 0.03
MAX_RUN_S = 0.5


@dataclass(frozen=True)
class Tenure:
    """One killed holder: the checkpoint when it took over, at its death, and the head then."""

    started_at: int
    killed_at: int
    head: int


@pytest.mark.slow
@pytest.mark.multiprocess
def test_event_counts_are_exactly_once_under_sigkill_of_its_projector(
    places: Places, store: EventStore, db: QueryDb
) -> None:
    """Given events appended at a steady pace (1-4 at a time, to 5 categories, 2-4 types each)
    while a projector process runs `event_counts` into a SQLite query db (lease 1 s, batches of
    50), with a standby projector process always waiting for the lease,
    when the holder is SIGKILLed at a random moment 30 times (each time the standby takes over
    once the dead holder's lease expired, and a new standby starts), then the appends stop and
    the last holder catches up to the head and is stopped with SIGTERM,
    then it exits 0 after storing the head as its checkpoint and giving its lease up, and the
    live `event_counts` rows are exactly the counts (and last positions) of the events in the
    store, equal to a from-scratch rebuild: nothing lost, nothing counted twice.
    """
    rng = random.Random(SEED)
    appender = Appender(store, seed=rng.randrange(2**31), pause_s=0.003)
    tenures: list[Tenure] = []

    def spawn(children: ExitStack, n: int) -> Projector:
        projector = Projector(
            places.events_uri,
            places.query_url,
            ttl_s=KILL_TTL_S,
            batch_size=KILL_BATCH,
            name=f"projector {n}",
        )
        return children.enter_context(projector)

    started = time.monotonic()
    appender.start()
    try:
        with ExitStack() as children:
            holder = spawn(children, 0)
            holder_name = wait_for_lease(db, holder, TIMEOUT_S)
            for n in range(1, KILLS + 1):
                took_over_at = db.checkpoint() or 0
                standby = spawn(children, n)
                # Not synchronisation: a random pause moves the kill to a random point of the
                # holder's work (taking over, catching up, mid-batch, idle on the live tail).
                time.sleep(rng.uniform(0.0, rng.choice((CATCH_UP_S, MAX_RUN_S, MAX_RUN_S))))
                head = store.head_position() or 0
                holder.kill(TIMEOUT_S)
                # The dead holder's lease outlives it: nobody took it while it was alive.
                assert db.holders() == [holder_name], f"kill {n}: not the only holder"
                tenures.append(Tenure(took_over_at, db.checkpoint() or 0, head))
                holder = standby
                holder_name = wait_for_lease(db, holder, KILL_TTL_S + TIMEOUT_S)

            appended = appender.finish(TIMEOUT_S)
            final = store.head_position()
            assert final is not None
            wait_until(
                lambda: db.checkpoint() == final,
                timeout=TIMEOUT_S,
                what="the last projector catching up to the head",
            )
            assert holder.terminate(TIMEOUT_S) == 0, holder.fail("did not exit 0 on SIGTERM")
            stopped = holder.stopped
    finally:
        if appender.is_alive():
            appender.finish(TIMEOUT_S)
    elapsed = time.monotonic() - started

    assert stopped is not None, "the stopped projector did not report its last status"
    assert (stopped["state"], stopped["checkpoint"]) == ("stopped", final)
    assert db.checkpoint() == final
    assert db.holders() == [], "a stopped projector keeps no lease"

    expected = expected_rows(store)
    assert sum(events for events, _ in expected.values()) == appended
    live = db.rows()
    lost = {k: v for k, v in expected.items() if live.get(k, (0, 0))[0] < v[0]}
    twice = {k: v for k, v in expected.items() if live.get(k, (0, 0))[0] > v[0]}
    assert not lost, f"events lost: expected {lost}, live {live}"
    assert not twice, f"events counted twice: expected {twice}, live {live}"
    assert live == expected
    assert db.builds() == (1, [1])
    assert db.dead_letters() == 0

    rebuilt = QueryDb(f"{places.query_url}.rebuilt")
    try:
        assert ProjectionRunner(store, EventCounts(), rebuilt.target).catch_up() == final
        assert rebuilt.rows() == live
    finally:
        rebuilt.close()

    # The kills hit holders at work, not only idle ones waiting for their lease.
    worked = sum(t.killed_at > t.started_at for t in tenures)
    behind = sum(t.head > t.killed_at for t in tenures)
    assert worked >= KILLS // 2, f"only {worked} of {KILLS} holders applied anything: {tenures}"
    print(
        f"{KILLS} kills in {elapsed:.1f} s, {appended} events; "
        f"{worked} killed holders had applied events, {behind} died behind the head"
    )


# -- lease takeover ----------------------------------------------------------------------------

TAKEOVER_TTL_S = 2.0
#: How long after a holder's lease expires its standby may take to notice and take it.
TAKEOVER_MARGIN_S = 1.5


@pytest.mark.slow
@pytest.mark.multiprocess
def test_a_standby_projector_takes_over_once_the_killed_holders_lease_expires(
    places: Places, store: EventStore, db: QueryDb
) -> None:
    """Given a projector process holding the `event_counts` lease (2 s) and a second one
    started for the same projection and query db,
    when events are appended, the second waits: the first is the only holder and applies
    them, the second reports "waiting for lease" having handled nothing;
    when the first is SIGKILLed, the second takes the lease only after the dead holder's lease
    expired, within its ttl (+ a margin) of the kill, and then applies what was appended
    meanwhile and what comes after; stopped with SIGTERM it exits 0 and frees the lease.
    """
    rng = random.Random(SEED + 1)
    append_many(store, rng, 200)

    def projector(name: str) -> Projector:
        return Projector(
            places.events_uri, places.query_url, ttl_s=TAKEOVER_TTL_S, batch_size=50, name=name
        )

    def keeps_up() -> bool:
        return db.rows() == expected_rows(store)

    with projector("first") as first:
        first_name = wait_for_lease(db, first, TIMEOUT_S)
        wait_until(keeps_up, timeout=TIMEOUT_S, what="the first projector applying the events")
        with projector("second") as second:
            second_name = second.holder(TIMEOUT_S)
            assert second_name != first_name
            second.wait_for(
                lambda: (second.latest or {}).get("state") == "waiting for lease",
                timeout=TIMEOUT_S,
                what="the second projector waiting for the lease",
            )

            append_many(store, rng, 100)
            wait_until(keeps_up, timeout=TIMEOUT_S, what="the first applying new events")
            waiting = second.status(TIMEOUT_S)
            assert db.holders() == [first_name]
            assert (waiting["state"], waiting["handled"], waiting["checkpoint"]) == (
                "waiting for lease",
                0,
                0,
            )

            first.kill(TIMEOUT_S)
            killed = time.monotonic()
            expiry = db.lease_expiry()
            assert db.holders() == [first_name], "the dead holder's lease outlives it"
            append_many(store, rng, 100)

            def second_holds() -> bool:
                holders = db.holders()
                read = datetime.now(UTC)
                if holders == [second_name]:
                    assert read >= expiry, "the standby took a lease that had not expired"
                    return True
                assert holders in ([first_name], []), holders
                return False

            wait_until(
                second_holds,
                timeout=TAKEOVER_TTL_S + TAKEOVER_MARGIN_S,
                what="the second projector taking the lease over",
            )
            takeover_s = time.monotonic() - killed
            wait_until(keeps_up, timeout=TIMEOUT_S, what="the second applying the backlog")
            append_many(store, rng, 100)
            wait_until(keeps_up, timeout=TIMEOUT_S, what="the second applying new events")
            second.wait_for(
                lambda: (second.latest or {}).get("handled", 0) >= 200,
                timeout=TIMEOUT_S,
                what="the second reporting the events it handled",
            )
            assert second.terminate(TIMEOUT_S) == 0, second.fail("did not exit 0 on SIGTERM")

    assert db.holders() == []
    assert db.checkpoint() == store.head_position()
    print(f"a killed holder's lease ({TAKEOVER_TTL_S} s) was taken over in {takeover_s:.2f} s")


def worker_environment(data_dir: Path) -> dict[str, str]:
    """This environment without any BOOKWORM_ setting but the data dir (so no .env counts)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("BOOKWORM_")}
    return kept | {"BOOKWORM_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


@pytest.mark.slow
@pytest.mark.multiprocess
def test_a_stopped_bookworm_worker_frees_its_lease_and_the_standby_takes_over_at_once(
    tmp_path: Path,
) -> None:
    """Given `bookworm worker` running on a data dir (lease ttl 10 s, the default) and a second
    `bookworm worker` started on the same data dir,
    when events are appended, the first stays the only holder for longer than the second's
    retry interval and applies them;
    when the first gets SIGTERM, it exits 0 with its lease given up, and the second takes the
    lease over at once (well before the 10 s a dead holder's lease would block it), applies new
    events, and on SIGTERM exits 0 and frees the lease too.
    """
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = worker_environment(data_dir)
    argv = [
        sys.executable,
        "-c",
        "from api.cli import app; app()",
        "worker",
        "--projection",
        "event_counts",
    ]
    ttl_s = RunnerSettings().lease_ttl_s
    retry_s = min(ttl_s / 5, 1.0)  # how often a waiting runner tries for the lease
    rng = random.Random(SEED + 2)
    store = open_event_store(f"sqlite:///{data_dir / 'events.db'}")
    db = QueryDb(f"sqlite:///{data_dir / 'query.db'}")

    def keeps_up() -> bool:
        return db.rows() == expected_rows(store)

    try:
        append_many(store, rng, 200)
        with Process(argv, name="worker 1", cwd=tmp_path, env=env) as first:
            wait_until(
                lambda: len(db.holders()) == 1 and keeps_up(),
                timeout=TIMEOUT_S,
                what="the first worker holding the lease and applying the events",
            )
            (first_name,) = db.holders()
            with Process(argv, name="worker 2", cwd=tmp_path, env=env) as second:
                second.wait_for(
                    lambda: any(line.startswith("worker: event_counts") for line in second.lines),
                    timeout=TIMEOUT_S,
                    what="the second worker running",
                )
                append_many(store, rng, 100)
                watched_until = time.monotonic() + retry_s * 1.5
                while time.monotonic() < watched_until:
                    assert db.holders() == [first_name], "two workers ran event_counts at once"
                    time.sleep(0.05)
                wait_until(keeps_up, timeout=TIMEOUT_S, what="the first applying new events")

                assert first.terminate(TIMEOUT_S) == 0, first.fail("did not exit 0 on SIGTERM")
                stopped = time.monotonic()
                assert first_name not in db.holders(), "the stopped worker kept its lease"
                wait_until(
                    lambda: len(db.holders()) == 1,
                    timeout=TIMEOUT_S,
                    what="the second worker taking the lease over",
                )
                takeover_s = time.monotonic() - stopped
                assert takeover_s < ttl_s / 2, f"took {takeover_s:.1f} s: as if it had expired"
                append_many(store, rng, 100)
                wait_until(keeps_up, timeout=TIMEOUT_S, what="the second applying new events")
                assert second.terminate(TIMEOUT_S) == 0, second.fail("did not exit 0 on SIGTERM")
        assert db.holders() == []
        assert db.checkpoint() == store.head_position()
    finally:
        db.close()
        store.close()
    print(f"a released lease (ttl {ttl_s} s) was taken over in {takeover_s:.2f} s")


# -- the worker's live window ------------------------------------------------------------------

LIVE_EVENTS = 250
LIVE_PAUSE_S = 0.01


@pytest.mark.slow
@pytest.mark.multiprocess
@pytest.mark.parametrize("window_s", [0.0, 0.4])
def test_bookworm_worker_applies_the_live_tail_once_per_its_configured_window(
    tmp_path: Path, window_s: float
) -> None:
    """Given `bookworm worker` started with `BOOKWORM_WORKER_LIVE_WINDOW_S` set and caught up,
    when small batches are committed every 10 ms for a couple of seconds,
    then every event is applied, and the projection's checkpoint moves at most once a window:
    with 0.4 s, in a handful of steps (one per window, plus the first read after the quiet
    spell and the last one); with 0 (each commit read as it comes), in far more.
    """
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = worker_environment(data_dir) | {"BOOKWORM_WORKER_LIVE_WINDOW_S": str(window_s)}
    argv = [sys.executable, "-c", "from api.cli import app; app()", "worker", "-p", PROJECTION]
    store = open_event_store(f"sqlite:///{data_dir / 'events.db'}")
    db = QueryDb(f"sqlite:///{data_dir / 'query.db'}")
    try:
        append_many(store, random.Random(SEED + 3), 20)
        with Process(argv, name="worker", cwd=tmp_path, env=env) as worker:
            wait_until(
                lambda: db.rows() == expected_rows(store),
                timeout=TIMEOUT_S,
                what="the worker catching up",
            )
            seen = [db.checkpoint()]
            writer = Appender(store, SEED + 4, LIVE_PAUSE_S)
            started = time.monotonic()
            writer.start()
            while writer.appended < LIVE_EVENTS:
                if (checkpoint := db.checkpoint()) != seen[-1]:
                    seen.append(checkpoint)
                time.sleep(0.002)
            appended = writer.finish(TIMEOUT_S)
            elapsed_s = time.monotonic() - started
            wait_until(
                lambda: db.checkpoint() == store.head_position(),
                timeout=TIMEOUT_S,
                what="the worker applying the last events",
            )
            seen.append(db.checkpoint())
            assert db.rows() == expected_rows(store)
            assert worker.terminate(TIMEOUT_S) == 0, worker.fail("did not exit 0 on SIGTERM")
    finally:
        db.close()
        store.close()
    steps = len(set(seen)) - 1
    print(f"window {window_s} s: {appended} events in {elapsed_s:.1f} s, applied in {steps} steps")
    if window_s:
        assert steps <= elapsed_s / window_s + 3, f"{steps} steps in {elapsed_s:.1f} s"
    else:
        # About 1.75 events a commit: a step per commit would be ~140; a quarter of that
        # still tells a per-commit reader from a windowed one (which takes ~6 here at 0.4 s).
        assert steps >= appended / 8, f"only {steps} steps for {appended} events"
