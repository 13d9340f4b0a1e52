"""The projection runner: `$all` from the stored checkpoint, in batches, into one target.

Each batch is applied and its checkpoint stored in one transaction of the target, so a crash
anywhere replays the batch from the stored checkpoint and produces the same result. The
subscription is read by a helper thread into a bounded queue: while catching up the queue is
full and batches are large; on the live tail it is mostly empty, and a batch is applied once
it is `live_batch_window_s` old (or at once when that is 0): a steady stream of small commits
then costs one transaction per window, not one per commit.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pipelines.status import ProjectionStatus, RateMeter, RunnerState, utcnow
from read_side.projection import Projection
from read_side.targets import Checkpoint, DeadLetter, Effects, SilentEffects, Target, TargetTx
from write_side.eventstore import CaughtUp, EventStore, RecordedEvent
from write_side.eventstore import Checkpoint as ScanCheckpoint

log = logging.getLogger(__name__)

PoisonPolicy = Literal["park", "stop"]


@dataclass(frozen=True)
class RunnerSettings:
    """How a runner batches, retries and holds its lease."""

    batch_size: int = 2000
    """Most events applied in one transaction (reached while catching up)."""
    queue_size: int = 20_000
    """Events read ahead of the handler."""
    live_batch_window_s: float = 0.0
    """On the live tail, how long a batch waits for more events after its first one (0: it
    is applied as soon as the queue is empty)."""
    retries: int = 3
    """Tries of a failing event before it is parked (or the runner stops)."""
    retry_backoff_s: float = 0.05
    """Pause before the second try; doubled for each further one."""
    on_poison: PoisonPolicy | None = None
    """What to do with an event that still fails: None parks while live, stops in a rebuild."""
    lease_ttl_s: float = 10.0
    """How long a lease outlives its holder's last renewal."""
    idle_s: float = 0.25
    """How often an idle runner renews its lease, reports, and checks for a stop."""
    restart_backoff_s: float = 0.2
    """Pause before restarting after a dropped subscription or target error (doubles, capped)."""
    restart_backoff_max_s: float = 10.0


class PoisonEvent(Exception):
    """An event kept failing and the policy says stop; the checkpoint stays before it."""

    def __init__(self, projection: str, event: RecordedEvent, error: BaseException) -> None:
        self.event, self.error = event, error
        super().__init__(
            f"{projection}: event {event.id} ({event.type} at position {event.position} in "
            f"{event.stream}) keeps failing: {error!r}"
        )


class LeaseLost(Exception):
    """Another holder took the lease (ours expired): stop writing at once."""


class BuildSwitched(Exception):
    """A rebuild made another build live: a runner that follows the live build moves to it."""


