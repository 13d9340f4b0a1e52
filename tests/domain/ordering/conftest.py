"""Ordering tests run on the platform's registry and the real command bus, over every event store
adapter."""

from tests.domain.shop import repository, shop

__all__ = ["repository", "shop"]
