"""The Ordering bounded context: buyers (stream `buyer-{id}`, personal data sealed per buyer)
and orders (stream `order-{id}`): placement from the basket, status, soft delete."""

from write_side.ordering.buyer import (
    Buyer,
    BuyerAddressChanged,
    BuyerCreated,
    BuyerDeleted,
    BuyerForgotten,
)
from write_side.ordering.commands import (
    CancelOrder,
    ChangeBuyerAddress,
    CompleteOrder,
    CreateBuyer,
    DeleteBuyer,
    DeleteOrder,
    ForgetBuyer,
    PlaceOrder,
    Role,
    order_id_for,
)
from write_side.ordering.handlers import HANDLERS
from write_side.ordering.order import (
    Order,
    OrderCancelled,
    OrderCompleted,
    OrderDeleted,
    OrderLine,
    OrderPlaced,
    OrderStatus,
)
from write_side.ordering.personal import Address, Contact

__all__ = [
    "HANDLERS",
    "Address",
    "Buyer",
    "BuyerAddressChanged",
    "BuyerCreated",
    "BuyerDeleted",
    "BuyerForgotten",
    "CancelOrder",
    "ChangeBuyerAddress",
    "CompleteOrder",
    "Contact",
    "CreateBuyer",
    "DeleteBuyer",
    "DeleteOrder",
    "ForgetBuyer",
    "Order",
    "OrderCancelled",
    "OrderCompleted",
    "OrderDeleted",
    "OrderLine",
    "OrderPlaced",
    "OrderStatus",
    "PlaceOrder",
    "Role",
    "order_id_for",
]
