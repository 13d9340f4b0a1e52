"""`bookworm demo`: the platform's main job on the embedded default.

It simulates a bookstore into a fresh data directory (`<data dir>/demo`), then runs what the
worker runs (the process managers on their subscription groups, the timer service on the domain
clock, the integration event recorder, every projection) until nothing is left to do: a worker
started on it afterwards has nothing of the simulation left to handle (only the recurring jobs
come due, by the wall clock). Then it prints a summary from the query models: events per type,
orders by final status, emails by status, sagas by outcome.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from contextlib import closing
from datetime import timedelta

from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, create_engine, text

from api import bootstrap
from api.console import counted
from api.demo_api import show_api_calls
from api.settings import Settings, embedded_urls
from api.simulator import SimulationConfig, run_simulation
from pipelines.process_managers import ProcessManagerRunner
from pipelines.runner import ProjectionRunner, RunnerSettings
from pipelines.timers import timer_service
from read_side.queries.catalog import BookQuery, BookSort, list_books
from read_side.queries.ordering import Caller, get_order, list_orders
from read_side.queries.paging import PageRequest
from write_side.bootstrap import bootstrap as bootstrap_write_side
from write_side.bootstrap import integration_services, process_managers
from write_side.domain import ManualClock
from write_side.mailer import open_email_transport
from write_side.notification import EmailTransport
from write_side.ordering import OrderStatus
from write_side.registry import REGISTRY

#: The demo's scale: a few minutes of work end to end on two cores.
DEMO = SimulationConfig(seed=7, books=400, buyers=3_000, days=30)

#: Rounds of the settle loop; each lets the saga's timeouts (30 minutes) come due once.
SETTLE_ROUNDS = 6


def demo_settings(settings: Settings) -> Settings:
    """The settings of a fresh `<data dir>/demo` directory (every store a file in it)."""
    root = settings.demo_path
    return settings.model_copy(
        update={
            "data_dir": root,
            **embedded_urls(root),
            "redis_url": None,
            "smtp_url": None,
            "amqp_url": None,
        }
    )


def run_platform_demo(
    settings: Settings, console: Console, config: SimulationConfig = DEMO
) -> None:
    """Simulate, settle every process and projection, and print the summary."""
    demo = demo_settings(settings)
    shutil.rmtree(demo.data_dir, ignore_errors=True)
    demo.data_dir.mkdir(parents=True)
    console.print(
        f"[bold]1. simulating[/] {config.books} books, {config.buyers} buyers, "
        f"{config.days} days into {demo.event_store}"
    )
    started = time.perf_counter()
    report = run_simulation(demo, config)
    console.print(
        f"   {report.event_count:,} events from {report.outcome.tally.commands:,} commands in "
        f"{report.outcome.elapsed_s:.0f} s ({report.events_per_s:,.0f} events/s)"
    )
    console.print("[bold]2. running the process managers, timers and projections to the end[/]")
    settled = settle(demo, config)
    done = [
        counted(settled["handled"], "reaction"),
        counted(settled["timers"], "timer"),
        counted(settled["published"], "integration event"),
        f"{counted(settled['projected'], 'event')} projected in "
        f"{counted(settled['rounds'], 'round')}",
    ]
    console.print(f"   {', '.join(done)}")
    console.print("[bold]3. summary[/] (from the query models)")
    summarize(demo, report.events, console)
    engine = create_engine(demo.query_db_url)
    try:
        with engine.connect() as conn:
            show_api_calls(demo, conn, console)
    finally:
        engine.dispose()
    console.print(f"done in {time.perf_counter() - started:.0f} s; data in {demo.data_dir}")


def settle(settings: Settings, config: SimulationConfig) -> dict[str, int]:
    """Run everything the worker runs until a round changes nothing."""
    totals = Counter[str]()
    with (
        bootstrap.event_store(settings) as store,
        closing(bootstrap.key_store(settings)) as keys,
        closing(bootstrap.cache(settings)) as cache,
        bootstrap.subscription_groups(store) as groups,
        bootstrap.targets(settings, {"sql"}) as targets,
    ):
        end = config.start + timedelta(days=config.days)
        clock = ManualClock(end)
        transport = open_email_transport(None, settings.outbox_path, clock=clock)
        bus = bootstrap_write_side(store, keys, clock=clock, ports={EmailTransport: transport})
        runners = [
            ProcessManagerRunner(groups, manager, REGISTRY, receive_timeout_s=0.05)
            for manager in process_managers(bus)
        ]
        recorders = integration_services(store)
        timers = timer_service(bus, targets["sql"])
        if timers.on_start is not None:
            timers.on_start()  # the recurring jobs' first schedule
        projections = [
            ProjectionRunner(
                store, p, targets["sql"], build=None, settings=RunnerSettings(batch_size=5000)
            )
            for p in bootstrap.projections(keys=keys, cache=cache)
        ]
        for _ in range(SETTLE_ROUNDS * 4):
            totals["rounds"] += 1
            handled = sum(runner.drain(idle_s=0.3) for runner in runners)
            published = sum(recorder.run_once() for recorder in recorders)
            projected = 0
            for runner in projections:
                before = runner.status(with_head=False).handled
                runner.catch_up()
                projected += runner.status(with_head=False).handled - before
            fired = len(timers.fire_due(clock.now()))
            totals["handled"] += handled
            totals["published"] += published
            totals["projected"] += projected
            totals["timers"] += fired
            if handled == 0 and published == 0 and fired == 0 and projected == 0:
                if totals["rounds"] > SETTLE_ROUNDS:
                    break
                clock.advance(timedelta(minutes=31))  # let pending timeouts come due
    return dict(totals)


def summarize(settings: Settings, events: Counter[str], console: Console) -> None:
    """Tables of what the platform holds now."""
    table = Table("event type", "events", title="events by type (top 12)", min_width=40)
    for name, count in events.most_common(12):
        table.add_row(name, f"{count:,}")
    console.print(table)
    engine = create_engine(settings.query_db_url)
    with engine.connect() as conn:
        for title, sql in (
            (
                "orders by final status",
                "SELECT status, COUNT(*) FROM order_history GROUP BY status",
            ),
            ("sagas by outcome", "SELECT state, COUNT(*) FROM order_sagas GROUP BY state"),
            ("emails by status", "SELECT status, COUNT(*) FROM emails GROUP BY status"),
        ):
            rows = conn.execute(text(sql + " ORDER BY 2 DESC")).all()
            table = Table(title.split(" by ")[-1], "count", title=title, min_width=40)
            for name, count in rows:
                table.add_row(str(name), f"{count:,}")
            console.print(table)
        show_answers(conn, console)
    engine.dispose()
    outbox = list(settings.outbox_path.glob("*.eml"))
    console.print(f"{len(outbox):,} emails written to {settings.outbox_path}")


def show_answers(conn: Connection, console: Console) -> None:
    """A few answers of the query layer the API serves: a page of books, one order's history."""
    books = list_books(
        conn, BookQuery(sort=BookSort.AVERAGE_RATING, descending=True), PageRequest(page_size=5)
    )
    table = Table(
        "book",
        "category",
        "price",
        "rating",
        "reviews",
        title=f"best rated books: page 1 of {books.total_pages} ({books.total_items} books)",
    )
    for book in books.items:
        price = book.price if book.discount_price is None else book.discount_price
        table.add_row(
            book.name,
            book.category.name,
            f"{price}",
            f"{book.average_rating:.2f}",
            str(book.total_reviews),
        )
    console.print(table)
    admin = Caller.administrator()
    orders = list_orders(conn, admin, status=OrderStatus.COMPLETED, page=PageRequest(page_size=1))
    if not orders.items:
        return
    order = get_order(conn, admin, orders.items[0].order_id)
    if order is None:
        return
    console.print(
        f"order {order.order_id} of {order.buyer_name} ({order.buyer_email}): "
        f"{order.item_count} items, total {order.total}"
    )
    for line in order.items:
        console.print(f"   {line.quantity} x {line.book_name} at {line.unit_price}")
    for change in order.history:
        console.print(f"   {change.occurred_at:%Y-%m-%d %H:%M} {change.status}")
