"""The subscription groups' own errors; every adapter translates its driver's errors into these."""

from __future__ import annotations


class SubscriptionGroupError(Exception):
    """Base class of every error raised through the subscription-groups port."""


def _describe(group_name: str, stream_name: str | None) -> str:
    return f"group {group_name!r} on {stream_name or '$all'}"


class GroupAlreadyExists(SubscriptionGroupError):
    """A group of that name already exists on that source."""

    def __init__(self, group_name: str, stream_name: str | None = None) -> None:
        self.group_name = group_name
        self.stream_name = stream_name
        super().__init__(f"{_describe(group_name, stream_name)} already exists")


class GroupNotFound(SubscriptionGroupError):
    """No group of that name on that source (never created, or deleted)."""

    def __init__(self, group_name: str, stream_name: str | None = None) -> None:
        self.group_name = group_name
        self.stream_name = stream_name
        super().__init__(f"{_describe(group_name, stream_name)} not found")


class MaximumSubscribersReached(SubscriptionGroupError):
    """The group already has `max_subscriber_count` consumers."""

    def __init__(self, group_name: str, stream_name: str | None, limit: int) -> None:
        self.group_name = group_name
        self.stream_name = stream_name
        self.limit = limit
        super().__init__(f"{_describe(group_name, stream_name)} already has {limit} consumers")


class SubscriptionGroupsClosed(SubscriptionGroupError):
    """The groups (or the store under them) were closed."""