class ProjectionRunner:
    """Runs one build of one projection into its target, at most one runner per projection.

    With `build=None` the runner follows the live build (creating and switching to build 1 on
    first use), and moves to a new one when a rebuild switches it live.
    """

    def __init__(
        self,
        store: EventStore,
        projection: Projection,  # type: ignore[type-arg]
        target: Target,
        *,
        build: int | None = None,
        rebuilding: bool = False,
        settings: RunnerSettings | None = None,
        holder: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.projection = projection
        self.target = target
        self.follows_live = build is None
        self.build = build or 0
        self.rebuilding = rebuilding
        self.settings = settings or RunnerSettings()
        self.holder = holder or f"{socket.gethostname()}:{threading.get_native_id()}:{id(self)}"
        self._sleep = sleep
        self._state = RunnerState.STARTING
        self._checkpoint = 0
        self._last_recorded_at: datetime | None = None
        self._last_commit = 0.0
        self._handled = 0
        self._parked = 0
        self._last_error: str | None = None
        self._rate = RateMeter()
        self._lease_renewed = 0.0
        self._leased = False

    @property
    def name(self) -> str:
        """The projection's name."""
        return self.projection.name

    @property
    def policy(self) -> PoisonPolicy:
        """What happens to an event that keeps failing."""
        if self.settings.on_poison is not None:
            return self.settings.on_poison
        return "stop" if self.rebuilding else "park"

    # -- running -------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Hold the lease and follow `$all` until `stop` is set; restart after failures.

        A dropped subscription or a target error restarts from the *stored* checkpoint, after
        a growing pause. A poison event under the "stop" policy ends the run (state failed).
        """
        pause = self.settings.restart_backoff_s
        try:
            while not stop.is_set():
                try:
                    if not self._hold_lease(stop):
                        return
                    self._follow(stop)
                    pause = self.settings.restart_backoff_s
                except PoisonEvent as poison:
                    self._fail(poison)
                    return
                except BuildSwitched:
                    log.info("%s: another build is live now; moving to it", self.name)
                except LeaseLost:
                    log.warning(
                        "%s: lease lost to another holder; waiting to take it back", self.name
                    )
                    self._state = RunnerState.WAITING
                except Exception as error:
                    self._fail(error)
                    log.exception(
                        "%s: restarting from the stored checkpoint in %.1fs", self.name, pause
                    )
                    stop.wait(pause)
                    pause = min(pause * 2, self.settings.restart_backoff_max_s)
        finally:
            if self._state is not RunnerState.FAILED:
                self._state = RunnerState.STOPPED
            if self._leased:
                self._leased = False
                with contextlib.suppress(Exception):  # the target may be what failed
                    self._report()
                    self.target.release_lease(self.name, self.holder)

    def catch_up(self) -> int:
        """Apply every event up to the current head, without a lease; return the checkpoint.

        For rebuilds, tests and one-off runs; `run` is the long-running form.
        """
        self._prepare()
        head = self.store.head_position()
        while True:
            events, scanned = self._read_page(head)
            if scanned is None:
                return self._checkpoint
            self._apply(events, scanned)

    def _read_page(self, head: int | None) -> tuple[list[RecordedEvent], int | None]:
        if head is None or self._checkpoint >= head:
            return [], None
        batch: list[RecordedEvent] = []
        scanned = self._checkpoint
        for event in self.store.read_all_after(self._checkpoint, filter=self.projection.handles):
            position = event.position
            if position > head:
                break
            batch.append(event)
            scanned = position
            if len(batch) >= self.settings.batch_size:
                return batch, scanned
        return batch, head if scanned < head else scanned

    def _follow(self, stop: threading.Event) -> None:
        self._prepare()
        items: queue.Queue[object] = queue.Queue(self.settings.queue_size)
        subscription = self.store.subscribe_to_all(
            from_position=self._checkpoint or None,
            filter=self.projection.handles,
            include_checkpoints=True,
            include_caught_up=True,
        )
        reader = threading.Thread(
            target=_pump, args=(subscription, items), name=f"read:{self.name}", daemon=True
        )
        reader.start()
        self._state = RunnerState.REBUILDING if self.rebuilding else RunnerState.CATCHING_UP
        batch: list[RecordedEvent] = []
        batch_due = 0.0  # when the batch is to be applied if nothing else fills it
        scanned = self._checkpoint
        try:
            while not stop.is_set():
                self._keep_lease()
                timeout = self.settings.idle_s
                if batch:
                    timeout = min(timeout, max(0.0, batch_due - time.monotonic()))
                try:
                    item = items.get(timeout=timeout) if timeout > 0 else items.get_nowait()
                except queue.Empty:
                    item = None
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, RecordedEvent):
                    if not batch:
                        batch_due = time.monotonic() + self.settings.live_batch_window_s
                    batch.append(item)
                    scanned = item.position
                elif isinstance(item, ScanCheckpoint):
                    scanned = max(scanned, item.position)
                elif isinstance(item, CaughtUp) and not self.rebuilding:
                    self._state = RunnerState.LIVE
                    self._report()
                # Large batches while the queue holds more; on the live tail, once the window
                # has passed (events arriving meanwhile join the batch).
                if len(batch) >= self.settings.batch_size or (
                    batch and items.empty() and time.monotonic() >= batch_due
                ):
                    self._apply(batch, scanned)
                    batch = []
                elif not batch and scanned > self._checkpoint and self._checkpoint_due():
                    self._apply([], scanned)  # move over a run of events nobody here wants
            if batch or scanned > self._checkpoint:
                self._apply(batch, scanned)
        finally:
            subscription.stop()
            # The reader may be blocked on a full queue: empty it until the reader has ended.
            deadline = time.monotonic() + 5
            while reader.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    while True:
                        items.get_nowait()
                reader.join(timeout=0.05)

    def _checkpoint_due(self) -> bool:
        # A checkpoint-only commit at most once a second: on a busy store, a projection that
        # wants few events would otherwise commit for every event it skips.
        return time.monotonic() - self._last_commit >= 1.0

    # -- applying ------------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Create the build on first use; load its checkpoint (the only truth on restart)."""
        with self.target.transaction() as tx:
            if self.follows_live:
                live = tx.live_build(self.name)
                self.build = 1 if live is None else live
                if live is None:
                    self.projection.create(tx, self.build)
                    tx.save_checkpoint(self.name, self.build, Checkpoint(0, None))
                    tx.switch(self.name, self.build, self.projection.tables())
            stored = tx.checkpoint(self.name, self.build)
            if stored is None:
                self.projection.create(tx, self.build)
                stored = Checkpoint(0, None)
                tx.save_checkpoint(self.name, self.build, stored)
        self._checkpoint = stored.position
        self._last_recorded_at = stored.recorded_at

    def _apply(self, events: Sequence[RecordedEvent], scanned: int) -> None:
        if scanned <= self._checkpoint:
            return
        try:
            self._commit(events, scanned)
        except LeaseLost:
            raise
        except Exception:
            self._check_still_live()
            if not events:
                raise
            # One of them is bad (or the target had a hiccup): go one by one to find out.
            for event in events:
                self._apply_alone(event)
            if scanned > self._checkpoint:
                self._commit([], scanned)

    def _commit(self, events: Sequence[RecordedEvent], scanned: int) -> None:
        effects = SilentEffects() if self.rebuilding else Effects()
        recorded_at = events[-1].recorded_at if events else self._last_recorded_at
        with self.target.transaction(effects=effects) as tx:
            self._fence(tx)
            if events:
                self.projection.apply(events, tx, self.build)
            tx.save_checkpoint(self.name, self.build, Checkpoint(scanned, recorded_at))
        self._checkpoint = scanned
        self._last_recorded_at = recorded_at
        self._last_commit = time.monotonic()
        if effects.sent and not effects.silent:
            self.projection.carry_out(effects.sent)
        if events:
            self._handled += len(events)
            self._rate.add(len(events))

    def _apply_alone(self, event: RecordedEvent) -> None:
        pause = self.settings.retry_backoff_s
        for attempt in range(1, self.settings.retries + 1):
            try:
                self._commit([event], event.position)
                return
            except LeaseLost:
                raise
            except Exception as error:
                if attempt < self.settings.retries:
                    self._sleep(pause)
                    pause *= 2
                    continue
                if self.policy == "stop":
                    raise PoisonEvent(self.name, event, error) from error
                self._park(event, error, attempt)

    def _park(self, event: RecordedEvent, error: BaseException, attempts: int) -> None:
        letter = DeadLetter(
            projection=self.name,
            build=self.build,
            event_id=event.id,
            position=event.position,
            stream=event.stream,
            event_type=event.type,
            error=repr(error),
            traceback="".join(traceback.format_exception(error)),
            attempts=attempts,
            parked_at=utcnow(),
        )
        with self.target.transaction() as tx:
            self._fence(tx)
            tx.park(letter)
            tx.save_checkpoint(self.name, self.build, Checkpoint(event.position, event.recorded_at))
        self._checkpoint = event.position
        self._parked += 1
        self._last_error = letter.error
        log.error(
            "%s: parked %s at %d after %d tries: %s",
            *(self.name, event.type, event.position, attempts, letter.error),
        )

    # -- lease and status ----------------------------------------------------------------------

    def _hold_lease(self, stop: threading.Event) -> bool:
        self._state = RunnerState.WAITING
        while not stop.is_set():
            if self.target.acquire_lease(self.name, self.holder, ttl_s=self.settings.lease_ttl_s):
                self._lease_renewed = time.monotonic()
                self._leased = True
                return True
            stop.wait(min(self.settings.lease_ttl_s / 5, 1.0))
        return False

    def _keep_lease(self) -> None:
        now = time.monotonic()
        if now - self._lease_renewed < self.settings.lease_ttl_s / 3:
            return
        if not self.target.acquire_lease(self.name, self.holder, ttl_s=self.settings.lease_ttl_s):
            self._leased = False
            raise LeaseLost(self.name)
        self._lease_renewed = now
        self._report()
        self._check_still_live()

    def _fence(self, tx: TargetTx) -> None:
        """Inside a batch's transaction: still our lease? (Renews it.) Else abort the batch."""
        if self._leased and not tx.fence(self.name, self.holder, ttl_s=self.settings.lease_ttl_s):
            self._leased = False
            raise LeaseLost(self.name)

    def _check_still_live(self) -> None:
        """Raise BuildSwitched when a rebuild made another build live (its tables may be gone)."""
        if not self.follows_live:
            return
        with self.target.transaction() as tx:
            live = tx.live_build(self.name)
        if live is not None and live != self.build:
            raise BuildSwitched(self.name)

    def _report(self) -> None:
        self.target.report(self.name, self.holder, self.status(with_head=False).to_json())

    def _fail(self, error: BaseException) -> None:
        self._state = RunnerState.FAILED
        self._last_error = repr(error)
        self._report()

    def status(self, *, with_head: bool = True) -> ProjectionStatus:
        """The runner's figures now; `with_head` also asks the store for the head and lag."""
        head = lag_events = None
        if with_head:
            head = self.store.head_position(self.projection.handles)
            lag_events = 0
            if head is not None and head > self._checkpoint:
                lag_events = sum(
                    1
                    for _ in self.store.read_all_after(
                        self._checkpoint, filter=self.projection.handles
                    )
                )
        lag_seconds = None
        if lag_events == 0:
            lag_seconds = 0.0
        elif self._last_recorded_at is not None:
            lag_seconds = (utcnow() - self._last_recorded_at).total_seconds()
        return ProjectionStatus(
            projection=self.name,
            build=self.build,
            state=self._state,
            checkpoint=self._checkpoint,
            head=head,
            lag_events=lag_events,
            lag_seconds=lag_seconds,
            events_per_s=round(self._rate.per_second(), 1),
            handled=self._handled,
            parked=self._parked,
            last_error=self._last_error,
            updated_at=utcnow(),
        )


def _pump(subscription: object, items: queue.Queue[object]) -> None:
    """Move subscription items into the queue; a failure travels as an item too."""
    try:
        for item in subscription:  # type: ignore[attr-defined]
            items.put(item)
    except BaseException as error:  # the runner re-raises it on its own thread
        items.put(error)
