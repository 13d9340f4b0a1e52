"""The subscription-groups port on EventStoreDB's persistent subscriptions (esdbclient 1.1.7)."""

from write_side.groups.esdb.groups import EsdbSubscriptionGroups

__all__ = ["EsdbSubscriptionGroups"]
