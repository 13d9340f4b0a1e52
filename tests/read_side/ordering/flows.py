"""The order saga and the email sender at work on a `World`: the real process managers fed the
events of `$all` in order (as their groups would), durable timers fired by the test's clock,
emails written by the outbox folder transport."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from tests.domain.shop import HANDLERS as SHOP_HANDLERS
from tests.domain.timers import Deliveries, Timers
from tests.read_side.ordering.world import World
from write_side import finance, notification
from write_side.basket import BasketCheckedOut, BasketCheckoutFailed
from write_side.domain import CommandBus, ProcessManager
from write_side.mailer import OutboxFolderTransport
from write_side.notification import EmailSender

#: The basket's answer never reaches the saga (its group lags, a message is lost).
UNHEARD = frozenset({BasketCheckedOut.event_type, BasketCheckoutFailed.event_type})
HALF_HOUR = timedelta(minutes=30)


@dataclass
class Flows:
    """The saga and the sender of a world, and what they are fed."""

    world: World
    outbox: OutboxFolderTransport
    timers: Timers
    deliveries: Deliveries

    @classmethod
    def on(cls, world: World, outbox: Path) -> Flows:
        """The saga (3 attempts, 30 minutes) and the sender, from the world's head on."""
        services = world.shop.bus.services
        bus = CommandBus(services, {**SHOP_HANDLERS, **notification.HANDLERS})
        transport = OutboxFolderTransport(outbox, clock=world.clock)
        sender = EmailSender(bus, transport, sleep=lambda _: None)
        managers: list[ProcessManager] = [finance.OrderSagaManager(bus), sender]
        timers = Timers.on(world.store, world.target, world.clock)
        return cls(world, transport, timers, Deliveries(world.store, managers, None))

    def order(self, buyer_id: UUID, books: dict[UUID, int]) -> UUID:
        """The buyer fills its basket and places an order (the saga has not heard of it yet)."""
        self.world.shop.fill_basket(buyer_id, books)
        return self.world.shop.order(buyer_id)

    def run(self, *, dropping: Collection[str] = ()) -> None:
        """The saga and the sender hear of everything new (but events of `dropping` types)."""
        self.deliveries.run(dropping=dropping)

    def tick(self, by: timedelta = HALF_HOUR, *, dropping: Collection[str] = ()) -> None:
        """The clock moves on, due timers fire, the saga and the sender hear of it."""
        self.world.clock.advance(by)
        self.timers.fire()
        self.run(dropping=dropping)

    def break_the_outbox(self) -> None:
        """Every write of an email fails from now on (a file where the folder should be)."""
        self.outbox.folder.parent.mkdir(parents=True, exist_ok=True)
        self.outbox.folder.write_text("a file where the folder should be")
