"""The platform's repository, reservations and command bus over every event store adapter."""

from tests.domain.contexts import bus, repository, reservations, services

__all__ = ["bus", "repository", "reservations", "services"]
