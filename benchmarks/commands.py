"""Command throughput through the whole domain layer (load -> decide -> append).

    python -m benchmarks.commands [--quick] [--out DIR]

- `create_feedback_on_existing_books`: `CreateFeedback` through the command bus on the
  embedded store (a file, fsync on every commit) with its key store (a file, fsync too), one
  command after another, on books created beforehand. What one command does: load the
  feedback (new), claim the reviewer's name for the book in a reservation stream (one durable
  append), make the reviewer's key (one durable insert in the key store), seal the names, append
  FeedbackCreated (one durable append). `eventsourcing`: the peer library's Application saving a
  new Feedback aggregate with the same fields on its SQLite recorder at the same durability
  (WAL, synchronous=FULL): one durable insert, no uniqueness claim, no encryption.
  `raw_sqlite`: the floor of our design, the same three durable writes per command in plain
  `sqlite3` (WAL, synchronous=FULL, autocommit): a reservation row and an event row in one
  file, a key row in another, with no domain layer at all. No implementation of this design
  (a claim, a key and the event, each durable before the next) can beat it on this machine.
  The order is forced by three rules: a rejected command writes nothing (so the key waits for
  the claim, which is what rejects a second feedback), an event never outlives its key (so the
  key is durable before the event), and the claim is a stream of its own (DOMAIN.md's
  reservation streams; EventStoreDB has no append across streams in esdbclient 1.1.7).
- `place_order`: `PlaceOrder` on its own (p50/p99), each for a buyer with a filled basket: load
  buyer, basket and books, append OrderPlaced. Reported in commands per second.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool

from benchmarks._harness import (
    OURS,
    CaseResult,
    Measurement,
    Target,
    bound_target,
    machine_info,
    ratio_target,
    scratch_directory,
    side_by_side,
    start_run,
    throughput,
)
from benchmarks._raw_sqlite import RAW_DDL, RAW_INSERT, connect_durable
from write_side.basket import UpdateBasket
from write_side.basket.commands import BasketLine
from write_side.bootstrap import bootstrap
from write_side.catalog import (
    Author,
    Book,
    Category,
    CreateAuthor,
    CreateBook,
    CreateCategory,
    CreatePublisher,
    Publisher,
)
from write_side.catalog.handlers import new_id_for
from write_side.domain import CommandBus
from write_side.eventstore.sqlite import SqliteEventStore
from write_side.eventstore.sqlite.schema import Synchronous
from write_side.keystore import SqliteKeyStore
from write_side.ordering import CreateBuyer, PlaceOrder
from write_side.ordering.personal import Address
from write_side.rating import CreateFeedback

AREA = "commands"
PEER = "eventsourcing"
RAW = "raw_sqlite"
COMMENT = "A fine book, well paced, with characters that stay with you long after. " * 3


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each case does; `--quick` shrinks it."""

    books: int = 50
    feedbacks: int = 1_000
    orders: int = 300
    warmups: int = 1
    repetitions: int = 3


FULL = Scale()
QUICK = Scale(books=10, feedbacks=200, orders=60, repetitions=1)


# -- the peer ---------------------------------------------------------------------------------


class Feedback(Aggregate):
    """The peer's feedback: the same fields, created by one event."""

    @event("Created")
    def __init__(
        self, book_id: uuid.UUID, first_name: str, last_name: str, comment: str, rating: int
    ) -> None:
        self.book_id = book_id
        self.first_name = first_name
        self.last_name = last_name
        self.comment = comment
        self.rating = rating


class Ratings(Application[uuid.UUID]):
    """The peer's application: one command, one new aggregate, one save."""

    def create_feedback(
        self, book_id: uuid.UUID, first_name: str, last_name: str, comment: str, rating: int
    ) -> uuid.UUID:
        feedback = Feedback(book_id, first_name, last_name, comment, rating)
        self.save(feedback)
        return feedback.id


class _Pool(SQLiteConnectionPool):
    """eventsourcing's pool, setting `synchronous` on each connection (made when first used)."""

    def __init__(self, *, db_name: str, synchronous: Synchronous) -> None:
        self.synchronous = synchronous
        super().__init__(db_name=db_name)

    def _create_connection(self) -> SQLiteConnection:
        conn = super()._create_connection()
        with conn.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {self.synchronous}")
        return conn


#: `PRAGMA synchronous` as SQLite reports it.
_SYNCHRONOUS_LEVELS: dict[Synchronous, int] = {"OFF": 0, "NORMAL": 1, "FULL": 2}


