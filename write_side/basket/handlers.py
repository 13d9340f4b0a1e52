"""The basket's command handlers: plain functions of the command and the services.

Books are looked up through the catalog's `BookLookup` port inside the decision, so a command
already handled is answered again without asking the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from write_side.basket.basket import Basket
from write_side.basket.commands import AddBasketItem, CheckoutBasket, DeleteBasket, UpdateBasket
from write_side.catalog.lookup import BookInfo, BookLookup
from write_side.domain import Command, CommandResult, Handler, Services
from write_side.envelope import DomainEvent


def update_basket(command: UpdateBasket, services: Services) -> CommandResult:
    """Replace the basket's item list; opens a basket when none is open."""
    lookup = book_lookup(services)

    def decide(basket: Basket) -> list[DomainEvent]:
        wanted = basket.wanted(command.items)
        return basket.replace(wanted, _find_books(lookup, wanted))

    return services.repository.execute(
        Basket,
        command.buyer_id,
        command,
        decide,
        expected_version=command.expected_version,
    )


def add_basket_item(command: AddBasketItem, services: Services) -> CommandResult:
    """Put copies of one book in the basket, on the basket as it is when the command lands."""
    lookup = book_lookup(services)

    def decide(basket: Basket) -> list[DomainEvent]:
        return basket.add(command.book_id, command.quantity, lookup.find(command.book_id))

    return services.repository.execute(Basket, command.buyer_id, command, decide)


def checkout_basket(command: CheckoutBasket, services: Services) -> CommandResult:
    """Check the basket out as an order, or record why it cannot be (never a domain error)."""
    return services.repository.execute(
        Basket,
        command.buyer_id,
        command,
        lambda basket: basket.checkout(command.order_id, command.items),
    )


def delete_basket(command: DeleteBasket, services: Services) -> CommandResult:
    """Throw the open basket away."""
    return services.repository.execute(
        Basket, command.buyer_id, command, lambda basket: basket.delete(command.reason)
    )


def book_lookup(services: Services) -> BookLookup:
    """The catalog's book lookup wired into the services."""
    return services.port(BookLookup)


def _find_books(lookup: BookLookup, book_ids: Iterable[UUID]) -> dict[UUID, BookInfo | None]:
    return {book_id: lookup.find(book_id) for book_id in book_ids}


#: The basket's commands and their handlers, for the command bus.
HANDLERS: dict[type[Command], Handler] = {
    UpdateBasket: update_basket,
    AddBasketItem: add_basket_item,
    CheckoutBasket: checkout_basket,
    DeleteBasket: delete_basket,
}
