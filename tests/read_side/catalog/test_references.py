"""Authors, categories and publishers: full lists by name, with renames and deletions, each
item carrying its stream's revision."""

from __future__ import annotations

import uuid

from read_side.queries.catalog import (
    ReferenceItem,
    find_author,
    find_category,
    find_publisher,
    list_authors,
    list_categories,
    list_publishers,
)
from tests.read_side.catalog.conftest import World
from write_side.catalog import (
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteCategory,
    DeletePublisher,
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
)


def test_empty_lists(world: World) -> None:
    assert world.ask(list_authors) == []
    assert world.ask(list_categories) == []
    assert world.ask(list_publishers) == []


def test_authors_by_name_renamed_and_deleted(world: World) -> None:
    ids = {
        name: world.bus.dispatch(CreateAuthor(name=name)).aggregate_id
        for name in ("mary Shelley", "Ada Lovelace", "Charles Babbage", "Zeno")
    }
    world.project()
    world.bus.dispatch(RenameAuthor(author_id=ids["Zeno"], name="Ada Byron"))
    world.bus.dispatch(DeleteAuthor(author_id=ids["Charles Babbage"]))

    assert world.ask(list_authors) == [
        ReferenceItem(id=ids["Zeno"], name="Ada Byron", version=1),
        ReferenceItem(id=ids["Ada Lovelace"], name="Ada Lovelace", version=0),
        ReferenceItem(id=ids["mary Shelley"], name="mary Shelley", version=0),
    ]


def test_categories_and_publishers_renamed_and_deleted(world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    poetry = world.bus.dispatch(CreateCategory(name=f"Poetry {tag}")).aggregate_id
    essays = world.bus.dispatch(CreateCategory(name=f"Essays {tag}")).aggregate_id
    penguin = world.bus.dispatch(CreatePublisher(name=f"Penguin {tag}")).aggregate_id
    faber = world.bus.dispatch(CreatePublisher(name=f"Faber {tag}")).aggregate_id
    world.bus.dispatch(RenameCategory(category_id=poetry, name="Verse"))  # in the same batch
    world.project()
    world.bus.dispatch(RenamePublisher(publisher_id=faber, name="Allen Lane"))
    world.bus.dispatch(DeleteCategory(category_id=essays))
    world.bus.dispatch(DeletePublisher(publisher_id=penguin))

    assert world.ask(list_categories) == [ReferenceItem(id=poetry, name="Verse", version=1)]
    assert world.ask(list_publishers) == [ReferenceItem(id=faber, name="Allen Lane", version=1)]


def test_a_name_freed_by_a_deletion_can_be_taken_again(world: World) -> None:
    first = world.bus.dispatch(CreateCategory(name="History")).aggregate_id
    world.bus.dispatch(DeleteCategory(category_id=first))
    second = world.bus.dispatch(CreateCategory(name="history")).aggregate_id

    assert world.ask(list_categories) == [ReferenceItem(id=second, name="history", version=0)]


def test_the_version_follows_the_stream_revision_across_batches(world: World) -> None:
    author = world.bus.dispatch(CreateAuthor(name="Ada")).aggregate_id
    world.project()
    for name in ("Ada Byron", "Ada King"):  # in one batch, after the row was written
        world.bus.dispatch(RenameAuthor(author_id=author, name=name))
    world.project()
    world.bus.dispatch(RenameAuthor(author_id=author, name="Augusta Ada King"))

    (item,) = world.ask(list_authors)

    last = world.store.read_stream(f"author-{author}")[-1]
    assert (item.name, item.version) == ("Augusta Ada King", 3)
    assert item.version == last.revision


def test_a_rename_to_the_same_name_keeps_the_version(world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    publisher = world.bus.dispatch(CreatePublisher(name=f"Faber {tag}")).aggregate_id
    world.bus.dispatch(RenamePublisher(publisher_id=publisher, name="Faber"))
    world.bus.dispatch(RenamePublisher(publisher_id=publisher, name="Faber"))  # records nothing

    assert world.ask(list_publishers) == [ReferenceItem(id=publisher, name="Faber", version=1)]


def test_each_one_by_id_until_deleted(world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    author = world.bus.dispatch(CreateAuthor(name="Ada")).aggregate_id
    category = world.bus.dispatch(CreateCategory(name=f"Poetry {tag}")).aggregate_id
    publisher = world.bus.dispatch(CreatePublisher(name=f"Faber {tag}")).aggregate_id
    world.bus.dispatch(RenameCategory(category_id=category, name=f"Verse {tag}"))
    world.bus.dispatch(DeletePublisher(publisher_id=publisher))

    assert world.ask(find_author, author) == ReferenceItem(id=author, name="Ada", version=0)
    assert world.ask(find_category, category) == ReferenceItem(
        id=category, name=f"Verse {tag}", version=1
    )
    assert world.ask(find_publisher, publisher) is None
    assert world.ask(find_author, uuid.uuid4()) is None
