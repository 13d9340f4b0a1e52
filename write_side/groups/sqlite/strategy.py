"""How one dispatch shares events among a group's consumers: round robin or dispatch-to-single."""

from __future__ import annotations

from collections.abc import Sequence

from write_side.groups.model import ConsumerStrategy


def assign(
    free: Sequence[tuple[int, int]], count: int, strategy: ConsumerStrategy, rotation: int
) -> tuple[list[int], int]:
    """Which consumer gets each of `count` events, and the new rotation mark.

    `free` lists (consumer id, room in its buffer) in the order the consumers joined;
    `rotation` is the consumer that got the last event. `RoundRobin` gives each event to the
    next consumer with room after the previous one; `DispatchToSingle` keeps giving to the
    same consumer until its buffer is full, then moves on to the next.
    """
    room = {consumer: space for consumer, space in free if space > 0}
    order = [consumer for consumer, _ in free]
    if not room or count <= 0 or not order:
        return [], rotation
    after = next((i for i, c in enumerate(order) if c > rotation), 0)
    if strategy == "DispatchToSingle" and room.get(rotation, 0) > 0:
        after = order.index(rotation)
    chosen: list[int] = []
    index = after
    while len(chosen) < count and room:
        consumer = order[index % len(order)]
        if room.get(consumer, 0) <= 0:
            index += 1
            continue
        chosen.append(consumer)
        room[consumer] -= 1
        if room[consumer] == 0:
            del room[consumer]
        if strategy == "RoundRobin" or consumer not in room:
            index += 1
    return chosen, chosen[-1] if chosen else rotation
