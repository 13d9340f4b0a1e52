"""Persistent subscription groups: the port, its value types and errors; adapters in subpackages."""

from write_side.groups.errors import (
    GroupAlreadyExists,
    GroupNotFound,
    MaximumSubscribersReached,
    SubscriptionGroupError,
    SubscriptionGroupsClosed,
)
from write_side.groups.model import (
    ALL_STREAMS,
    CONSUMER_STRATEGIES,
    NACK_ACTIONS,
    ConsumerInfo,
    ConsumerStrategy,
    DeliveredEvent,
    GroupInfo,
    GroupSettings,
    NackAction,
    parked_stream_name,
)
from write_side.groups.port import GroupConsumer, SubscriptionGroups

__all__ = [
    "ALL_STREAMS",
    "CONSUMER_STRATEGIES",
    "NACK_ACTIONS",
    "ConsumerInfo",
    "ConsumerStrategy",
    "DeliveredEvent",
    "GroupAlreadyExists",
    "GroupConsumer",
    "GroupInfo",
    "GroupNotFound",
    "GroupSettings",
    "MaximumSubscribersReached",
    "NackAction",
    "SubscriptionGroupError",
    "SubscriptionGroups",
    "SubscriptionGroupsClosed",
    "parked_stream_name",
]
