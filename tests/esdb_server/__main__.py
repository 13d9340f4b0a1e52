"""`python -m tests.esdb_server --store sqlite:///path --port N`: the test server in a process.

Prints one line, `esdb test server listening on esdb://HOST:PORT?Tls=false`, once it accepts
calls (with `--port 0` this is how a parent learns the port), then serves until SIGTERM or
SIGINT. Run it from the repository root, with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.esdb_server.server import READY_LINE, EsdbTestServer
from tests.esdb_server.service import DEFAULT_MAX_APPEND_SIZE


def main(argv: list[str] | None = None) -> int:
    """Serve until told to stop; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.esdb_server",
        description="EventStoreDB's gRPC protocol (as esdbclient uses it) on our event store.",
    )
    parser.add_argument("--store", required=True, help="event store URI, e.g. sqlite:///x.db")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2113, help="port (0: any free port)")
    parser.add_argument(
        "--max-append-size",
        type=int,
        default=DEFAULT_MAX_APPEND_SIZE,
        help="bytes one append may carry (EventStoreDB's default: 1 MiB)",
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server = EsdbTestServer.open(
        args.store, host=args.host, port=args.port, max_append_size=args.max_append_size
    )
    with server:
        print(f"{READY_LINE}{server.uri}", flush=True)
        while not stopping.wait(0.5):  # a timed wait, so a signal is seen promptly
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
