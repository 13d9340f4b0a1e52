"""Building blocks of every bounded context: aggregates, commands, the repository, reservations,
personal data, the command bus. Contexts live beside this package (`write_side/catalog/`, …)."""

from write_side.domain.aggregate import Aggregate, Handled, applies
from write_side.domain.bus import CommandBus, Handler, Services, UnknownCommand
from write_side.domain.clock import Clock, ManualClock, SystemClock
from write_side.domain.commands import Cause, Command, CommandResult
from write_side.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidValue,
    NotFound,
    StaleVersion,
)
from write_side.domain.personal import (
    ERASED,
    Crypto,
    KeyStore,
    PersonalDataErased,
    PersonalDataNotSealed,
    Sealed,
)
from write_side.domain.process import ProcessManager
from write_side.domain.repository import Repository, snapshot_stream
from write_side.domain.reservations import Reservations, normalize

__all__ = [
    "ERASED",
    "Aggregate",
    "Cause",
    "Clock",
    "Command",
    "CommandBus",
    "CommandResult",
    "ConcurrencyConflict",
    "Crypto",
    "DomainError",
    "Handled",
    "Handler",
    "InvalidValue",
    "KeyStore",
    "ManualClock",
    "NotFound",
    "PersonalDataErased",
    "PersonalDataNotSealed",
    "ProcessManager",
    "Repository",
    "Reservations",
    "Sealed",
    "Services",
    "StaleVersion",
    "SystemClock",
    "UnknownCommand",
    "applies",
    "normalize",
    "snapshot_stream",
]
