"""Ordering's command handlers: plain functions of the command and the services.

Everything a decision reads besides its own aggregate (the buyer and basket for an order, the
books) is read inside the decision, so a command already handled is answered again without
reading them, and a retry after a concurrent change reads them afresh.
"""

from __future__ import annotations

from write_side.basket import Basket
from write_side.basket.handlers import book_lookup
from write_side.domain import Command, CommandResult, Handler, NotFound, Services
from write_side.envelope import DomainEvent
from write_side.ordering.buyer import Buyer
from write_side.ordering.commands import (
    CancelOrder,
    ChangeBuyerAddress,
    CompleteOrder,
    CreateBuyer,
    DeleteBuyer,
    DeleteOrder,
    ForgetBuyer,
    PlaceOrder,
)
from write_side.ordering.order import Order
from write_side.ordering.personal import Contact
from write_side.ordering.placement import basket_items, buyer_contact, priced_lines

# -- buyers ------------------------------------------------------------------------------------


def create_buyer(command: CreateBuyer, services: Services) -> CommandResult:
    """Make the calling user a buyer."""
    contact = Contact(name=command.name, email=command.email)
    return services.repository.execute(
        Buyer, command.buyer_id, command, lambda buyer: buyer.create(contact, command.address)
    )


def change_buyer_address(command: ChangeBuyerAddress, services: Services) -> CommandResult:
    """Change the buyer's address."""
    return services.repository.execute(
        Buyer, command.buyer_id, command, lambda buyer: buyer.change_address(command.address)
    )


def delete_buyer(command: DeleteBuyer, services: Services) -> CommandResult:
    """Delete a buyer (admin)."""
    return services.repository.execute(
        Buyer, command.buyer_id, command, lambda buyer: buyer.delete()
    )


def forget_buyer(command: ForgetBuyer, services: Services) -> CommandResult:
    """Delete the buyer's key, then record `BuyerForgotten` (admin).

    The key goes first: a crash in between leaves the data erased and the command to be sent
    again, never an event claiming an erasure that did not happen.
    """

    def decide(buyer: Buyer) -> list[DomainEvent]:
        events = buyer.forget()
        services.keys.forget(buyer.id)
        return events

    return services.repository.execute(Buyer, command.buyer_id, command, decide)


# -- orders ------------------------------------------------------------------------------------


def place_order(command: PlaceOrder, services: Services) -> CommandResult:
    """Place an order from the buyer's basket, priced now; the saga then checks it out."""
    repository = services.repository
    lookup = book_lookup(services)

    def decide(order: Order) -> list[DomainEvent]:
        contact = buyer_contact(repository.load(Buyer, command.buyer_id))
        items = basket_items(repository.load(Basket, command.buyer_id))
        books = {book_id: lookup.find(book_id) for book_id in items}
        return order.place(command.buyer_id, contact, priced_lines(items, books))

    return repository.execute(Order, command.order_id, command, decide)


def complete_order(command: CompleteOrder, services: Services) -> CommandResult:
    """Complete a New order (admin)."""
    return services.repository.execute(
        Order, command.order_id, command, lambda order: order.complete()
    )


def cancel_order(command: CancelOrder, services: Services) -> CommandResult:
    """Cancel a New order: an admin's or a process's any order, a user's only its own."""

    def decide(order: Order) -> list[DomainEvent]:
        order.require_exists()
        if command.roles & {"admin", "process"}:
            return order.cancel(command.reason or "cancelled by an admin")
        if "user" in command.roles and command.actor == str(order.buyer_id):
            return order.cancel(command.reason or "cancelled by the buyer")
        # Someone else's order is one the caller cannot see: it reads as not found.
        raise NotFound("order_not_found", f"there is no order {order.id}", field="order_id")

    return services.repository.execute(Order, command.order_id, command, decide)


def delete_order(command: DeleteOrder, services: Services) -> CommandResult:
    """Soft-delete an order (admin, or the saga's compensation)."""
    return services.repository.execute(
        Order, command.order_id, command, lambda order: order.delete(command.reason)
    )


#: Ordering's commands and their handlers, for the command bus.
HANDLERS: dict[type[Command], Handler] = {
    CreateBuyer: create_buyer,
    ChangeBuyerAddress: change_buyer_address,
    DeleteBuyer: delete_buyer,
    ForgetBuyer: forget_buyer,
    PlaceOrder: place_order,
    CompleteOrder: complete_order,
    CancelOrder: cancel_order,
    DeleteOrder: delete_order,
}
