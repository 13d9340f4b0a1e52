"""Realistic BookWorm traffic for benchmarks: a seeded simulation of the bookstore, as appends.

    from benchmarks.events import BookstoreTraffic, cached_store
    path = cached_store(1_000_000).path      # a SqliteEventStore file, generated once, reused
    for append in BookstoreTraffic(seed=7):  # or an endless stream of appends to write yourself
        store.append(append.stream, append.events, expected_version=append.expected_version)

The simulation follows DOMAIN.md: a catalog set up first (categories, publishers, authors,
books), then steady traffic: buyers fill baskets, place orders (each starting an order saga that
checks the basket out and queues emails), orders complete or are cancelled, readers post
feedback, admins reprice books. Every aggregate is its own stream (`book-…`, `basket-…`,
`order-…`, `ordersaga-…`, `email-…`, …) with gap-free revisions, and each append carries the
expected version a command handler would state. Data is JSON of about 300 bytes (money as
2-place strings, ids as UUIDv7 from the simulated business clock, personal data "encrypted"
as the crypto-shredding scheme would store it); metadata is the envelope's `EventMetadata`
JSON (correlation, causation, command id, actor, `occurred_at`).

The same seed always gives the same events, and the first N events of a longer run are the
same events as a run of N, so a store of 50,000 is the head of the store of 1,000,000.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import random
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from benchmarks._harness import SCRATCH_DIR
from write_side.eventstore import ExpectedVersion, NewEvent, StreamState
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.transaction import WriteTx

SEED = 20_251_126
#: Bump when the simulation changes, so cached stores of the old traffic are not reused.
GENERATOR_VERSION = 1
#: Where generated stores are kept between runs (benchmarks/.tmp is git-ignored).
CACHE_DIR = SCRATCH_DIR / "stores"
#: The business clock starts here; by default the simulation advances ~8 s per command.
START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
#: Events per commit when filling a store.
COMMIT_EVENTS = 400

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CENTS = 100


@dataclass(frozen=True, slots=True)
class Append:
    """One command's write: events for one stream, at the version the command expects."""

    stream: str
    expected_version: ExpectedVersion
    events: tuple[NewEvent, ...]


