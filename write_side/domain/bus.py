"""The command bus: one mapping from command type to handler, and what handlers may use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from write_side.domain.clock import Clock
from write_side.domain.commands import Command, CommandResult
from write_side.domain.personal import Crypto, KeyStore
from write_side.domain.repository import Repository
from write_side.domain.reservations import Reservations

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a command handler may use; `bootstrap()` builds it.

    `ports` holds the answers the write side needs from read models (declared by the
    contexts, implemented by the read side), by type.
    """

    repository: Repository
    reservations: Reservations
    crypto: Crypto
    clock: Clock
    ports: Mapping[Any, Any]

    @property
    def keys(self) -> KeyStore:
        """The personal-data key store."""
        return self.crypto.keys

    def port(self, kind: Callable[..., P]) -> P:
        """The implementation wired for a port (an abstract class declared by a context).

        Typed as a callable, not `type[P]`: mypy refuses abstract classes there (#4717).
        """
        try:
            found = self.ports[kind]
        except KeyError:
            raise LookupError(f"no implementation of {kind!r} was wired") from None
        if isinstance(kind, type) and not isinstance(found, kind):
            raise TypeError(f"{found!r} wired for {kind.__name__} does not implement it")
        return cast(P, found)


#: A command handler: a plain function of the command and the services.
Handler = Callable[[Any, Services], CommandResult]


class UnknownCommand(LookupError):
    """No handler is registered for the command's type."""


class CommandBus:
    """Sends each command to its one handler."""

    def __init__(self, services: Services, handlers: Mapping[type[Command], Handler]) -> None:
        self.services = services
        self._handlers = dict(handlers)

    def dispatch(self, command: Command) -> CommandResult:
        """Handle `command`; a broken rule raises a `DomainError` and writes nothing."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(f"no handler for {type(command).__name__}")
        return handler(command, self.services)

    @property
    def commands(self) -> list[type[Command]]:
        """Every command type the bus handles."""
        return list(self._handlers)
