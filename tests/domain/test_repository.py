"""The repository: load and save, idempotent commands, retries on concurrent change, snapshots,
and personal data that never reaches the store in the clear."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import cast

import pytest

from write_side.domain import (
    Command,
    CommandResult,
    DomainError,
    ManualClock,
    NotFound,
    Repository,
    StaleVersion,
    snapshot_stream,
)
from write_side.eventstore import (
    EventStore,
    ExpectedVersion,
    NewEvent,
    StreamNotFound,
)
from write_side.keystore import SqliteKeyStore

from .tally import AddToTally, OpenTally, Tally


def open_tally(repository: Repository, tally_id: uuid.UUID, **changes: object) -> OpenTally:
    command = OpenTally(tally_id=tally_id, name="Ada Lovelace", email="ada@example.com")
    command = command.model_copy(update=changes)
    repository.execute(Tally, tally_id, command, lambda tally: tally.open(command))
    return command


def add(repository: Repository, tally_id: uuid.UUID, amount: int, **options: object) -> object:
    command = AddToTally(tally_id=tally_id, amount=amount)
    return repository.execute(
        Tally,
        tally_id,
        command,
        lambda tally: tally.add(command),
        **options,  # type: ignore[arg-type]
    )


def test_a_command_appends_what_the_aggregate_decided(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    command = AddToTally(tally_id=tally_id, amount=5)

    result = repository.execute(Tally, tally_id, command, lambda tally: tally.add(command))

    assert result.stream == f"tally-{tally_id}"
    assert result.revision == 1
    assert result.events == ("TallyAdded",)
    assert not result.replayed
    [last] = repository.store.read_stream(result.stream, from_revision=1)
    assert last.position == result.position
    loaded = repository.load(Tally, tally_id)
    assert (loaded.total, loaded.version) == (5, 1)


def test_events_carry_the_command_id_actor_and_business_time(
    repository: Repository, clock: ManualClock
) -> None:
    tally_id = uuid.uuid4()
    command = OpenTally(tally_id=tally_id, name="Ada", email="a@x.org", actor="admin")

    repository.execute(Tally, tally_id, command, lambda tally: tally.open(command))

    [recorded] = repository.store.read_stream(f"tally-{tally_id}")
    metadata = repository.registry.decode(recorded).metadata
    assert metadata is not None
    assert metadata.command_id == command.command_id
    assert metadata.correlation_id == command.command_id
    assert metadata.actor == "admin"
    assert metadata.occurred_at == clock.now()


def test_a_broken_rule_writes_nothing(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)

    with pytest.raises(DomainError) as raised:
        add(repository, tally_id, 0)

    assert (raised.value.rule, raised.value.field) == ("amount_positive", "amount")
    assert len(repository.store.read_stream(f"tally-{tally_id}")) == 1
    with pytest.raises(NotFound):
        add(repository, uuid.uuid4(), 1)


def test_a_command_sent_twice_is_recorded_once_and_answered_the_same(
    repository: Repository,
) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    command = AddToTally(tally_id=tally_id, amount=3)

    first = repository.execute(Tally, tally_id, command, lambda tally: tally.add(command))
    second = repository.execute(Tally, tally_id, command, lambda tally: tally.add(command))

    assert second.replayed
    assert (second.revision, second.position) == (first.revision, first.position)
    assert repository.load(Tally, tally_id).total == 3
    assert len(repository.store.read_stream(f"tally-{tally_id}")) == 2


class LosesTheFirstAnswer:
    """The real store, except that the first append's answer is lost (a crash in between)."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.lost = False

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: ExpectedVersion
    ) -> int:
        position = self.inner.append(stream, events, expected_version=expected_version)
        if not self.lost:
            self.lost = True
            raise ConnectionResetError("the answer was lost")
        return position

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_command_retried_after_a_lost_answer_is_recorded_once(
    repository: Repository,
) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    flaky = Repository(
        cast(EventStore, LosesTheFirstAnswer(repository.store)),
        repository.registry,
        repository.crypto,
        repository.clock,
    )
    command = AddToTally(tally_id=tally_id, amount=4)

    with pytest.raises(ConnectionResetError):
        flaky.execute(Tally, tally_id, command, lambda tally: tally.add(command))
    again = flaky.execute(Tally, tally_id, command, lambda tally: tally.add(command))

    assert again.replayed
    assert repository.load(Tally, tally_id).total == 4
    assert len(repository.store.read_stream(f"tally-{tally_id}")) == 2


def test_concurrent_commands_all_land_with_gapless_revisions(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    start = threading.Barrier(20)
    failures: list[BaseException] = []

    def add_one(amount: int) -> None:
        start.wait()
        try:
            add(repository, tally_id, amount)
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=add_one, args=(n,)) for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    recorded = repository.store.read_stream(f"tally-{tally_id}")
    assert [event.revision for event in recorded] == list(range(21))
    assert repository.load(Tally, tally_id).total == sum(range(1, 21))


