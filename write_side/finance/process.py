"""The process manager "order saga": keyed by order id, it records each step on the saga's stream
`ordersaga-{order id}` and then asks the other contexts for what the recorded step implies.

Handling an event has two parts, both safe to repeat:

1. record: the saga's command, with an id derived from the event's id, decides on the saga
   (a redelivered event is answered by the repository with the first result);
2. carry out: for each saga event that command recorded, the commands it implies, each with an
   id derived from that saga event's id and the saga event as its `cause`:

   | saga event                | asks for                                                  |
   |---------------------------|-----------------------------------------------------------|
   | OrderSagaStarted          | the "order received" email                                |
   | BasketCheckoutRequested   | CheckoutBasket with the order's items                     |
   | OrderSagaFailed           | DeleteOrder (the compensation)                            |
   | OrderSagaCompleted        | the "completed and shipped" email                         |
   | OrderSagaCancelled        | the "cancelled" email                                     |

A crash between the two parts is mended by the redelivery, which records nothing new and
carries out again (each command once). When the last timeout elapses, the order is cancelled
(`CancelOrder`, role "process") *before* the saga records its end: an order that moved on
meanwhile (completed by an admin) refuses it, and the saga then waits for that outcome's event
instead of claiming a cancellation that did not happen. Emails are asked for only while the
buyer's name and email are known (they are erased once the buyer is forgotten).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple, TypedDict
from uuid import UUID

from write_side.basket import BasketCheckedOut, BasketCheckoutFailed, BasketLine, CheckoutBasket
from write_side.domain import (
    Cause,
    Command,
    CommandBus,
    CommandResult,
    DomainError,
    Repository,
)
from write_side.envelope import DomainEvent, StoredEvent
from write_side.eventstore import EventFilter, StreamNotFound
from write_side.finance.commands import (
    CancelOrderSaga,
    CompleteOrderSaga,
    ConfirmBasketCheckout,
    ExpireSagaTimeout,
    RejectBasketCheckout,
    StartOrderSaga,
)
from write_side.finance.events import (
    BasketCheckoutRequested,
    OrderSagaCancelled,
    OrderSagaCompleted,
    OrderSagaFailed,
    OrderSagaStarted,
)
from write_side.finance.saga import OrderSaga, SagaSettings
from write_side.ids import derive_id
from write_side.notification import EmailKind, QueueEmail
from write_side.ordering import (
    CancelOrder,
    DeleteOrder,
    Order,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from write_side.scheduler import TimerElapsed

log = logging.getLogger(__name__)

Decide = Callable[[OrderSaga], Sequence[DomainEvent]]


class OrderSagaManager:
    """Runs the order saga from the events of orders, baskets and the saga's own timers."""

    #: Its subscription group's name.
    name: ClassVar[str] = "order_saga"
    #: Who its commands come from.
    actor: ClassVar[str] = f"system:{name}"
    #: The events it reacts to (elapsed timers of other owners are ignored).
    filter: ClassVar[EventFilter] = EventFilter.event_types(
        OrderPlaced.event_type,
        BasketCheckedOut.event_type,
        BasketCheckoutFailed.event_type,
        OrderCompleted.event_type,
        OrderCancelled.event_type,
        TimerElapsed.event_type,
    )

    def __init__(self, bus: CommandBus, settings: SagaSettings | None = None) -> None:
        self.bus = bus
        self.settings = settings or SagaSettings()

    @property
    def _repository(self) -> Repository:
        return self.bus.services.repository

    def handle(self, stored: StoredEvent) -> CommandResult | None:
        """Record the step `stored` is for and carry it out; None for an event that is not the
        saga's business. Raises `SagaNotStarted` for an order event that came before its
        OrderPlaced was handled (so it is delivered again)."""
        step = self._step(stored)
        if step is None:
            return None
        order_id, command, decide = step
        result = self._repository.execute(OrderSaga, order_id, command, decide)
        if result.events or result.replayed:
            self._carry_out(order_id, command.command_id)
        return result

    # -- recording ----------------------------------------------------------------------------

    def _step(self, stored: StoredEvent) -> tuple[UUID, Command, Decide] | None:
        event = stored.event
        common = _Origin(derive_id(stored.id, self.name), self.actor, _cause_of(stored))
        now = self.bus.services.clock.now()
        settings = self.settings
        if isinstance(event, OrderPlaced):
            lines = tuple(BasketLine(book_id=i.book_id, quantity=i.quantity) for i in event.items)
            start = StartOrderSaga(
                order_id=event.order_id, buyer_id=event.buyer_id, items=lines, **common.fields()
            )
            return event.order_id, start, lambda saga: saga.start(start, now, settings)
        if isinstance(event, BasketCheckedOut):
            confirm = ConfirmBasketCheckout(order_id=event.order_id, **common.fields())
            return event.order_id, confirm, lambda saga: saga.confirm_checkout()
        if isinstance(event, BasketCheckoutFailed):
            reject = RejectBasketCheckout(
                order_id=event.order_id, reason=event.reason, **common.fields()
            )
            return event.order_id, reject, lambda saga: saga.reject_checkout(event.reason)
        if isinstance(event, OrderCompleted | OrderCancelled):
            order_id = _id_in(stored.stream, Order.category)
            if isinstance(event, OrderCompleted):
                complete = CompleteOrderSaga(order_id=order_id, **common.fields())
                return order_id, complete, lambda saga: saga.complete()
            cancel = CancelOrderSaga(order_id=order_id, **common.fields())
            return order_id, cancel, lambda saga: saga.cancel()
        if isinstance(event, TimerElapsed) and stored.stream.startswith(f"{OrderSaga.category}-"):
            order_id = _id_in(stored.stream, OrderSaga.category)
            if not self._ready_to_time_out(order_id, event.timer_id, stored):
                return None
            expire = ExpireSagaTimeout(
                order_id=order_id, timer_id=event.timer_id, **common.fields()
            )
            return order_id, expire, lambda saga: saga.time_out(expire, now, settings)
        return None

    def _ready_to_time_out(self, order_id: UUID, timer_id: UUID, stored: StoredEvent) -> bool:
        """Before the last timeout ends the saga, cancel the order; False when the order
        refuses (it was completed, cancelled or deleted meanwhile: its own event decides)."""
        saga = self._repository.load(OrderSaga, order_id)
        if not saga.gives_up_on(timer_id, self.settings):
            return True
        attempts = self.settings.max_attempts
        cancel = CancelOrder(
            order_id=order_id,
            roles=frozenset({"process"}),
            reason=f"the basket did not check out after {attempts} attempts",
            command_id=derive_id(stored.id, self.name, "cancel-order"),
            actor=self.actor,
            cause=_cause_of(stored),
        )
        try:
            self.bus.dispatch(cancel)
        except DomainError as refused:
            log.info("order %s was not cancelled on timeout: %s", order_id, refused)
            return False
        return True

    # -- carrying out -------------------------------------------------------------------------

    def _carry_out(self, order_id: UUID, command_id: UUID) -> None:
        """Send what each saga event recorded by `command_id` asks for."""
        recorded = self._saga_events(order_id)
        started = next((e for _, e in recorded if isinstance(e, OrderSagaStarted)), None)
        if started is None:
            return
        for stored, event in recorded:
            metadata = stored.metadata
            if metadata is None or metadata.command_id != command_id:
                continue
            for command in self._commands_for(stored, event, started):
                try:
                    self.bus.dispatch(command)
                except DomainError as refused:
                    # A refusal is final (retrying changes nothing): noted, not retried.
                    log.warning(
                        "%s for order %s refused: %s", type(command).__name__, order_id, refused
                    )

    def _commands_for(
        self, stored: StoredEvent, event: DomainEvent, started: OrderSagaStarted
    ) -> list[Command]:
        def common(kind: str) -> _Origin:
            return _Origin(derive_id(stored.id, self.name, kind), self.actor, _cause_of(stored))

        order_id = started.order_id
        if isinstance(event, BasketCheckoutRequested):
            return [
                CheckoutBasket(
                    buyer_id=started.buyer_id,
                    order_id=order_id,
                    items=started.items,
                    **common("checkout-basket").fields(),
                )
            ]
        if isinstance(event, OrderSagaFailed):
            reason = f"the basket checkout failed: {event.reason}"
            origin = common("delete-order")
            return [DeleteOrder(order_id=order_id, reason=reason, **origin.fields())]
        kind = _EMAILS.get(type(event))
        if kind is None:
            return []
        email = self._email(order_id, started.buyer_id, kind, common("email"))
        return [] if email is None else [email]

    def _email(
        self, order_id: UUID, buyer_id: UUID, kind: EmailKind, origin: _Origin
    ) -> QueueEmail | None:
        order = self._repository.load(Order, order_id)
        contact = None if order.buyer is None else order.buyer.value
        if contact is None or not contact.name or not contact.email:
            return None  # erased (the buyer was forgotten): nobody to write to
        return QueueEmail(
            email_id=derive_id(origin.command_id, "email"),
            buyer_id=buyer_id,
            to_name=contact.name,
            to_address=contact.email,
            kind=kind,
            order_id=order_id,
            **origin.fields(),
        )

    def _saga_events(self, order_id: UUID) -> list[tuple[StoredEvent, DomainEvent]]:
        repository = self._repository
        try:
            recorded = repository.store.read_stream(OrderSaga.stream_for(order_id))
        except StreamNotFound:
            return []
        events = []
        for raw in recorded:
            stored = repository.registry.decode(raw)
            if isinstance(stored.event, DomainEvent):
                events.append((stored, stored.event))
        return events


class _Origin(NamedTuple):
    """Where a command of the saga comes from: its derived id, the saga's actor, the cause."""

    command_id: UUID
    actor: str
    cause: Cause

    def fields(self) -> _OriginFields:
        return {"command_id": self.command_id, "actor": self.actor, "cause": self.cause}


class _OriginFields(TypedDict):
    command_id: UUID
    actor: str
    cause: Cause


_EMAILS: dict[type[DomainEvent], EmailKind] = {
    OrderSagaStarted: EmailKind.ORDER_RECEIVED,
    OrderSagaCompleted: EmailKind.ORDER_COMPLETED,
    OrderSagaCancelled: EmailKind.ORDER_CANCELLED,
}


def _cause_of(stored: StoredEvent) -> Cause:
    metadata = stored.metadata
    return Cause(
        event_id=stored.id,
        correlation_id=stored.id if metadata is None else metadata.correlation_id,
    )


def _id_in(stream: str, category: str) -> UUID:
    return UUID(stream.removeprefix(f"{category}-"))


__all__ = ["OrderSagaManager"]
