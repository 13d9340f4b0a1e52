"""Authors, categories and publishers: create, rename, delete; unique names for categories and
publishers (case-insensitive, trimmed); no delete while a non-deleted book uses one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.domain.contexts import events_of, given_book, given_shelf, types_of, unique
from write_side.catalog import (
    Author,
    AuthorCreated,
    AuthorDeleted,
    AuthorRenamed,
    Category,
    CategoryCreated,
    CategoryDeleted,
    CategoryRenamed,
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPublisher,
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteBook,
    DeleteCategory,
    DeletePublisher,
    NamedAggregate,
    Publisher,
    PublisherCreated,
    PublisherDeleted,
    PublisherRenamed,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
)
from write_side.domain import Command, CommandBus, DomainError, NotFound, Repository
from write_side.envelope import DomainEvent
from write_side.ids import derive_id


@dataclass(frozen=True)
class Kind:
    """One of the three: how to create, rename and delete it, and what it records."""

    aggregate: type[NamedAggregate]
    create: Callable[[str], Command]
    rename: Callable[[uuid.UUID, str], Command]
    delete: Callable[[uuid.UUID], Command]
    created: Callable[[uuid.UUID, str], DomainEvent]
    renamed: Callable[[str], DomainEvent]
    deleted: DomainEvent


KINDS = {
    "author": Kind(
        Author,
        lambda name: CreateAuthor(name=name),
        lambda id, name: RenameAuthor(author_id=id, name=name),
        lambda id: DeleteAuthor(author_id=id),
        lambda id, name: AuthorCreated(author_id=id, name=name),
        lambda name: AuthorRenamed(name=name),
        AuthorDeleted(),
    ),
    "category": Kind(
        Category,
        lambda name: CreateCategory(name=name),
        lambda id, name: RenameCategory(category_id=id, name=name),
        lambda id: DeleteCategory(category_id=id),
        lambda id, name: CategoryCreated(category_id=id, name=name),
        lambda name: CategoryRenamed(name=name),
        CategoryDeleted(),
    ),
    "publisher": Kind(
        Publisher,
        lambda name: CreatePublisher(name=name),
        lambda id, name: RenamePublisher(publisher_id=id, name=name),
        lambda id: DeletePublisher(publisher_id=id),
        lambda id, name: PublisherCreated(publisher_id=id, name=name),
        lambda name: PublisherRenamed(name=name),
        PublisherDeleted(),
    ),
}
UNIQUE = ["category", "publisher"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_create_rename_delete(kind: str, bus: CommandBus, repository: Repository) -> None:
    k = KINDS[kind]
    first, second = unique("First"), unique("Second")
    command = k.create(f"  {first} ")

    created = bus.dispatch(command)
    bus.dispatch(k.rename(created.aggregate_id, second))
    bus.dispatch(k.delete(created.aggregate_id))

    id = derive_id(command.command_id, kind)
    assert created.stream == f"{kind}-{id}"
    assert events_of(repository, created.stream) == [
        k.created(id, first),
        k.renamed(second),
        k.deleted,
    ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_rename_to_the_same_name_records_nothing(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    k = KINDS[kind]
    name = unique("Same")
    created = bus.dispatch(k.create(name))

    result = bus.dispatch(k.rename(created.aggregate_id, f" {name} "))

    assert (result.events, result.revision) == ((), 0)
    assert len(events_of(repository, created.stream)) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_missing_one_is_not_found_and_a_deleted_one_takes_no_command(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    k = KINDS[kind]
    missing = uuid.uuid4()
    deleted = bus.dispatch(k.create(unique("Gone"))).aggregate_id
    bus.dispatch(k.delete(deleted))

    answers = []
    for command in (k.rename(missing, unique("X")), k.delete(missing)):
        with pytest.raises(NotFound) as not_found:
            bus.dispatch(command)
        answers.append((not_found.value.rule, not_found.value.status))
    for command in (k.rename(deleted, unique("X")), k.delete(deleted)):
        with pytest.raises(DomainError) as refused:
            bus.dispatch(command)
        answers.append((refused.value.rule, refused.value.status))

    assert answers == [(f"{kind}_not_found", 404)] * 2 + [(f"{kind}_deleted", 409)] * 2
    assert len(events_of(repository, k.aggregate.stream_for(deleted))) == 2


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_create_aimed_at_an_existing_stream_is_refused(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    k = KINDS[kind]
    existing = bus.dispatch(k.create(unique("First"))).aggregate_id
    command = k.create(unique("Second"))

    with pytest.raises(DomainError) as raised:
        repository.execute(
            k.aggregate,
            existing,
            command,
            lambda named: named.create(command),  # type: ignore[attr-defined]
        )

    assert (raised.value.rule, raised.value.status) == (f"{kind}_exists", 409)
    assert len(events_of(repository, k.aggregate.stream_for(existing))) == 1


# -- unique names -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", UNIQUE)
def test_names_are_unique_case_insensitive_and_trimmed(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    k = KINDS[kind]
    name = unique("Science Fiction")
    bus.dispatch(k.create(name))
    second = k.create(f"  {name.upper()} ")

    with pytest.raises(DomainError) as raised:
        bus.dispatch(second)

    assert (raised.value.rule, raised.value.field, raised.value.status) == (
        f"{kind}_name_taken",
        "name",
        409,
    )
    assert events_of(repository, f"{kind}-{derive_id(second.command_id, kind)}") == []


def test_authors_may_share_a_name(bus: CommandBus) -> None:
    first = bus.dispatch(CreateAuthor(name="John Smith"))
    second = bus.dispatch(CreateAuthor(name="john smith"))

    assert first.aggregate_id != second.aggregate_id
    assert (first.events, second.events) == (("AuthorCreated",), ("AuthorCreated",))


@pytest.mark.parametrize("kind", UNIQUE)
def test_a_rename_claims_the_new_name_and_frees_the_old(kind: str, bus: CommandBus) -> None:
    k = KINDS[kind]
    old, new, held = unique("Old"), unique("New"), unique("Held")
    renamed = bus.dispatch(k.create(old)).aggregate_id
    holder = bus.dispatch(k.create(held)).aggregate_id

    with pytest.raises(DomainError) as taken:
        bus.dispatch(k.rename(renamed, held.lower()))
    bus.dispatch(k.rename(renamed, new))
    with pytest.raises(DomainError) as now_taken:
        bus.dispatch(k.create(new.upper()))
    reuse = bus.dispatch(k.create(old))  # the old name is free again

    assert taken.value.rule == now_taken.value.rule == f"{kind}_name_taken"
    assert reuse.events == (f"{k.aggregate.__name__}Created",)
    assert holder != reuse.aggregate_id


@pytest.mark.parametrize("kind", UNIQUE)
def test_a_rename_that_only_changes_case_keeps_the_name(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    k = KINDS[kind]
    name = unique("poetry")
    id = bus.dispatch(k.create(name)).aggregate_id

    bus.dispatch(k.rename(id, name.title()))
    with pytest.raises(DomainError) as raised:
        bus.dispatch(k.create(name))

    assert raised.value.rule == f"{kind}_name_taken"
    assert repository.load(k.aggregate, id).name == name.title()


@pytest.mark.parametrize("kind", UNIQUE)
def test_a_delete_frees_the_name(kind: str, bus: CommandBus) -> None:
    k = KINDS[kind]
    name = unique("Drama")
    id = bus.dispatch(k.create(name)).aggregate_id

    bus.dispatch(k.delete(id))
    again = bus.dispatch(k.create(name.upper()))

    assert again.events == (f"{k.aggregate.__name__}Created",)


@pytest.mark.parametrize("kind", UNIQUE)
def test_a_refused_rename_claims_nothing(kind: str, bus: CommandBus) -> None:
    k = KINDS[kind]
    wanted = unique("Wanted")
    deleted = bus.dispatch(k.create(unique("Deleted"))).aggregate_id
    bus.dispatch(k.delete(deleted))

    with pytest.raises(DomainError):
        bus.dispatch(k.rename(deleted, wanted))
    with pytest.raises(NotFound):
        bus.dispatch(k.rename(uuid.uuid4(), wanted))
    free = bus.dispatch(k.create(wanted))

    assert free.events == (f"{k.aggregate.__name__}Created",)


# -- no delete while a non-deleted book uses it ------------------------------------------------


USED_BY: dict[str, Callable[[tuple[uuid.UUID, uuid.UUID, uuid.UUID]], uuid.UUID]] = {
    "author": lambda ids: ids[2],
    "category": lambda ids: ids[0],
    "publisher": lambda ids: ids[1],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_delete_while_a_non_deleted_book_uses_it(
    kind: str, bus: CommandBus, repository: Repository
) -> None:
    shelf = given_shelf(bus)
    book_id = given_book(bus, shelf)
    used = USED_BY[kind]((shelf.category_id, shelf.publisher_id, shelf.author_ids[0]))
    k = KINDS[kind]

    with pytest.raises(DomainError) as raised:
        bus.dispatch(k.delete(used))
    bus.dispatch(DeleteBook(book_id=book_id))
    bus.dispatch(k.delete(used))

    assert (raised.value.rule, raised.value.status) == (f"{kind}_in_use", 409)
    assert types_of(events_of(repository, k.aggregate.stream_for(used)))[-1].endswith("Deleted")


def test_a_book_that_moved_on_no_longer_holds_its_old_references(
    bus: CommandBus, repository: Repository
) -> None:
    old, new = given_shelf(bus), given_shelf(bus)
    book_id = given_book(bus, old)

    bus.dispatch(ChangeBookCategory(book_id=book_id, category_id=new.category_id))
    bus.dispatch(ChangeBookPublisher(book_id=book_id, publisher_id=new.publisher_id))
    bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=new.author_ids))
    bus.dispatch(DeleteCategory(category_id=old.category_id))
    bus.dispatch(DeletePublisher(publisher_id=old.publisher_id))
    bus.dispatch(DeleteAuthor(author_id=old.author_ids[0]))

    assert repository.load(Category, old.category_id).deleted
    assert repository.load(Publisher, old.publisher_id).deleted
    assert repository.load(Author, old.author_ids[0]).deleted
    with pytest.raises(DomainError) as raised:
        bus.dispatch(DeleteCategory(category_id=new.category_id))
    assert raised.value.rule == "category_in_use"
