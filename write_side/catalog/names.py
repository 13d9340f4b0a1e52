"""Unique names (categories, publishers): a reservation stream per name, claimed before the
aggregate's event is appended.

A command appends to one stream, so claiming a name and recording it are two appends:

- create: claim the name, append the created event; if the append fails, release the claim
  (unless the aggregate does bear the name: the append landed and only its answer was lost);
- rename: claim the new name, append, then release the old one (not when both normalise
  alike: that is the same claim); on failure as for create;
- delete: append, then release the name.

A crash between the two appends leaves a claim nobody wants; the sweeper releases it after a
while, asking `UniqueNames.still_wanted` whether the owner still bears that name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from write_side.catalog.references import Category, NamedAggregate, Publisher
from write_side.domain import Command, CommandResult, Repository, Services, normalize
from write_side.domain.reservations import ReservationMade, StillWanted
from write_side.envelope import DomainEvent

log = logging.getLogger(__name__)

N = TypeVar("N", bound=NamedAggregate)


@dataclass(frozen=True, slots=True)
class UniqueNames:
    """Names unique (case-insensitive, trimmed) among the aggregates of one kind.

    `kind` names the reservation streams (`categoryname-…`), `rule` the `DomainError` of a
    taken name, raised for the command's `field`.
    """

    kind: str
    rule: str
    field: str = "name"

    def create(
        self,
        services: Services,
        aggregate: type[N],
        id: UUID,
        command: Command,
        name: str,
        decide: Callable[[N], Sequence[DomainEvent]],
    ) -> CommandResult:
        """Claim `name` for the new aggregate `id`, then append what `decide` decides."""
        current = services.repository.load(aggregate, id)
        if command.command_id in current.handled:
            # A repeat must not claim again: the name may have been renamed away meanwhile.
            return services.repository.execute(aggregate, id, command, decide, loaded=current)
        self._reserve(services, aggregate, id, name, command)
        return self._execute_holding(services, current, command, name, decide)

    def rename(
        self,
        services: Services,
        aggregate: type[N],
        id: UUID,
        command: Command,
        name: str,
        decide: Callable[[N], Sequence[DomainEvent]],
    ) -> CommandResult:
        """Claim `name`, append the rename, release the name it replaced."""
        repository = services.repository
        current = repository.load(aggregate, id)
        if command.command_id in current.handled:
            return repository.execute(aggregate, id, command, decide, loaded=current)
        current.require_live()  # a missing or deleted owner is told so, not that a name is taken
        self._reserve(services, aggregate, id, name, command)
        replaced: list[str] = []

        def deciding(named: N) -> Sequence[DomainEvent]:
            replaced.append(named.name)  # decided again after a concurrent change: the last
            return decide(named)

        result = self._execute_holding(services, current, command, name, deciding)
        if result.events and normalize(replaced[-1]) != normalize(name):
            services.reservations.release(
                self.kind, replaced[-1], owner_id=id, command=command, reason="renamed"
            )
        return result

    def release_if_deleted(
        self, services: Services, aggregate: type[N], id: UUID, command: Command
    ) -> None:
        """After a delete (or its retry): free the deleted aggregate's name."""
        current = services.repository.load(aggregate, id)
        if current.deleted:
            services.reservations.release(
                self.kind, current.name, owner_id=id, command=command, reason="deleted"
            )

    def still_wanted(self, repository: Repository, aggregate: type[N]) -> StillWanted:
        """For the sweeper: a claim is wanted while its owner lives and bears that name."""

        def wanted(holder: ReservationMade) -> bool:
            owner = repository.load(aggregate, holder.owner_id)
            return owner.live and normalize(owner.name) == holder.key

        return wanted

    # -- steps ------------------------------------------------------------------------------------

    def _reserve(
        self, services: Services, aggregate: type[N], id: UUID, name: str, command: Command
    ) -> None:
        services.reservations.reserve(
            self.kind,
            name,
            owner_id=id,
            owner_stream=aggregate.stream_for(id),
            command=command,
            rule=self.rule,
            field=self.field,
        )

    def _execute_holding(
        self,
        services: Services,
        loaded: N,
        command: Command,
        name: str,
        decide: Callable[[N], Sequence[DomainEvent]],
    ) -> CommandResult:
        """Append what `decide` decides on `loaded` (the owner as read before the claim)."""
        aggregate, id = type(loaded), loaded.id
        try:
            return services.repository.execute(aggregate, id, command, decide, loaded=loaded)
        except Exception:
            self._release_unless_borne(services, aggregate, id, name, command)
            raise

    def _release_unless_borne(
        self, services: Services, aggregate: type[N], id: UUID, name: str, command: Command
    ) -> None:
        try:
            current = services.repository.load(aggregate, id)
            if current.live and normalize(current.name) == normalize(name):
                return  # the append landed (its answer was lost), or the name was ours before
            services.reservations.release(
                self.kind, name, owner_id=id, command=command, reason="not_taken"
            )
        except Exception:
            # The command's own error is what the caller must see; the sweeper frees the claim.
            log.warning("could not release the %s claim of %s", self.kind, id, exc_info=True)


CATEGORY_NAMES = UniqueNames("categoryname", "category_name_taken")
PUBLISHER_NAMES = UniqueNames("publishername", "publisher_name_taken")


def reservation_checks(repository: Repository) -> dict[str, StillWanted]:
    """The sweeper's `still_wanted` for the catalog's names (`Reservations.sweep`)."""
    return {
        CATEGORY_NAMES.kind: CATEGORY_NAMES.still_wanted(repository, Category),
        PUBLISHER_NAMES.kind: PUBLISHER_NAMES.still_wanted(repository, Publisher),
    }
