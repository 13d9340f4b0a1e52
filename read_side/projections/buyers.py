"""`buyers`: each buyer's name, email and address, deleted and erased flags (SQL target).

The personal data is opened with the key store when the projection meets it; once the buyer
is forgotten the row reads `[erased]` in every personal column and stays so (see
`buyers_personal`). One row per buyer, folded in Python per batch and written back in one
statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Boolean, Column, Integer, Table, Text, Uuid

from read_side.projections.buyers_personal import ERASED, PersonalData
from read_side.projections.ordering_sql import RowPerStream, occurred_at, table_of
from read_side.targets.sql import UtcDateTime
from write_side.domain import KeyStore
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.ordering import (
    Address,
    BuyerAddressChanged,
    BuyerCreated,
    BuyerDeleted,
    BuyerForgotten,
    Contact,
)
from write_side.registry import REGISTRY

NAME = "buyers"
PERSONAL = ("name", "email", "street", "city", "province")


def buyer_columns() -> list[Any]:
    """The columns of the buyers table (and of its view)."""
    return [
        Column("buyer_id", Uuid, primary_key=True),
        Column("name", Text, nullable=False),
        Column("email", Text, nullable=False),
        Column("street", Text, nullable=False),
        Column("city", Text, nullable=False),
        Column("province", Text, nullable=False),
        Column("deleted", Boolean, nullable=False),
        Column("erased", Boolean, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("version", Integer, nullable=False),
    ]


#: What queries read: the live build through the stable view.
BUYERS = table_of(NAME, buyer_columns)


class BuyersProjection(RowPerStream):
    """Buyers with their (opened) personal data; erased for good once forgotten."""

    name: ClassVar[str] = NAME
    handles: ClassVar[EventFilter] = EventFilter.event_types(
        BuyerCreated.event_type,
        BuyerAddressChanged.event_type,
        BuyerDeleted.event_type,
        BuyerForgotten.event_type,
    )

    def __init__(self, keys: KeyStore | None = None) -> None:
        super().__init__(buyer_columns)
        self.personal = PersonalData(keys, NAME)

    def indexes(self, table: Table) -> Mapping[str, Sequence[Column[Any]]]:
        return {"by_created": (table.c.created_at, table.c.buyer_id)}

    def fold(
        self, rows: dict[UUID, dict[str, Any]], buyer_id: UUID, recorded: RecordedEvent
    ) -> None:
        stored = REGISTRY.decode(recorded)
        event = stored.event
        at = occurred_at(stored)
        if isinstance(event, BuyerCreated):
            opened = self.personal.opened(event)
            contact = self.personal.value(opened.contact, forgotten=False)
            rows[buyer_id] = {
                "buyer_id": buyer_id,
                "deleted": False,
                "erased": contact is None,  # the key was gone before we got here
                "created_at": at,
                **_contact(contact),
                **_address(self.personal.value(opened.address, forgotten=contact is None)),
            }
        row = rows.get(buyer_id)
        if row is None:
            raise LookupError(f"{recorded.type} of buyer {buyer_id}, which was never created")
        if isinstance(event, BuyerAddressChanged):
            opened_address = self.personal.opened(event).address
            row.update(_address(self.personal.value(opened_address, forgotten=row["erased"])))
        elif isinstance(event, BuyerDeleted):
            row["deleted"] = True
        elif isinstance(event, BuyerForgotten):
            row.update(erased=True, **dict.fromkeys(PERSONAL, ERASED))
        row["updated_at"] = at
        row["version"] = recorded.revision


def _contact(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return {"name": ERASED, "email": ERASED}
    return {"name": contact.name, "email": contact.email}


def _address(address: Address | None) -> dict[str, str]:
    if address is None:
        return {"street": ERASED, "city": ERASED, "province": ERASED}
    return {"street": address.street, "city": address.city, "province": address.province}