def peer_app(path: Path, synchronous: Synchronous = "FULL") -> Ratings:
    """The peer's application on a SQLite file at our durability (checked, not assumed)."""
    app = Ratings(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    datastore.pool.close()
    datastore.pool = _Pool(db_name=str(path), synchronous=synchronous)
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        (level,) = cursor.fetchone()
        cursor.execute("PRAGMA journal_mode")
        (journal,) = cursor.fetchone()
    if (level, journal) != (_SYNCHRONOUS_LEVELS[synchronous], "wal"):
        raise RuntimeError(f"the peer is not at synchronous={synchronous}: {level=}, {journal=}")
    return app


# -- the floor of our design ------------------------------------------------------------------

_RAW_KEYS = "CREATE TABLE IF NOT EXISTS keys (subject BLOB PRIMARY KEY, key BLOB NOT NULL)"


class RawDesign:
    """CreateFeedback's three durable writes in plain sqlite3, one autocommit statement each:
    the reviewer claim (`NO_STREAM`: revision 0 of a new stream), the key, the event."""

    def __init__(self, events: Path, keys: Path) -> None:
        self.events = connect_durable(events)
        self.events.execute(RAW_DDL)
        self.keys = connect_durable(keys)
        self.keys.execute(_RAW_KEYS)
        self.metadata = (
            b'{"correlation_id":"%s","causation_id":"%s","command_id":"%s",'
            b'"occurred_at":"2026-11-27T08:00:00+00:00","schema_version":1}'
            % (uuid.uuid4().hex.encode(), uuid.uuid4().hex.encode(), uuid.uuid4().hex.encode())
        )

    def create_feedback(self, book_id: uuid.UUID, first_name: str, comment: str) -> None:
        """Claim, key, event: each committed (fsync) before the next begins."""
        feedback = uuid.uuid4()
        claim = f"feedbackreviewer-{uuid.uuid5(book_id, first_name).hex}"
        self.events.execute(
            RAW_INSERT,
            (
                uuid.uuid4().bytes,
                claim,
                0,
                "ReservationMade",
                b'{"owner_id":"%s"}' % feedback.hex.encode(),
                self.metadata,
            ),
        )
        key = os.urandom(32)
        self.keys.execute("INSERT INTO keys (subject, key) VALUES (?, ?)", (feedback.bytes, key))
        data = (
            b'{"book_id":"%s","comment":"%s","rating":4,"reviewer":{"subject":"%s",'
            b'"ciphertext":"%s"}}'
            % (book_id.hex.encode(), comment.encode(), feedback.hex.encode(), key.hex().encode())
        )
        self.events.execute(
            RAW_INSERT,
            (uuid.uuid4().bytes, f"feedback-{feedback}", 0, "FeedbackCreated", data, self.metadata),
        )

    def close(self) -> None:
        """Release both files."""
        self.events.close()
        self.keys.close()


# -- ours -------------------------------------------------------------------------------------


def shelf(bus: CommandBus, books: int) -> list[uuid.UUID]:
    """A category, a publisher, an author and `books` books in stock; their ids."""
    category = CreateCategory(name=f"Fiction {uuid.uuid4().hex[:8]}")
    publisher = CreatePublisher(name=f"Ace {uuid.uuid4().hex[:8]}")
    author = CreateAuthor(name="Ursula K. Le Guin")
    for command in (category, publisher, author):
        bus.dispatch(command)
    ids = []
    for n in range(books):
        book = CreateBook(
            name=f"The Dispossessed {n}",
            description="An ambiguous utopia.",
            price=Decimal("12.50"),
            discount_price=Decimal("9.90"),
            category_id=new_id_for(category, Category),
            publisher_id=new_id_for(publisher, Publisher),
            author_ids=(new_id_for(author, Author),),
        )
        bus.dispatch(book)
        ids.append(new_id_for(book, Book))
    return ids


def timed(count: int, one: Callable[[int], object]) -> Measurement:
    """Run `one(i)` for i in range(count); commands per second with p50/p99."""
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        before = time.perf_counter()
        one(i)
        latencies.append(time.perf_counter() - before)
    return throughput(count, time.perf_counter() - started, latencies, rate="commands_per_s")


class FeedbackSides:
    """Ours and the peer sending CreateFeedback on the same books, on files of their own."""

    def __init__(self, data_dir: Path, scale: Scale, synchronous: Synchronous) -> None:
        prefix = f"feedback-{synchronous.lower()}"
        self.scale = scale
        self.store = SqliteEventStore(data_dir / f"{prefix}-events.db", synchronous=synchronous)
        self.keys = SqliteKeyStore(data_dir / f"{prefix}-keys.db", synchronous=synchronous)
        self.bus = bootstrap(self.store, self.keys)
        self.books = shelf(self.bus, scale.books)
        self.app = peer_app(data_dir / f"{prefix}-peer.db", synchronous)
        self.reviewers = itertools.count()

    def ours(self) -> Measurement:
        """CreateFeedback through our command bus."""

        def send(i: int) -> None:
            self.bus.dispatch(
                CreateFeedback(
                    book_id=self.books[i % len(self.books)],
                    first_name=f"Reader{next(self.reviewers)}",
                    last_name="Lovelace",
                    comment=COMMENT,
                    rating=4,
                )
            )

        return timed(self.scale.feedbacks, send)

    def peer(self) -> Measurement:
        """The peer's equivalent command."""

        def send(i: int) -> None:
            self.app.create_feedback(
                self.books[i % len(self.books)],
                f"Reader{next(self.reviewers)}",
                "Lovelace",
                COMMENT,
                4,
            )

        return timed(self.scale.feedbacks, send)

    def close(self) -> None:
        """Release the files."""
        self.store.close()
        self.keys.close()
        self.app.close()


def create_feedback_case(data_dir: Path, scale: Scale) -> CaseResult:
    """Ours, the peer and the floor of our design, side by side, each on files of its own;
    then ours and the peer again without fsync, to show what the durable commits cost."""
    durable = FeedbackSides(data_dir, scale, "FULL")
    floor = RawDesign(data_dir / "feedback-raw-events.db", data_dir / "feedback-raw-keys.db")

    def raw() -> Measurement:
        def send(i: int) -> None:
            floor.create_feedback(
                durable.books[i % len(durable.books)], f"Reader{next(durable.reviewers)}", COMMENT
            )

        return timed(scale.feedbacks, send)

    try:
        measured = side_by_side(
            {OURS: durable.ours, PEER: durable.peer, RAW: raw},
            warmups=scale.warmups,
            repetitions=scale.repetitions,
        )
    finally:
        durable.close()
        floor.close()
    no_fsync = FeedbackSides(data_dir, scale, "OFF")
    try:
        unsynced = side_by_side(
            {OURS: no_fsync.ours, PEER: no_fsync.peer},
            warmups=scale.warmups,
            repetitions=scale.repetitions,
        )
    finally:
        no_fsync.close()
    result = CaseResult(
        "create_feedback_on_existing_books", measured, ratio_metric="commands_per_s"
    )
    result.notes.append(
        "ours: 3 durable commits per command (reservation, key, feedback) against the peer's 1; "
        f"{RAW}: the same 3 durable commits in plain sqlite3, the floor of this design"
    )
    ours_rate, peer_rate = (unsynced[side]["commands_per_s"] for side in (OURS, PEER))
    result.notes.append(
        "without fsync (synchronous=OFF for both sides' files, a durability the platform never "
        f"runs with; same run): ours {ours_rate:,.0f} commands/s, {PEER} {peer_rate:,.0f} "
        f"({ours_rate / peer_rate:.2f}x)"
    )
    return result


def place_order_case(data_dir: Path, scale: Scale) -> CaseResult:
    """PlaceOrder for buyers with a filled basket (the buyers and baskets made beforehand)."""
    store = SqliteEventStore(data_dir / "orders-events.db")
    keys = SqliteKeyStore(data_dir / "orders-keys.db")
    bus = bootstrap(store, keys)
    books = shelf(bus, scale.books)
    runs = scale.warmups + scale.repetitions
    buyers = [uuid.uuid4() for _ in range(scale.orders * runs)]
    for n, buyer in enumerate(buyers):
        bus.dispatch(
            CreateBuyer(
                buyer_id=buyer,
                name=f"Buyer {n}",
                email=f"buyer{n}@example.com",
                address=Address(street="1 Main Street", city="Springfield", province="Oregon"),
                actor=str(buyer),
            )
        )
        lines = tuple(
            BasketLine(book_id=books[(n + k) % len(books)], quantity=1 + k) for k in range(3)
        )
        bus.dispatch(UpdateBasket(buyer_id=buyer, items=lines, actor=str(buyer)))
    queue = iter(buyers)

    def ours() -> Measurement:
        def send(_: int) -> None:
            buyer = next(queue)
            bus.dispatch(PlaceOrder(buyer_id=buyer, actor=str(buyer)))

        return timed(scale.orders, send)

    try:
        measured = side_by_side({OURS: ours}, warmups=scale.warmups, repetitions=scale.repetitions)
    finally:
        store.close()
        keys.close()
    return CaseResult("place_order", measured, ratio_metric="commands_per_s")


def judge(feedback: CaseResult) -> list[Target]:
    """The goals of the issue."""
    return [
        ratio_target(feedback, PEER, 1.0),
        bound_target(feedback, "p99_ms", at_most=5.0),
    ]


def main() -> None:
    """Run every case, print the table and write `<out>/commands.json`."""
    run = start_run(AREA, "Command benchmark (see benchmarks/commands.py)")
    scale = QUICK if run.options.quick else FULL
    with scratch_directory(AREA) as data_dir:
        machine = machine_info(data_dir)
        with run.console.status("CreateFeedback…"):
            feedback = create_feedback_case(data_dir, scale)
        with run.console.status("PlaceOrder…"):
            orders = place_order_case(data_dir, scale)
    cases = [feedback, orders]
    targets = judge(feedback)
    run.report("commands", scale.repetitions, machine, asdict(scale), cases, targets)


if __name__ == "__main__":
    main()
