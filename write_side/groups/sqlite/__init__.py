"""The embedded subscription-groups adapter: group state in the SQLite event store's own file."""

from write_side.groups.sqlite.groups import SqliteSubscriptionGroups

__all__ = ["SqliteSubscriptionGroups"]
