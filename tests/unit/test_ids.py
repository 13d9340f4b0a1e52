"""UUIDv7 generation and deterministic id derivation."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import threading
import time
import uuid
from collections.abc import Iterator
from itertools import pairwise
from multiprocessing.connection import Connection

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from write_side.ids import BOOKWORM_NAMESPACE, UuidV7Generator, derive_id, new_id, uuid5


def unix_ms_of(value: uuid.UUID) -> int:
    return value.int >> 80


def counter_of(value: uuid.UUID) -> int:
    return (value.int >> 64) & 0xFFF


def clock_reading(readings: Iterator[int]) -> UuidV7Generator:
    return UuidV7Generator(clock_ms=lambda: next(readings))


def test_new_id_is_an_rfc_9562_version_7_uuid_stamped_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000

    made = new_id()

    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= unix_ms_of(made) <= after


def test_ids_made_in_a_tight_loop_strictly_increase_as_uuids_and_as_text() -> None:
    made = [new_id() for _ in range(20_000)]

    assert all(a < b for a, b in pairwise(made))
    assert all(str(a) < str(b) for a, b in pairwise(made))


def test_within_one_millisecond_the_counter_orders_the_ids() -> None:
    generator = UuidV7Generator(clock_ms=lambda: 1_000)

    first, second, third = generator(), generator(), generator()

    assert unix_ms_of(first) == unix_ms_of(second) == unix_ms_of(third) == 1_000
    assert counter_of(second) == counter_of(first) + 1
    assert counter_of(third) == counter_of(second) + 1
    assert counter_of(first) < 2048


def test_when_the_counter_runs_out_the_timestamp_is_carried_into_the_next_millisecond() -> None:
    generator = UuidV7Generator(clock_ms=lambda: 5_000)

    made = [generator() for _ in range(4_097)]

    assert all(a < b for a, b in pairwise(made))
    assert unix_ms_of(made[0]) == 5_000
    assert unix_ms_of(made[-1]) == 5_001


def test_a_clock_that_steps_back_does_not_break_the_order() -> None:
    generator = clock_reading(iter([9_000, 8_000, 9_000, 9_001]))

    made = [generator() for _ in range(4)]

    assert made == sorted(made)
    assert len(set(made)) == 4
    assert [unix_ms_of(m) for m in made] == [9_000, 9_000, 9_000, 9_001]


def test_ids_made_by_many_threads_are_unique() -> None:
    made: list[uuid.UUID] = []
    lock = threading.Lock()

    def make() -> None:
        mine = [new_id() for _ in range(2_000)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(made)) == 16_000


@settings(database=None, max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=300))
def test_ids_strictly_increase_and_never_predate_the_clock_whatever_it_reads(
    readings: list[int],
) -> None:
    generator = clock_reading(iter(readings))

    made = [generator() for _ in readings]

    assert all(a < b for a, b in pairwise(made))
    assert all(unix_ms_of(m) >= max(readings[: i + 1]) for i, m in enumerate(made))
    assert all(m.version == 7 and m.variant == uuid.RFC_4122 for m in made)


def test_derive_id_is_deterministic_and_a_one_part_derivation_is_plain_uuid5() -> None:
    command_id = uuid.UUID("0190f0d2-1c3e-7a4b-8c5d-6e7f8091a2b3")

    book_id = derive_id(command_id, "book")

    assert book_id == derive_id(command_id, "book")
    assert book_id == uuid.uuid5(command_id, "book")
    assert book_id != derive_id(command_id, "author")
    assert book_id != derive_id(new_id(), "book")


@given(st.uuids(), st.text())
def test_our_uuid5_is_the_standard_librarys_in_every_way_a_uuid_is_used(
    namespace: uuid.UUID, name: str
) -> None:
    ours, theirs = uuid5(namespace, name), uuid.uuid5(namespace, name)

    assert type(ours) is uuid.UUID
    assert (ours.int, ours.bytes, str(ours), hash(ours)) == (
        theirs.int,
        theirs.bytes,
        str(theirs),
        hash(theirs),
    )
    assert (ours.version, ours.variant, ours.is_safe) == (5, uuid.RFC_4122, theirs.is_safe)
    assert pickle.loads(pickle.dumps(ours)) == ours == copy.deepcopy(ours)
    assert {ours: 1}[theirs] == 1
    with pytest.raises(TypeError):
        ours.int = 0  # type: ignore[misc]


def test_new_ids_are_ordinary_immutable_uuids() -> None:
    made = new_id()

    assert made == uuid.UUID(str(made)) == uuid.UUID(int=made.int)
    assert made.is_safe == uuid.SafeUUID.unknown
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(TypeError):
        made.int = 0  # type: ignore[misc]


def test_each_part_is_its_own_step_so_joined_parts_do_not_collide() -> None:
    command_id = new_id()

    assert derive_id(command_id, "a", "b") == derive_id(derive_id(command_id, "a"), "b")
    assert derive_id(command_id, "a", "b") != derive_id(command_id, "a/b")
    assert derive_id(command_id, "ab", "") != derive_id(command_id, "a", "b")


def test_a_canonical_uuid_string_namespace_is_that_uuid() -> None:
    command_id = new_id()

    assert derive_id(str(command_id), "book") == derive_id(command_id, "book")


def test_any_other_string_namespace_is_hashed_under_the_bookworm_namespace() -> None:
    command_id = new_id()

    derived = derive_id("idempotency-key-42", "book")

    assert derived == uuid.uuid5(uuid.uuid5(BOOKWORM_NAMESPACE, "idempotency-key-42"), "book")
    # Keys are case-sensitive, so an upper-case UUID string is a different key.
    assert derive_id(str(command_id).upper(), "book") != derive_id(command_id, "book")


def test_derived_ids_are_stable_across_releases() -> None:
    # Stream names of existing aggregates depend on these values: they must never change.
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:bookworm:ids") == BOOKWORM_NAMESPACE
    assert derive_id("key-1", "book", "0") == uuid.UUID("1b000883-df0f-5f40-b317-428856204b9c")


def test_derive_id_needs_at_least_one_part() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        derive_id(new_id())


def _send_ids_made_here(out: Connection) -> None:
    out.send([new_id() for _ in range(100)])
    out.close()


def ids_of_a_forked_child() -> list[uuid.UUID]:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_send_ids_made_here, args=(sending,))
    child.start()
    made: list[uuid.UUID] = receiving.recv()
    child.join()
    return made


def test_forked_processes_draw_different_random_bits() -> None:
    # The random part comes from `random`, which every forked child reseeds from the OS: two
    # children forked from one parent must still make different ids.
    new_id()  # the parent's generator has state before the forks
    first, second = ids_of_a_forked_child(), ids_of_a_forked_child()

    rand_b = (1 << 62) - 1
    firsts = {value.int & rand_b for value in first}
    assert firsts.isdisjoint(value.int & rand_b for value in second)
