"""Contract: every read-model target keeps checkpoints, dead letters, live builds and leases,
and commits them atomically with the read model."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from read_side.targets import Checkpoint, CheckpointMovedBack, DeadLetter, Target


def letter(projection: str, position: int) -> DeadLetter:
    return DeadLetter(
        projection=projection,
        build=1,
        event_id=uuid.uuid4(),
        position=position,
        stream="book-1",
        event_type="BookCreated",
        error="ValueError('bad price')",
        traceback="Traceback (most recent call last): ...",
        attempts=3,
        parked_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    )


def test_a_new_build_has_no_checkpoint(target: Target, projection: str) -> None:
    """Before anything is stored, a build has no checkpoint and nothing is live."""
    with target.transaction() as tx:
        assert tx.checkpoint(projection, 1) is None
        assert tx.live_build(projection) is None
        assert tx.builds(projection) == []


def test_checkpoints_round_trip_and_only_move_forward(target: Target, projection: str) -> None:
    """A stored checkpoint reads back exactly; an older one is refused."""
    recorded = datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=UTC)
    with target.transaction() as tx:
        tx.save_checkpoint(projection, 1, Checkpoint(42, recorded))
    with target.transaction() as tx:
        assert tx.checkpoint(projection, 1) == Checkpoint(42, recorded)
        tx.save_checkpoint(projection, 1, Checkpoint(50, recorded))
        assert tx.builds(projection) == [1]
    with pytest.raises(CheckpointMovedBack), target.transaction() as tx:
        tx.save_checkpoint(projection, 1, Checkpoint(49, None))
    with target.transaction() as tx:
        assert tx.checkpoint(projection, 1) == Checkpoint(50, recorded)


def test_a_failed_transaction_keeps_nothing(target: Target, projection: str) -> None:
    """Checkpoint and dead letter written in a transaction that raises are both gone."""
    with target.transaction() as tx:
        tx.save_checkpoint(projection, 1, Checkpoint(10, None))

    def fail_midway() -> None:
        with target.transaction() as tx:
            tx.save_checkpoint(projection, 1, Checkpoint(20, None))
            tx.park(letter(projection, 15))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    with target.transaction() as tx:
        assert tx.checkpoint(projection, 1) == Checkpoint(10, None)
        assert tx.dead_letters(projection) == []


def test_dead_letters_are_kept_listed_and_discarded(target: Target, projection: str) -> None:
    """Parked events list oldest first with every field; discard removes one."""
    late, early = letter(projection, 30), letter(projection, 7)
    other = letter(f"{projection}_other", 1)
    with target.transaction() as tx:
        tx.park(late)
        tx.park(early)
        tx.park(other)
    with target.transaction() as tx:
        assert tx.dead_letters(projection) == [early, late]
        assert {d.projection for d in tx.dead_letters()} >= {projection, f"{projection}_other"}
        assert tx.discard(projection, early.event_id) is True
        assert tx.discard(projection, early.event_id) is False
    with target.transaction() as tx:
        assert tx.dead_letters(projection) == [late]


def test_switch_makes_a_build_live_and_drop_removes_an_old_one(
    target: Target, projection: str
) -> None:
    """Builds 1 and 2 exist; switching to 2 makes it live; build 1 can then be dropped,
    the live build cannot."""
    with target.transaction() as tx:
        tx.save_checkpoint(projection, 1, Checkpoint(5, None))
        tx.save_checkpoint(projection, 2, Checkpoint(7, None))
        tx.switch(projection, 1, ("",))
    with target.transaction() as tx:
        assert tx.live_build(projection) == 1
        tx.switch(projection, 2, ("",))
    with target.transaction() as tx:
        assert tx.live_build(projection) == 2
        tx.drop_build(projection, 1, ("",))
    with target.transaction() as tx:
        assert tx.builds(projection) == [2]
        assert tx.checkpoint(projection, 1) is None
    with pytest.raises(ValueError, match="live"), target.transaction() as tx:
        tx.drop_build(projection, 2, ("",))


def test_table_names_follow_the_convention(target: Target, projection: str) -> None:
    """`<name>_v<N>` and `<name>_v<N>_<suffix>`."""
    with target.transaction() as tx:
        assert tx.table(projection, 3) == f"{projection}_v3"
        assert tx.table(projection, 3, "items") == f"{projection}_v3_items"


def test_one_holder_at_a_time_until_the_lease_expires(target: Target, projection: str) -> None:
    """A second holder is refused while the first renews; it takes over after expiry or
    release; the status reported beside a lease reads back."""
    assert target.acquire_lease(projection, "worker-a", ttl_s=0.5) is not None
    assert target.acquire_lease(projection, "worker-b", ttl_s=0.5) is None
    assert target.acquire_lease(projection, "worker-a", ttl_s=0.5) is not None  # renewal
    target.report(projection, "worker-a", {"state": "live", "checkpoint": 12})
    (mine,) = [lease for lease in target.leases() if lease.projection == projection]
    assert (mine.holder, mine.status) == ("worker-a", {"state": "live", "checkpoint": 12})

    time.sleep(0.7)
    taken = target.acquire_lease(projection, "worker-b", ttl_s=5)
    assert taken is not None
    assert taken.holder == "worker-b"
    target.report(projection, "worker-a", {"state": "stale"})  # a lost holder cannot report
    (now,) = [lease for lease in target.leases() if lease.projection == projection]
    assert now.holder == "worker-b"
    assert now.status.get("state") != "stale"

    target.release_lease(projection, "worker-b")
    assert target.acquire_lease(projection, "worker-c", ttl_s=5) is not None


def test_fence_renews_only_a_held_unexpired_lease(target: Target, projection: str) -> None:
    """Inside a transaction, the holder's fence renews its lease; anyone else's fails, and so
    does the holder's once the lease has expired (and been taken over)."""
    assert target.acquire_lease(projection, "worker-a", ttl_s=0.4) is not None
    with target.transaction() as tx:
        assert tx.fence(projection, "worker-a", ttl_s=0.4) is True
        assert tx.fence(projection, "worker-b", ttl_s=0.4) is False
    time.sleep(0.5)
    with target.transaction() as tx:
        assert tx.fence(projection, "worker-a", ttl_s=0.4) is False
    assert target.acquire_lease(projection, "worker-b", ttl_s=5) is not None
    with target.transaction() as tx:
        assert tx.fence(projection, "worker-a", ttl_s=5) is False
        assert tx.fence(projection, "worker-b", ttl_s=5) is True
