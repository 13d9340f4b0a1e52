"""The Basket bounded context: a buyer's basket (stream `basket-{buyer id}`), item-level events,
checkout asked by the order saga."""

from write_side.basket.basket import MAX_BOOKS, Basket, CheckoutFailure
from write_side.basket.commands import (
    AddBasketItem,
    BasketLine,
    CheckoutBasket,
    DeleteBasket,
    UpdateBasket,
)
from write_side.basket.events import (
    BasketCheckedOut,
    BasketCheckoutFailed,
    BasketCreated,
    BasketDeleted,
    BasketItemAdded,
    BasketItemQuantityChanged,
    BasketItemRemoved,
)
from write_side.basket.handlers import HANDLERS

__all__ = [
    "HANDLERS",
    "MAX_BOOKS",
    "AddBasketItem",
    "Basket",
    "BasketCheckedOut",
    "BasketCheckoutFailed",
    "BasketCreated",
    "BasketDeleted",
    "BasketItemAdded",
    "BasketItemQuantityChanged",
    "BasketItemRemoved",
    "BasketLine",
    "CheckoutBasket",
    "CheckoutFailure",
    "DeleteBasket",
    "UpdateBasket",
]
