"""`authors`, `categories`, `publishers`: the catalog's full lists of names (SQL target).

One row per non-deleted author, category or publisher: id, its stream revision (`version`, the
API's ETag), name, the key it sorts by, and when it was created and last renamed. A batch is
folded per id first, then written with one upsert and one delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, Text, Uuid, bindparam, delete

from read_side.projection import Projection
from read_side.projections.catalog_events import decode, name_key, of_types
from read_side.targets.sql import SqlTx, UtcDateTime, dialect_insert
from write_side.catalog.events import (
    AuthorCreated,
    AuthorDeleted,
    AuthorRenamed,
    CategoryCreated,
    CategoryDeleted,
    CategoryRenamed,
    PublisherCreated,
    PublisherDeleted,
    PublisherRenamed,
)
from write_side.chunking import chunks
from write_side.envelope import DomainEvent
from write_side.eventstore import EventFilter, RecordedEvent


def reference_table(name: str) -> Table:
    """The table (a build's, or the stable view) of one list of references."""
    return Table(
        name,
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("version", BigInteger, nullable=False),
        Column("name", Text, nullable=False),
        Column("name_key", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


class ReferenceProjection(Projection[SqlTx]):
    """A list of one kind of catalog reference, from its Created, Renamed and Deleted events."""

    created: ClassVar[type[DomainEvent]]
    renamed: ClassVar[type[DomainEvent]]
    deleted: ClassVar[type[DomainEvent]]
    id_field: ClassVar[str]
    target_kind: ClassVar[str] = "sql"

    def create(self, tx: SqlTx, build: int) -> None:
        table = reference_table(tx.table(self.name, build))
        table.create(tx.connection)
        Index(f"{table.name}_by_name", table.c.name_key, table.c.id).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        table = reference_table(tx.table(self.name, build))
        changed: dict[UUID, dict[str, Any]] = {}
        renamed: dict[UUID, dict[str, Any]] = {}
        gone: set[UUID] = set()
        for item in decode(events):
            event = item.event
            if isinstance(event, self.created):
                ref: UUID = getattr(event, self.id_field)
                name: str = getattr(event, "name")  # noqa: B009 - not every DomainEvent has one
                changed[ref] = {
                    "id": ref,
                    "version": item.revision,
                    "name": name,
                    "name_key": name_key(name),
                    "created_at": item.occurred_at,
                    "updated_at": item.occurred_at,
                }
                gone.discard(ref)
            elif item.stream_id is None:
                continue
            elif isinstance(event, self.renamed):
                new_name: str = getattr(event, "name")  # noqa: B009
                row = changed.get(item.stream_id) or renamed.setdefault(item.stream_id, {})
                row.update(name=new_name, name_key=name_key(new_name), version=item.revision)
                row["updated_at"] = item.occurred_at
            elif isinstance(event, self.deleted):
                changed.pop(item.stream_id, None)
                renamed.pop(item.stream_id, None)
                gone.add(item.stream_id)
        conn = tx.connection
        for ids in chunks(sorted(gone)):
            conn.execute(delete(table).where(table.c.id.in_(ids)))
        if changed:
            stmt = dialect_insert(tx.dialect, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.id],
                set_={c: stmt.excluded[c] for c in ("version", "name", "name_key", "updated_at")},
            )
            conn.execute(stmt, list(changed.values()))
        if renamed:
            stmt_renamed = (
                table.update()
                .where(table.c.id == bindparam("ref"))
                .values(
                    version=bindparam("new_version"),
                    name=bindparam("new_name"),
                    name_key=bindparam("new_key"),
                    updated_at=bindparam("renamed_at"),
                )
            )
            rows = [
                {
                    "ref": ref,
                    "new_version": v["version"],
                    "new_name": v["name"],
                    "new_key": v["name_key"],
                    "renamed_at": v["updated_at"],
                }
                for ref, v in renamed.items()
            ]
            conn.execute(stmt_renamed, rows)


class AuthorsProjection(ReferenceProjection):
    """Every non-deleted author, by name."""

    name: ClassVar[str] = "authors"
    handles: ClassVar[EventFilter] = of_types(AuthorCreated, AuthorRenamed, AuthorDeleted)
    created, renamed, deleted = AuthorCreated, AuthorRenamed, AuthorDeleted
    id_field = "author_id"


class CategoriesProjection(ReferenceProjection):
    """Every non-deleted category, by name."""

    name: ClassVar[str] = "categories"
    handles: ClassVar[EventFilter] = of_types(CategoryCreated, CategoryRenamed, CategoryDeleted)
    created, renamed, deleted = CategoryCreated, CategoryRenamed, CategoryDeleted
    id_field = "category_id"


class PublishersProjection(ReferenceProjection):
    """Every non-deleted publisher, by name."""

    name: ClassVar[str] = "publishers"
    handles: ClassVar[EventFilter] = of_types(PublisherCreated, PublisherRenamed, PublisherDeleted)
    created, renamed, deleted = PublisherCreated, PublisherRenamed, PublisherDeleted
    id_field = "publisher_id"