# --- the catalog of words ----------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJECTIVES = _words(
    "Silent Hidden Last Crimson Broken Golden Endless Quiet Lost Burning Secret Winter "
    "Distant Paper Glass Wild Northern Forgotten Little Midnight Iron Bright Hollow "
    "Restless"
)
_NOUNS = _words(
    "River Garden Kingdom Library Harbor Mountain Orchard Lighthouse Empire Archive "
    "Voyage Machine Forest Letter Island Mirror Compass Season Cathedral Frontier Tide "
    "Atlas Song"
)
_FIRST = _words(
    "Ada Alan Grace Linus Margaret Ken Barbara Donald Edsger Frances Guido Katherine John "
    "Radia Tim Hedy Dennis Niklaus Leslie Shafi Sophie Yukihiro Anders Bjarne Jean Mary"
)
_LAST = _words(
    "Lovelace Turing Hopper Torvalds Hamilton Thompson Liskov Knuth Dijkstra Allen Rossum "
    "Johnson McCarthy Perlman Berners-Lee Lamarr Ritchie Wirth Lamport Goldwasser Wilson "
    "Matsumoto Hejlsberg Stroustrup Sammet Keller"
)
_CITIES = (
    ("Seattle", "WA"),
    ("Portland", "OR"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
    ("Toronto", "ON"),
    ("Vancouver", "BC"),
)
_CATEGORIES = _words(
    "Fiction Mystery Science-Fiction Fantasy History Biography Poetry Travel Cooking "
    "Science Children Business"
)
_PUBLISHER_WORDS = _words("Harbor Lantern Meridian Quill Atlas Beacon Summit Oakleaf Riverbend")
_COMMENTS = (
    "Could not put it down; the second half is even better than the first.",
    "Beautifully written, though the middle chapters drag a little.",
    "A gift for my sister, who loved it. Arrived quickly and well packed.",
    "Not what I expected from the cover, but I am glad I gave it a chance.",
    "The characters stayed with me for weeks. Highly recommended.",
    "Too long for what it has to say, and the ending felt rushed.",
    "Clear, practical and full of examples I could use the next day.",
)
_CANCEL_REASONS = ("changed my mind", "ordered by mistake", "found it cheaper", "too slow")
_SEND_ERRORS = ("421 service not available", "timeout after 30s", "450 mailbox busy")
_EMAIL_SUBJECTS = {
    "order_received": "BookWorm: we received your order",
    "order_completed": "BookWorm: your order is completed and shipped",
    "order_cancelled": "BookWorm: your order was cancelled",
}


# --- the simulation ------------------------------------------------------------------------


@dataclass(slots=True)
class _Book:
    id: str
    name: str
    price: int  # cents
    discount: int | None
    in_stock: bool = True

    @property
    def unit_price(self) -> int:
        return self.discount if self.discount is not None else self.price


@dataclass(slots=True)
class _Buyer:
    id: str
    basket: dict[str, int] = field(default_factory=dict)  # book id -> quantity
    basket_open: bool = False


@dataclass(slots=True)
class _Order:
    id: str
    buyer: _Buyer
    total: int


@dataclass(slots=True)
class _Flow:
    """One correlation: a command and the events that follow from it."""

    correlation: str
    causation: str | None
    command: str | None
    actor: str


def _money(cents: int) -> str:
    return f"{cents // _CENTS}.{cents % _CENTS:02d}"


def _iso(epoch_us: int) -> str:
    """A UTC time as the envelope writes it: ISO 8601 ending in "Z"."""
    return (_EPOCH + timedelta(microseconds=epoch_us)).isoformat(timespec="microseconds")[:-6] + "Z"


def _format_uuid(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class BookstoreTraffic:
    """An endless, seeded stream of the bookstore's appends (iterate it once)."""

    def __init__(
        self, seed: int = SEED, *, start: datetime = START, mean_gap_s: float = 8.0
    ) -> None:
        self._rng = random.Random(seed)
        self._now_us = int(start.timestamp() * 1_000_000)
        self._mean_gap_us = mean_gap_s * 1_000_000
        self._revisions: dict[str, int] = {}
        self._categories: list[str] = []
        self._publishers: list[str] = []
        self._authors: list[tuple[str, str]] = []
        self._books: list[_Book] = []
        self._books_by_id: dict[str, _Book] = {}
        self._buyers: list[_Buyer] = []
        self._orders: deque[_Order] = deque()
        self._feedbacks: list[tuple[str, str, int]] = []

    @property
    def now(self) -> float:
        """The business clock, in seconds since the epoch (a store clock during a fill)."""
        return self._now_us / 1_000_000

    # -- ids, time and encoding -------------------------------------------------------------

    def _uuid7_int(self) -> int:
        # RFC 9562 layout: 48-bit ms timestamp, version 7, 12 random bits, variant, 62 random.
        rand = self._rng.getrandbits(74)
        return (
            ((self._now_us // 1000) << 80)
            | (0x7 << 76)
            | ((rand >> 62) << 64)
            | (0b10 << 62)
            | (rand & ((1 << 62) - 1))
        )

    def _id(self) -> str:
        return _format_uuid(self._uuid7_int())

    def _occurred_at(self) -> str:
        return _iso(self._now_us)

    def _encrypted(self, plain_length: int) -> str:
        # What a personal field looks like once encrypted with its person's key (AES-GCM:
        # 12-byte nonce + ciphertext + 16-byte tag), so sizes and entropy are realistic.
        return "enc:v1:" + base64.b64encode(self._rng.randbytes(plain_length + 28)).decode()

    def _tick(self) -> None:
        self._now_us += int(self._rng.expovariate(1.0) * self._mean_gap_us) + 1

    def _append(self, flow: _Flow, stream: str, *events: tuple[str, dict[str, Any]]) -> Append:
        last = self._revisions.get(stream, -1)
        self._revisions[stream] = last + len(events)
        expected: ExpectedVersion = StreamState.NO_STREAM if last < 0 else last
        at = self._occurred_at()
        built = []
        for event_type, data in events:
            event_id = self._uuid7_int()
            causation = flow.causation
            metadata: dict[str, Any] = {
                "correlation_id": flow.correlation,
                "causation_id": causation,
                "command_id": flow.command,
                "actor": flow.actor,
                "occurred_at": at,
                "schema_version": 1,
                "$correlationId": flow.correlation,
            }
            if causation is not None:
                metadata["$causationId"] = causation
            built.append(
                NewEvent(
                    type=event_type,
                    data=orjson.dumps(data),
                    metadata=orjson.dumps(metadata),
                    id=uuid.UUID(int=event_id),
                )
            )
            flow.causation = _format_uuid(event_id)
        return Append(stream, expected, tuple(built))

    def _command(self, actor: str) -> _Flow:
        command = self._id()
        return _Flow(correlation=command, causation=command, command=command, actor=actor)

    # -- the traffic ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Append]:
        yield from self._set_up_catalog()
        actions: list[tuple[float, Callable[[], list[Append]]]] = [
            (30.0, self._add_to_basket),
            (8.0, self._change_quantity),
            (5.0, self._remove_from_basket),
            (9.0, self._place_order),
            (7.0, self._complete_order),
            (1.0, self._cancel_order),
            (12.0, self._post_feedback),
            (0.4, self._delete_feedback),
            (2.5, self._register_buyer),
            (3.0, self._change_price),
            (0.6, self._set_stock),
            (0.5, self._update_details),
            (0.5, self._publish_book),
            (0.15, self._create_author),
            (0.05, self._rename_author),
        ]
        chosen = [action for _, action in actions]
        cum_weights: list[float] = []
        total = 0.0
        for weight, _ in actions:
            total += weight
            cum_weights.append(total)
        choose = self._rng.choices
        while True:
            self._tick()
            yield from choose(chosen, cum_weights=cum_weights)[0]()

    def _set_up_catalog(self) -> Iterator[Append]:
        admin = self._command("admin")
        for name in _CATEGORIES:
            category = self._id()
            self._categories.append(category)
            yield self._append(
                admin,
                f"category-{category}",
                ("CategoryCreated", {"category_id": category, "name": name}),
            )
        for word in _PUBLISHER_WORDS:
            publisher = self._id()
            self._publishers.append(publisher)
            yield self._append(
                admin,
                f"publisher-{publisher}",
                ("PublisherCreated", {"publisher_id": publisher, "name": f"{word} Press"}),
            )
        for _ in range(150):
            self._tick()
            yield from self._create_author()
        for _ in range(400):
            self._tick()
            yield from self._publish_book()
        for _ in range(200):
            self._tick()
            yield from self._register_buyer()

    def _person(self) -> str:
        return f"{self._rng.choice(_FIRST)} {self._rng.choice(_LAST)}"

    def _title(self) -> str:
        rng = self._rng
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} of {rng.choice(_NOUNS)}s"

    def _create_author(self) -> list[Append]:
        author, name = self._id(), self._person()
        self._authors.append((author, name))
        bio = f"{name} writes about {self._rng.choice(_NOUNS).lower()}s and lives in "
        bio += f"{self._rng.choice(_CITIES)[0]}. {self._rng.choice(_COMMENTS)}"
        return [
            self._append(
                self._command("admin"),
                f"author-{author}",
                ("AuthorCreated", {"author_id": author, "name": name, "bio": bio}),
            )
        ]

    def _rename_author(self) -> list[Append]:
        index = self._rng.randrange(len(self._authors))
        author, old = self._authors[index]
        new = self._person()
        self._authors[index] = (author, new)
        return [
            self._append(
                self._command("admin"),
                f"author-{author}",
                ("AuthorRenamed", {"author_id": author, "old_name": old, "new_name": new}),
            )
        ]

    def _publish_book(self) -> list[Append]:
        rng = self._rng
        price = rng.randrange(499, 6999)
        discount = price - rng.randrange(100, price // 3) if rng.random() < 0.3 else None
        book = _Book(self._id(), self._title(), price, discount)
        self._books.append(book)
        self._books_by_id[book.id] = book
        authors = [a for a, _ in rng.sample(self._authors, rng.choice((1, 1, 1, 2, 3)))]
        description = f"{rng.choice(_COMMENTS)} {rng.choice(_COMMENTS)}"
        data = {
            "book_id": book.id,
            "name": book.name,
            "description": description,
            "image": f"books/{book.id}.webp",
            "price": _money(price),
            "discount_price": None if discount is None else _money(discount),
            "status": "InStock",
            "category_id": rng.choice(self._categories),
            "publisher_id": rng.choice(self._publishers),
            "author_ids": authors,
        }
        return [self._append(self._command("admin"), f"book-{book.id}", ("BookCreated", data))]

    def _change_price(self) -> list[Append]:
        rng = self._rng
        book = rng.choice(self._books)
        old_price, old_discount = book.price, book.discount
        book.price = max(199, old_price + rng.randrange(-500, 600, 50))
        book.discount = (
            book.price - rng.randrange(50, max(51, book.price // 3))
            if rng.random() < 0.35
            else None
        )
        data = {
            "book_id": book.id,
            "old_price": _money(old_price),
            "new_price": _money(book.price),
            "old_discount_price": None if old_discount is None else _money(old_discount),
            "new_discount_price": None if book.discount is None else _money(book.discount),
            "currency": "USD",
            "reason": rng.choice(("promotion", "supplier price", "end of promotion", "review")),
        }
        return [self._append(self._command("admin"), f"book-{book.id}", ("BookPriceChanged", data))]

    def _set_stock(self) -> list[Append]:
        book = self._rng.choice(self._books)
        old = "InStock" if book.in_stock else "OutOfStock"
        book.in_stock = not book.in_stock
        new = "InStock" if book.in_stock else "OutOfStock"
        data = {"book_id": book.id, "old_status": old, "new_status": new, "changed_by": "admin"}
        return [
            self._append(
                self._command("admin"), f"book-{book.id}", ("BookStockStatusChanged", data)
            )
        ]

    def _update_details(self) -> list[Append]:
        rng = self._rng
        book = rng.choice(self._books)
        book.name = self._title()
        data = {
            "book_id": book.id,
            "name": book.name,
            "description": f"{rng.choice(_COMMENTS)} {rng.choice(_COMMENTS)}",
            "image": f"books/{book.id}-{rng.randrange(2, 9)}.webp",
        }
        return [
            self._append(self._command("admin"), f"book-{book.id}", ("BookDetailsUpdated", data))
        ]

    def _register_buyer(self) -> list[Append]:
        rng = self._rng
        buyer = _Buyer(self._id())
        self._buyers.append(buyer)
        city, province = rng.choice(_CITIES)
        data = {
            "buyer_id": buyer.id,
            "name": self._encrypted(13),
            "email": self._encrypted(24),
            "address": {
                "street": self._encrypted(18),
                "city": city,
                "province": province,
            },
        }
        return [
            self._append(
                self._command(f"user:{buyer.id}"), f"buyer-{buyer.id}", ("BuyerCreated", data)
            )
        ]

    def _shopper(self) -> _Buyer:
        # A few buyers shop a lot: recent sign-ups and a skewed choice over everyone.
        buyers = self._buyers
        return buyers[int(len(buyers) * (1.0 - self._rng.random() ** 1.6)) - 1]

    def _add_to_basket(self) -> list[Append]:
        rng = self._rng
        buyer = self._shopper()
        book = self._books[int(len(self._books) * rng.random() ** 2)]  # a few best sellers
        quantity = rng.choice((1, 1, 1, 1, 2, 2, 3))
        flow = self._command(f"user:{buyer.id}")
        item = (
            "BasketItemAdded",
            {
                "basket_id": buyer.id,
                "book_id": book.id,
                "book_name": book.name,
                "quantity": quantity,
                "unit_price": _money(book.unit_price),
                "list_price": _money(book.price),
                "currency": "USD",
                "session_id": self._id(),
                "source": rng.choice(("search", "book_detail", "recommendation", "chat")),
            },
        )
        stream = f"basket-{buyer.id}"
        if not buyer.basket_open:
            buyer.basket_open = True
            created = (
                "BasketCreated",
                {
                    "basket_id": buyer.id,
                    "buyer_id": buyer.id,
                    "session_id": self._id(),
                    "channel": rng.choice(("web", "web", "mobile", "chat")),
                    "currency": "USD",
                },
            )
            buyer.basket[book.id] = quantity
            return [self._append(flow, stream, created, item)]
        if book.id in buyer.basket:
            return self._change_quantity(buyer, book.id)
        buyer.basket[book.id] = quantity
        return [self._append(flow, stream, item)]

    def _basket_holder(self) -> _Buyer | None:
        for _ in range(4):
            buyer = self._shopper()
            if buyer.basket:
                return buyer
        return None

    def _change_quantity(
        self, buyer: _Buyer | None = None, book: str | None = None
    ) -> list[Append]:
        buyer = buyer or self._basket_holder()
        if buyer is None:
            return []
        book = book or self._rng.choice(list(buyer.basket))
        old = buyer.basket[book]
        new = max(1, old + self._rng.choice((-1, 1, 1, 2)))
        if new == old:
            new = old + 1
        buyer.basket[book] = new
        data = {
            "basket_id": buyer.id,
            "book_id": book,
            "book_name": self._books_by_id[book].name,
            "old_quantity": old,
            "new_quantity": new,
            "session_id": self._id(),
        }
        return [
            self._append(
                self._command(f"user:{buyer.id}"),
                f"basket-{buyer.id}",
                ("BasketItemQuantityChanged", data),
            )
        ]

    def _remove_from_basket(self) -> list[Append]:
        buyer = self._basket_holder()
        if buyer is None or len(buyer.basket) < 2:  # a basket holds at least one item
            return []
        book = self._rng.choice(list(buyer.basket))
        quantity = buyer.basket.pop(book)
        data = {
            "basket_id": buyer.id,
            "book_id": book,
            "quantity": quantity,
            "session_id": self._id(),
        }
        return [
            self._append(
                self._command(f"user:{buyer.id}"), f"basket-{buyer.id}", ("BasketItemRemoved", data)
            )
        ]

    def _place_order(self) -> list[Append]:
        buyer = self._basket_holder()
        if buyer is None:
            return []
        items = []
        total = 0
        for book_id, quantity in buyer.basket.items():
            book = self._books_by_id[book_id]
            total += quantity * book.unit_price
            items.append(
                {
                    "book_id": book_id,
                    "book_name": book.name,
                    "quantity": quantity,
                    "unit_price": _money(book.unit_price),
                }
            )
        order = _Order(self._id(), buyer, total)
        flow = self._command(f"user:{buyer.id}")
        placed = {
            "order_id": order.id,
            "buyer_id": buyer.id,
            "buyer_name": self._encrypted(13),
            "buyer_email": self._encrypted(24),
            "items": items,
            "total": _money(total),
            "currency": "USD",
        }
        appends = [self._append(flow, f"order-{order.id}", ("OrderPlaced", placed))]
        # The order saga reacts: a process manager, with no command of its own.
        saga = _Flow(flow.correlation, flow.causation, None, "ordersaga")
        timer = self._id()
        saga_stream = f"ordersaga-{order.id}"
        self._tick_small()
        due = _iso(self._now_us + 1_800_000_000)  # the saga's 30-minute timeout
        appends.append(
            self._append(
                saga,
                saga_stream,
                (
                    "OrderSagaStarted",
                    {
                        "order_id": order.id,
                        "buyer_id": buyer.id,
                        "basket_id": buyer.id,
                        "total": placed["total"],
                        "items": len(items),
                        "state": "Placed",
                        "max_attempts": 3,
                        "timeout_minutes": 30,
                    },
                ),
                (
                    "BasketCheckoutRequested",
                    {
                        "order_id": order.id,
                        "basket_id": buyer.id,
                        "buyer_id": buyer.id,
                        "attempt": 1,
                        "book_ids": [item["book_id"] for item in items],
                    },
                ),
                (
                    "SagaTimeoutScheduled",
                    {
                        "timer_id": timer,
                        "order_id": order.id,
                        "owner_stream": saga_stream,
                        "kind": "checkout_timeout",
                        "due_at": due,
                        "attempt": 1,
                    },
                ),
            )
        )
        self._tick_small()
        checkout = {
            "basket_id": buyer.id,
            "order_id": order.id,
            "buyer_id": buyer.id,
            "items": [{"book_id": i["book_id"], "quantity": i["quantity"]} for i in items],
            "total": placed["total"],
        }
        appends.append(self._append(saga, f"basket-{buyer.id}", ("BasketCheckedOut", checkout)))
        buyer.basket = {}
        buyer.basket_open = False
        self._tick_small()
        appends.append(
            self._append(
                saga,
                saga_stream,
                (
                    "BasketCheckoutConfirmed",
                    {
                        "order_id": order.id,
                        "basket_id": buyer.id,
                        "buyer_id": buyer.id,
                        "items": len(items),
                        "total": placed["total"],
                        "state": "Placed",
                    },
                ),
                (
                    "SagaTimeoutCancelled",
                    {
                        "timer_id": timer,
                        "order_id": order.id,
                        "owner_stream": saga_stream,
                        "reason": "basket checked out",
                    },
                ),
            )
        )
        appends.extend(self._email(saga, order, "order_received"))
        self._orders.append(order)
        return appends

    def _tick_small(self) -> None:
        self._now_us += self._rng.randrange(2_000, 400_000)

    def _email(self, cause: _Flow, order: _Order, kind: str) -> list[Append]:
        rng = self._rng
        email = self._id()
        flow = _Flow(cause.correlation, cause.causation, None, "notification")
        stream = f"email-{email}"
        queued = {
            "email_id": email,
            "order_id": order.id,
            "kind": kind,
            "to_name": self._encrypted(13),
            "to_address": self._encrypted(24),
            "subject": _EMAIL_SUBJECTS[kind],
        }
        appends = [self._append(flow, stream, ("EmailQueued", queued))]
        attempt = 1
        while rng.random() < 0.03 and attempt < 3:
            self._tick_small()
            failed = {
                "email_id": email,
                "attempt": attempt,
                "error": rng.choice(_SEND_ERRORS),
                "retry_in_s": 2**attempt,
            }
            appends.append(self._append(flow, stream, ("EmailSendFailed", failed)))
            attempt += 1
        self._tick_small()
        sent = {
            "email_id": email,
            "order_id": order.id,
            "sent_at": self._occurred_at(),
            "transport_id": f"<{self._id()}@mail.bookworm.example>",
            "transport": "smtp",
            "kind": kind,
            "attempt": attempt,
        }
        appends.append(self._append(flow, stream, ("EmailSent", sent)))
        return appends

    def _complete_order(self) -> list[Append]:
        if not self._orders:
            return []
        order = self._orders.popleft()
        flow = self._command("admin")
        done = {
            "order_id": order.id,
            "buyer_id": order.buyer.id,
            "total": _money(order.total),
            "currency": "USD",
            "completed_by": "admin",
            "carrier": self._rng.choice(("UPS", "USPS", "FedEx", "Canada Post")),
            "tracking_id": f"1Z{self._rng.getrandbits(64):016X}",
        }
        appends = [self._append(flow, f"order-{order.id}", ("OrderCompleted", done))]
        saga = _Flow(flow.correlation, flow.causation, None, "ordersaga")
        self._tick_small()
        appends.append(
            self._append(
                saga,
                f"ordersaga-{order.id}",
                (
                    "OrderSagaCompleted",
                    {
                        "order_id": order.id,
                        "buyer_id": order.buyer.id,
                        "total": _money(order.total),
                        "previous_state": "Placed",
                        "state": "Completed",
                    },
                ),
            )
        )
        appends.extend(self._email(saga, order, "order_completed"))
        return appends

    def _cancel_order(self) -> list[Append]:
        if not self._orders:
            return []
        order = self._orders.pop()  # the newest: cancelled soon after placing
        flow = self._command(f"user:{order.buyer.id}")
        reason = self._rng.choice(_CANCEL_REASONS)
        cancelled = {"order_id": order.id, "buyer_id": order.buyer.id, "reason": reason}
        appends = [self._append(flow, f"order-{order.id}", ("OrderCancelled", cancelled))]
        saga = _Flow(flow.correlation, flow.causation, None, "ordersaga")
        self._tick_small()
        appends.append(
            self._append(
                saga,
                f"ordersaga-{order.id}",
                ("OrderSagaCancelled", {"order_id": order.id, "reason": reason}),
            )
        )
        appends.extend(self._email(saga, order, "order_cancelled"))
        return appends

    def _post_feedback(self) -> list[Append]:
        rng = self._rng
        book = self._books[int(len(self._books) * rng.random() ** 2)]
        feedback = self._id()
        rating = rng.choices((0, 1, 2, 3, 4, 5), weights=(1, 2, 4, 10, 18, 15))[0]
        self._feedbacks.append((feedback, book.id, rating))
        data = {
            "feedback_id": feedback,
            "book_id": book.id,
            "first_name": self._encrypted(6),
            "last_name": self._encrypted(8),
            "comment": rng.choice(_COMMENTS),
            "rating": rating,
        }
        return [
            self._append(
                self._command("anonymous"), f"feedback-{feedback}", ("FeedbackCreated", data)
            )
        ]

    def _delete_feedback(self) -> list[Append]:
        if not self._feedbacks:
            return []
        index = self._rng.randrange(len(self._feedbacks))
        feedback, book, rating = self._feedbacks[index]
        self._feedbacks[index] = self._feedbacks[-1]
        self._feedbacks.pop()
        data = {"feedback_id": feedback, "book_id": book, "rating": rating, "deleted_by": "admin"}
        return [
            self._append(self._command("admin"), f"feedback-{feedback}", ("FeedbackDeleted", data))
        ]


# --- writing it ----------------------------------------------------------------------------


def take(appends: Iterable[Append], count: int, *, whole: bool = False) -> Iterator[Append]:
    """The first `count` events of `appends`, taking nothing more from the iterator.

    The append that crosses the count is cut short, or with `whole` kept entire (more than
    `count` events then), so that the same iterator can go on appending to a store.
    """
    left = count
    if left <= 0:
        return
    for append in appends:
        if len(append.events) > left and not whole:
            append = Append(append.stream, append.expected_version, append.events[:left])
        left -= len(append.events)
        yield append
        if left <= 0:
            return


def commit_group(store: SqliteEventStore, group: Sequence[Append]) -> None:
    """Write several appends (to many streams) in one transaction of the store.

    The port appends to one stream at a time; a realistic store has streams of a few events,
    so one public append per command would make filling a million events take minutes. This
    hands the whole group to the store's own group committer (what concurrent appends share),
    so every expected-version check still runs in `WriteTx`; without that internal it falls
    back to one public append per command.
    """
    committer = getattr(store, "_committer", None)
    if committer is None:
        for append in group:
            store.append(append.stream, append.events, expected_version=append.expected_version)
        return

    def work(tx: WriteTx) -> None:
        for append in group:
            tx.append(append.stream, append.events, append.expected_version)

    committer.run(work, streams=tuple(dict.fromkeys(a.stream for a in group)))


def write_appends(
    store: SqliteEventStore, appends: Iterable[Append], *, commit_events: int = COMMIT_EVENTS
) -> int:
    """Write `appends` in commits of about `commit_events` events; the number of events."""
    group: list[Append] = []
    pending = written = 0
    for append in appends:
        group.append(append)
        pending += len(append.events)
        if pending >= commit_events:
            commit_group(store, group)
            written += pending
            group, pending = [], 0
    if group:
        commit_group(store, group)
        written += pending
    return written


@dataclass(frozen=True, slots=True)
class CachedStore:
    """A generated store file and what it took to make it."""

    path: Path
    events: int
    seed: int
    generated_in_s: float
    """Seconds the generation took (when it ran, possibly in an earlier run)."""
    reused: bool
    """True when this run found the file already generated."""
    stats: dict[str, float]
    """What the file holds: streams, event types, mean data and metadata bytes, file MB."""


def cached_store(count: int, seed: int = SEED) -> CachedStore:
    """A SqliteEventStore file of `count` events of `BookstoreTraffic(seed)`, generated once.

    Kept under benchmarks/.tmp/stores keyed by (count, seed, generator version); a file is
    renamed into place only when complete, so an interrupted run leaves nothing to reuse.
    Treat it as read-only: later runs and other benchmarks open the same file.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"bookworm-v{GENERATOR_VERSION}-{count}-{seed}"
    path, info = CACHE_DIR / f"{stem}.db", CACHE_DIR / f"{stem}.json"
    if path.exists() and info.exists():
        found = json.loads(info.read_text())
        return CachedStore(
            path, count, seed, float(found["generated_in_s"]), reused=True, stats=found["stats"]
        )
    partial = CACHE_DIR / f"{stem}.{os.getpid()}.partial"
    started = time.perf_counter()
    traffic = BookstoreTraffic(seed)
    # Recorded times follow the business clock, so the history looks as if it was written live.
    store = SqliteEventStore(partial, synchronous="OFF", clock=lambda: traffic.now)
    # The simulation makes no reference cycles; the collector would only rescan its state.
    collecting = gc.isenabled()
    gc.disable()
    try:
        written = write_appends(store, take(traffic, count))
    finally:
        store.close()
        if collecting:
            gc.enable()
    if written != count:
        raise RuntimeError(f"generated {written} events, expected {count}")
    elapsed = time.perf_counter() - started
    stats = _store_stats(partial)
    partial.replace(path)
    document = {"events": count, "seed": seed, "generated_in_s": elapsed, "stats": stats}
    info.write_text(json.dumps(document) + "\n")
    return CachedStore(path, count, seed, elapsed, reused=False, stats=stats)


def _store_stats(path: Path) -> dict[str, float]:
    conn = sqlite3.connect(path)
    try:
        events, types, data, metadata = conn.execute(
            "SELECT count(*), count(DISTINCT type), avg(length(data)), avg(length(metadata)) "
            "FROM events"
        ).fetchone()
        (streams,) = conn.execute("SELECT count(*) FROM streams").fetchone()
    finally:
        conn.close()
    return {
        "events": events,
        "streams": streams,
        "event_types": types,
        "data_bytes": round(data),
        "metadata_bytes": round(metadata),
        "file_mb": round(path.stat().st_size / 1e6),
    }
