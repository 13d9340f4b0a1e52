"""A test server that speaks EventStoreDB's gRPC protocol, on our embedded SQLite store.

It exists to prove our EventStoreDB adapters over a real gRPC wire, through the real esdbclient
1.1.7, on a machine where EventStoreDB cannot run. It imitates what esdbclient depends on:
the Streams service (Append, BatchAppend, Read of streams and `$all` with filters and
subscriptions, Delete, Tombstone, the `$$` metadata streams), PersistentSubscriptions (Create,
Update, Delete, Read, GetInfo, List, ReplayParked, RestartSubsystem, on our embedded
subscription groups in the server's store) and Gossip (a single leader).
Run it with `python -m tests.esdb_server --store sqlite:///path/events.db --port 2113`, or use
the fixtures in `tests.esdb_server.fixtures`.

It is **not** EventStoreDB. What it does not imitate:

- **Security**: no TLS (insecure connections only, `?Tls=false`), no authentication and no
  ACLs: credentials are accepted and ignored, `$acl` metadata is not kept, nothing is ever
  access-denied. No `$users`, `$settings` or default ACL streams.
- **Clustering**: gossip answers with this one node as leader; there are no followers or
  read-only replicas, no elections, no "not leader" redirects; `requires-leader` is ignored.
- **Persistent subscriptions** run on our embedded groups (`write_side/groups/sqlite`), so:
  no `Pinned` or `PinnedByCorrelation` strategy (Create fails as for an unknown one);
  `resolve_links` and `extra_statistics` are ignored, average rates and measurements are 0,
  the read and live buffer counts are 0, and the status is only `Live` or `Behind`; a
  replayed parked event comes without its `$>` link (acked by its own id); a group on `$all`
  never delivers `$`-prefixed or snapshot streams, even unfiltered (EventStoreDB leaves out
  system event types); message timeouts are exact (EventStoreDB looks once a second); the
  checkpoint is written as the embedded groups write it, with acknowledgements once due,
  and a `checkpoint_after` of 0 means "as soon as due" (EventStoreDB checkpoints on a
  one-second timer and reads 0 as "never by time"); a `message_timeout` of 0 is refused;
  Update keeps the group's cursor, and its dropped readers' events come back as retries
  (EventStoreDB restarts the group from its checkpoint). Groups, checkpoints and in-flight
  events live in the server's SQLite file, not in `$persistentSubscriptionConfig` and
  `-checkpoint` streams, and survive a server restart (EventStoreDB restarts each group from
  its checkpoint).
- **Other services**: no Projections (so no `$by_category`, `$et-` or `$ce-` streams and no
  link events `$>`; `resolve_links` does nothing), no Operations (scavenge, shutdown, merge
  indexes), no Users, no Monitoring/Stats, no ServerFeatures (esdbclient 1.1.7 never calls it).
- **Scavenge**: nothing is ever removed; events hidden by `$maxCount`, `$maxAge`, `$tb` or a
  soft delete stay in `$all` forever (EventStoreDB's `$all` shows them only until a scavenge).
- **Positions**: commit and prepare positions are both our store's commit position, small
  integers with gaps only where other streams' events sit (EventStoreDB's are byte offsets in
  its log, far apart). Any integer is accepted as a `$all` read or subscription position
  (EventStoreDB refuses one that is not a record boundary). There is no `$epoch-information`
  or other internal system event; a tombstone writes no `$streamDeleted` event (its response
  has no position), and an append of no events writes nothing and returns no position.
- **Stream metadata**: only `$maxCount`, `$maxAge`, `$tb` and custom (non-`$`) keys are kept;
  `$acl`, `$cacheControl` and any other `$` key are dropped. One `$metadata` event per write
  to a `$$` stream, with a JSON object as data; the `$metadata` event is written with an id of
  the store's choosing (a retried metadata write is not idempotent by event id).
- **Content types**: like EventStoreDB only "JSON or not" is kept, so any content type other
  than `application/json` reads back as `application/octet-stream`.
- **Limits and timing**: the maximum append size (1 MiB by default) is checked against the
  sum of data, metadata and type lengths, not EventStoreDB's exact on-disk size; no write
  timeouts, no request deadlines in BatchAppend options, no `ConsumerTooSlow` (a slow
  subscriber just waits), no keep-alive tuning, no "server not ready" phase.
- **Subscriptions**: a subscription never falls behind and catches up again (one `caught_up`
  only); a filtered `$all` subscription counts the events it considers per event (EventStoreDB
  counts per read page during catch-up) and restarts the count when it goes live.
- **Regexes**: filter regexes run on Python's `re`, not .NET's (the same for ordinary
  patterns; .NET-only syntax such as `(?<name>...)` fails as INVALID_ARGUMENT).
- **Checks done in two steps**: a few EventStoreDB answers need two store calls (a soft
  delete of a stream never written, `STREAM_EXISTS` on a soft-deleted stream, the revision a
  wrong expected version names, the current revision in a successful append's response,
  which esdbclient ignores); a concurrent writer between them may change the answer.
"""

from tests.esdb_server.server import EsdbTestServer

__all__ = ["EsdbTestServer"]
