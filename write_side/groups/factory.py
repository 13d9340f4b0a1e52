"""The subscription groups of an event store, from the adapter that fits it."""

from __future__ import annotations

from write_side.eventstore.port import EventStore
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.groups.errors import SubscriptionGroupError
from write_side.groups.port import SubscriptionGroups
from write_side.groups.sqlite import SqliteSubscriptionGroups


class UnsupportedSubscriptionGroups(SubscriptionGroupError):
    """The event store has no subscription-groups adapter in this build."""


def open_subscription_groups(store: EventStore) -> SubscriptionGroups:
    """The groups of `store` (their state lives with the store's events); close them first.

    On SQLite the groups live in the store's file; on EventStoreDB they are the server's
    persistent subscriptions, reached through the store's client.
    """
    if isinstance(store, SqliteEventStore):
        return SqliteSubscriptionGroups(store)
    from write_side.eventstore.esdb import EsdbEventStore  # grpc loads only when asked

    if isinstance(store, EsdbEventStore):
        from write_side.groups.esdb import EsdbSubscriptionGroups

        return EsdbSubscriptionGroups(store)
    raise UnsupportedSubscriptionGroups(f"no subscription groups for {store!r} in this build")
