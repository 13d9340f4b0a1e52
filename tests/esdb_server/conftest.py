"""The test server's own tests use its fixtures."""

from tests.esdb_server.fixtures import (  # noqa: F401
    esdb_client,
    esdb_server,
    esdb_server_process,
    esdb_uri,
    fresh_esdb_server,
)
