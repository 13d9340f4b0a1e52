"""20 threads renaming categories to names that collide: exactly one wins each name."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict

from tests.domain.contexts import unique
from write_side.catalog import CATEGORY_NAMES, Category, CreateCategory, RenameCategory
from write_side.domain import CommandBus, DomainError, Repository, Reservations, normalize

THREADS = 20
NAMES = 4


def test_twenty_threads_renaming_to_colliding_names_one_wins_each_name(
    bus: CommandBus, repository: Repository, reservations: Reservations
) -> None:
    originals = [unique("Original") for _ in range(THREADS)]
    ids = [bus.dispatch(CreateCategory(name=name)).aggregate_id for name in originals]
    targets = [unique("Target") for _ in range(NAMES)]
    # Each target is asked for by 5 threads, each spelling it differently (case, spaces).
    wanted = {ids[n]: _spell(targets[n % NAMES], n // NAMES) for n in range(THREADS)}
    start = threading.Barrier(THREADS)
    won: dict[str, list[uuid.UUID]] = defaultdict(list)
    refused: list[tuple[uuid.UUID, str | None]] = []
    failures: list[BaseException] = []

    def rename(category_id: uuid.UUID) -> None:
        start.wait()
        try:
            bus.dispatch(RenameCategory(category_id=category_id, name=wanted[category_id]))
            won[normalize(wanted[category_id])].append(category_id)
        except DomainError as error:
            refused.append((category_id, error.rule))
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=rename, args=(id,)) for id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(won) == sorted(normalize(t) for t in targets)
    assert all(len(winners) == 1 for winners in won.values())
    assert len(refused) == THREADS - NAMES
    assert {rule for _, rule in refused} == {"category_name_taken"}
    for target in targets:
        [winner] = won[normalize(target)]
        claim = reservations.current(CATEGORY_NAMES.kind, target).holder
        assert claim is not None
        assert claim.owner_id == winner
        assert normalize(repository.load(Category, winner).name) == normalize(target)
    for category_id, original in zip(ids, originals, strict=True):
        name = repository.load(Category, category_id).name
        claim = reservations.current(CATEGORY_NAMES.kind, original).holder
        if any(category_id in winners for winners in won.values()):
            assert claim is None  # a winner's old name is free again
        else:
            assert name == original  # a loser keeps its name, and its claim
            assert claim is not None
            assert claim.owner_id == category_id


def _spell(name: str, variant: int) -> str:
    return [f" {name.upper()}", name.lower(), f"{name}  ", name.title(), name][variant]
