"""The Buyer aggregate (stream `buyer-{id}`, id = the user's id) and its events.

Name, email and address are personal: events hold them `Sealed` under the buyer's key, so
`ForgetBuyer` (which deletes the key) erases them in every event, snapshot and order at once.
A forgotten buyer takes no further command but deletion (its key can never be made again).
"""

from __future__ import annotations

from uuid import UUID

from write_side.domain import Aggregate, DomainError, NotFound, Sealed, applies
from write_side.envelope import DomainEvent
from write_side.ordering.personal import Address, Contact, check_address, check_contact
from write_side.registry import REGISTRY


@REGISTRY.event("BuyerCreated")
class BuyerCreated(DomainEvent):
    """A user became a buyer, with a name, an email and an address (all personal)."""

    buyer_id: UUID
    contact: Sealed[Contact]
    address: Sealed[Address]


@REGISTRY.event("BuyerAddressChanged")
class BuyerAddressChanged(DomainEvent):
    """The buyer moved."""

    address: Sealed[Address]


@REGISTRY.event("BuyerDeleted")
class BuyerDeleted(DomainEvent):
    """An admin deleted the buyer; its orders stay."""


@REGISTRY.event("BuyerForgotten")
class BuyerForgotten(DomainEvent):
    """The buyer's key was deleted: its personal data reads as erased everywhere from now on.

    Read models, the warehouse, the search index and exports erase their copies when they see it.
    """


class Buyer(Aggregate):
    """A buyer: its sealed contact and address, and whether it was deleted or forgotten."""

    category = "buyer"

    contact: Sealed[Contact] | None = None
    address: Sealed[Address] | None = None
    deleted: bool = False
    forgotten: bool = False

    def require_active(self, *, field: str = "buyer_id") -> None:
        """Raise unless the buyer exists and was neither forgotten nor deleted."""
        if not self.exists:
            raise NotFound("buyer_not_found", f"there is no buyer {self.id}", field=field)
        if self.forgotten:
            raise DomainError("buyer_forgotten", f"buyer {self.id} was forgotten", field=field)
        if self.deleted:
            raise DomainError("buyer_deleted", f"buyer {self.id} is deleted", field=field)

    def create(self, contact: Contact, address: Address) -> list[DomainEvent]:
        """Decide `CreateBuyer`: valid data, and no buyer with this id yet."""
        check_contact(contact)
        check_address(address)
        if self.exists:
            raise DomainError("buyer_exists", f"buyer {self.id} exists already", field="buyer_id")
        return [
            BuyerCreated(
                buyer_id=self.id,
                contact=Sealed.of(self.id, contact),
                address=Sealed.of(self.id, address),
            )
        ]

    def change_address(self, address: Address) -> list[DomainEvent]:
        """Decide `ChangeBuyerAddress`: nothing when the address is the same."""
        self.require_active()
        check_address(address)
        if self.address is not None and self.address.value == address:
            return []
        return [BuyerAddressChanged(address=Sealed.of(self.id, address))]

    def delete(self) -> list[DomainEvent]:
        """Decide `DeleteBuyer`: nothing when the buyer is deleted already."""
        if not self.exists:
            raise NotFound("buyer_not_found", f"there is no buyer {self.id}", field="buyer_id")
        return [] if self.deleted else [BuyerDeleted()]

    def forget(self) -> list[DomainEvent]:
        """Decide `ForgetBuyer` (whose handler deletes the key): nothing when done already."""
        if not self.exists:
            raise NotFound("buyer_not_found", f"there is no buyer {self.id}", field="buyer_id")
        return [] if self.forgotten else [BuyerForgotten()]

    @applies(BuyerCreated)
    def _created(self, event: BuyerCreated) -> None:
        self.contact = event.contact
        self.address = event.address

    @applies(BuyerAddressChanged)
    def _address_changed(self, event: BuyerAddressChanged) -> None:
        self.address = event.address

    @applies(BuyerDeleted)
    def _deleted(self, event: BuyerDeleted) -> None:
        self.deleted = True

    @applies(BuyerForgotten)
    def _forgotten(self, event: BuyerForgotten) -> None:
        self.forgotten = True


__all__ = ["Buyer", "BuyerAddressChanged", "BuyerCreated", "BuyerDeleted", "BuyerForgotten"]
