"""`EsdbTestServer`: EventStoreDB's gRPC services on our store, insecure, on one port."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self

import grpc  # type: ignore[import-untyped]

from tests.esdb_server import gossip, persistent, streams
from tests.esdb_server.service import DEFAULT_MAX_APPEND_SIZE, Registration, SharedState
from write_side.eventstore import EventStore
from write_side.eventstore.factory import open_event_store

#: The services every test server runs.
SERVICES: tuple[Registration, ...] = (streams.register, persistent.register, gossip.register)

#: What `python -m tests.esdb_server` prints, followed by the URI, once it accepts calls.
READY_LINE = "esdb test server listening on "

#: esdbclient accepts messages up to 17 MiB; the server takes as much (appends are limited by
#: the maximum append size, as on EventStoreDB, not by gRPC's 4 MiB default).
_MAX_MESSAGE = 17 * 1024 * 1024


class EsdbTestServer:
    """EventStoreDB's protocol (what esdbclient 1.1.7 uses) served from one of our stores.

    `port=0` takes a free port; `port`, `uri` and `discover_uri` tell which once started.
    Every live subscription holds one worker thread, hence the large default pool.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_append_size: int = DEFAULT_MAX_APPEND_SIZE,
        max_workers: int = 256,
        services: Sequence[Registration] = SERVICES,
        owns_store: bool = False,
    ) -> None:
        self._store = store
        self._owns_store = owns_store
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="esdb-test-server"),
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.max_send_message_length", _MAX_MESSAGE),
            ],
        )
        bound = self._server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise OSError(f"cannot listen on {host}:{port}")
        self.shared = SharedState(
            store=store, host=host, port=bound, max_append_size=max_append_size
        )
        for register in services:
            register(self._server, self.shared)
        self._started = False

    @classmethod
    def open(cls, store_uri: str, **options: object) -> EsdbTestServer:
        """A server on the store `store_uri` names (`sqlite:///path`), closed with it."""
        store = open_event_store(store_uri)
        try:
            return cls(store, owns_store=True, **options)  # type: ignore[arg-type]
        except BaseException:
            store.close()
            raise

    def __repr__(self) -> str:
        return f"EsdbTestServer({self.uri!r}, store={self._store!r})"

    @property
    def store(self) -> EventStore:
        """The store behind the server (tests may write to it directly)."""
        return self._store

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.shared.port

    @property
    def uri(self) -> str:
        """esdbclient's connection string for this server."""
        return f"esdb://{self.shared.host}:{self.port}?Tls=false"

    @property
    def discover_uri(self) -> str:
        """The same server found through gossip, as a cluster of one."""
        return f"esdb+discover://{self.shared.host}:{self.port}?Tls=false"

    @property
    def active_subscriptions(self) -> int:
        """Subscriptions open right now (each holds a worker thread)."""
        return self.shared.active_subscriptions

    def start(self) -> Self:
        """Start serving; returns the server."""
        self._server.start()
        self._started = True
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (True) or `timeout` passes (False)."""
        return bool(self._server.wait_for_termination(timeout))

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving (open calls are cancelled after `grace`), then close an owned store."""
        if self._started:
            self._server.stop(grace).wait()
            self._started = False
        else:
            self._server.stop(None)
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