def test_a_command_decides_on_the_aggregate_its_caller_loaded(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    loaded = repository.load(Tally, tally_id)
    decided_on: list[Tally] = []
    command = AddToTally(tally_id=tally_id, amount=3)

    def decide(tally: Tally) -> Sequence[object]:
        decided_on.append(tally)
        return tally.add(command)

    result = repository.execute(Tally, tally_id, command, decide, loaded=loaded)  # type: ignore[arg-type]

    assert decided_on == [loaded]
    assert result.revision == 1
    assert repository.load(Tally, tally_id).total == 3


def test_a_loaded_aggregate_gone_stale_is_read_again(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    loaded = repository.load(Tally, tally_id)
    add(repository, tally_id, 1)  # lands after the caller loaded the tally

    result = add(repository, tally_id, 2, loaded=loaded)

    assert cast(CommandResult, result).revision == 2
    assert repository.load(Tally, tally_id).total == 3


def test_a_loaded_aggregate_of_another_stream_is_refused(repository: Repository) -> None:
    tally_id, other_id = uuid.uuid4(), uuid.uuid4()
    open_tally(repository, tally_id)
    open_tally(repository, other_id)

    with pytest.raises(ValueError, match="not tally-"):
        add(repository, tally_id, 1, loaded=repository.load(Tally, other_id))

    assert repository.load(Tally, tally_id).total == 0


def test_a_stale_expected_version_is_refused(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    add(repository, tally_id, 1)

    with pytest.raises(StaleVersion):
        add(repository, tally_id, 1, expected_version=0)
    add(repository, tally_id, 1, expected_version=1)

    assert repository.load(Tally, tally_id).total == 2


def test_snapshots_are_written_every_n_events_and_used_to_load(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    for amount in range(1, 8):
        add(repository, tally_id, amount)

    snapshots = repository.store.read_stream(snapshot_stream(f"tally-{tally_id}"))
    metadata, _ = repository.store.get_stream_metadata(snapshot_stream(f"tally-{tally_id}"))
    loaded = repository.load(Tally, tally_id)

    assert metadata.max_count == 1
    assert len(snapshots) == 1  # only the newest is kept
    assert b'"version":5' in snapshots[0].data  # written when revision 5 made 6 events
    assert (loaded.total, loaded.additions, loaded.version) == (28, 7, 7)
    assert loaded.owner is not None
    assert loaded.owner.require().name == "Ada Lovelace"
    assert len(loaded.handled) == 8


def test_snapshots_are_not_read_by_all_consumers(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    for amount in range(1, 4):
        add(repository, tally_id, amount)

    streams = {event.stream for event in repository.store.read_all()}

    assert f"tally-{tally_id}" in streams
    assert snapshot_stream(f"tally-{tally_id}") not in streams


def test_personal_data_is_stored_encrypted_and_erased_with_its_key(
    repository: Repository, keys: SqliteKeyStore
) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id, name="Grace Hopper", email="grace@navy.mil")
    for amount in range(1, 4):
        add(repository, tally_id, amount)
    stored = [e.data for e in repository.store.read_stream(f"tally-{tally_id}")]
    stored += [e.data for e in repository.store.read_stream(snapshot_stream(f"tally-{tally_id}"))]

    assert not any(b"Grace" in data or b"grace@" in data for data in stored)
    assert repository.load(Tally, tally_id).owner.require().email == "grace@navy.mil"  # type: ignore[union-attr]

    assert keys.forget(tally_id)
    forgotten = repository.load(Tally, tally_id)

    assert forgotten.owner is not None
    assert forgotten.owner.erased
    assert forgotten.owner.value is None
    assert forgotten.total == 6  # everything else still reads


def test_a_new_aggregate_has_no_stream(repository: Repository) -> None:
    tally_id = uuid.uuid4()

    loaded = repository.load(Tally, tally_id)

    assert (loaded.exists, loaded.version, loaded.total) == (False, -1, 0)
    with pytest.raises(StreamNotFound):
        repository.store.read_stream(f"tally-{tally_id}")


def test_a_command_deciding_nothing_writes_nothing(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    command = Command()

    result = repository.execute(Tally, tally_id, command, lambda tally: [])

    assert (result.revision, result.position, result.events) == (0, None, ())
    assert len(repository.store.read_stream(f"tally-{tally_id}")) == 1


class AddExactly(AddToTally):
    """A command that must not be decided again on a state its sender did not see."""

    retry_on_conflict = False


def test_a_command_that_forbids_retries_fails_on_a_concurrent_change(
    repository: Repository,
) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    command = AddExactly(tally_id=tally_id, amount=2)

    def decide_while_someone_else_writes(tally: Tally) -> list[object]:
        add(repository, tally_id, 1)  # lands between this load and this save
        return tally.add(command)  # type: ignore[return-value]

    with pytest.raises(StaleVersion):
        repository.execute(Tally, tally_id, command, decide_while_someone_else_writes)  # type: ignore[arg-type]

    assert repository.load(Tally, tally_id).total == 1


def test_a_command_carrying_if_match_is_refused_when_stale(repository: Repository) -> None:
    tally_id = uuid.uuid4()
    open_tally(repository, tally_id)
    add(repository, tally_id, 1)
    stale = AddToTally(tally_id=tally_id, amount=5, expected_version=0)
    current = AddToTally(tally_id=tally_id, amount=5, expected_version=1)

    with pytest.raises(StaleVersion):
        repository.execute(Tally, tally_id, stale, lambda tally: tally.add(stale))
    result = repository.execute(Tally, tally_id, current, lambda tally: tally.add(current))

    assert result.revision == 2
    assert repository.load(Tally, tally_id).total == 6
