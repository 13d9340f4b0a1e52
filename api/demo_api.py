"""The end of `make demo`: a development token and three `curl` calls that work against
`make serve` on the demo's data (a page of books, an order as an admin, a posted feedback)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from rich.console import Console
from rich.text import Text
from sqlalchemy import Connection

from api.settings import Settings
from api.web.auth import Authenticator
from read_side.queries.catalog import BookQuery, BookSort, list_books
from read_side.queries.ordering import Caller, list_orders
from read_side.queries.paging import PageRequest

#: The demo's data, which `make serve` serves unless BOOKWORM_DATA_DIR says otherwise.
DEMO_DIR = Path("var/demo")

#: Where `make serve` listens.
BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class CurlCall:
    """One HTTP call, shown as the `curl` command that makes it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, object] | None = None

    def command(self, base_url: str = BASE_URL) -> str:
        """The shell command (the token as `$TOKEN`, so it stays readable)."""
        parts = ["curl", "-s"]
        if self.method != "GET":
            parts += ["-X", self.method]
        for name, value in self.headers.items():
            shown = "Bearer $TOKEN" if name == "Authorization" else value
            parts += ["-H", f"{name}: {shown}"]
        if self.body is not None:
            parts += ["-d", json.dumps(self.body)]
        parts.append(f"{base_url}{self.path}")
        return " ".join(f'"{part}"' if "$TOKEN" in part else shlex.quote(part) for part in parts)


def demo_calls(conn: Connection, token: str) -> list[CurlCall]:
    """Three calls on what the demo built: the best-rated books, an order, a new feedback."""
    books = list_books(
        conn, BookQuery(sort=BookSort.AVERAGE_RATING, descending=True), PageRequest(page_size=3)
    )
    calls = [CurlCall("GET", "/api/v1/books?sort=average_rating&descending=true&page_size=3", {})]
    orders = list_orders(conn, Caller.administrator(), page=PageRequest(page_size=1))
    if orders.items:
        order_id: UUID = orders.items[0].order_id
        calls.append(
            CurlCall("GET", f"/api/v1/orders/{order_id}", {"Authorization": f"Bearer {token}"})
        )
    if books.items:
        calls.append(
            CurlCall(
                "POST",
                f"/api/v1/books/{books.items[0].id}/feedbacks",
                {"Content-Type": "application/json", "Idempotency-Key": str(uuid4())},
                {"first_name": "Ada", "last_name": "Lovelace", "rating": 5, "comment": "Lovely."},
            )
        )
    return calls


def show_api_calls(settings: Settings, conn: Connection, console: Console) -> list[CurlCall]:
    """Print an admin token and the demo's `curl` calls; answer the calls."""
    token = Authenticator(settings).mint("demo-admin", ["admin"])
    calls = demo_calls(conn, token)
    serve = "make serve"
    if settings.data_dir != DEMO_DIR:
        serve = f"BOOKWORM_DATA_DIR={shlex.quote(str(settings.data_dir))} make serve"
    # Not wrapped, nor read as markup: the command is copied from here whatever its path.
    console.print(
        Text.assemble(("4. the API", "bold"), f": run `{serve}` in another terminal, then:"),
        soft_wrap=True,
        highlight=False,
    )
    console.print(f"export TOKEN={token}", soft_wrap=True, highlight=False, markup=False)
    for call in calls:
        console.print(call.command(), soft_wrap=True, highlight=False, markup=False)
    return calls
