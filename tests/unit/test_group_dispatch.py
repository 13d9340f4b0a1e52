"""How a dispatch shares events among consumers: the strategies, given room in each buffer."""

from __future__ import annotations

from write_side.groups.sqlite.strategy import assign


def test_round_robin_alternates_from_after_the_last_consumer_served() -> None:
    """Each event goes to the next consumer with room, starting after the previous one."""
    chosen, rotation = assign([(1, 5), (2, 5), (3, 5)], 5, "RoundRobin", rotation=1)
    assert chosen == [2, 3, 1, 2, 3]
    assert rotation == 3


def test_round_robin_skips_full_consumers() -> None:
    """A consumer without room is passed over; one that fills up drops out of the turn."""
    chosen, _ = assign([(1, 1), (2, 0), (3, 3)], 4, "RoundRobin", rotation=0)
    assert chosen == [1, 3, 3, 3]


def test_dispatch_to_single_fills_the_current_consumer_first() -> None:
    """The consumer served last keeps getting events until its buffer is full."""
    chosen, rotation = assign([(1, 2), (2, 4)], 5, "DispatchToSingle", rotation=2)
    assert chosen == [2, 2, 2, 2, 1]
    assert rotation == 1


def test_dispatch_to_single_starts_with_the_first_to_join() -> None:
    """With nobody served yet, the consumer that joined first is the single one."""
    chosen, rotation = assign([(4, 10), (7, 10)], 3, "DispatchToSingle", rotation=0)
    assert chosen == [4, 4, 4]
    assert rotation == 4


def test_no_room_means_no_dispatch() -> None:
    """Events stay in the group when every buffer is full (or nobody is connected)."""
    assert assign([(1, 0), (2, 0)], 3, "RoundRobin", rotation=0) == ([], 0)
    assert assign([], 3, "DispatchToSingle", rotation=5) == ([], 5)
