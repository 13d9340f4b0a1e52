"""Child: one consumer of a subscription group, reporting each delivery on stdout.

Usage: `python -m tests.contracts.children.group_consumer URI GROUP MODE BUFFER`

Opens the store and its groups, joins GROUP on `$all` with a buffer of BUFFER events, prints
`ready`, then prints a JSON line `{"id", "position", "retry_count"}` for every event delivered,
after acknowledging it (MODE `ack`) or without ever acknowledging it (MODE `hold`). When its
stdin closes it stops the consumer (pending acknowledgements sent) and exits 0.
"""

from __future__ import annotations

import json
import sys
import threading

from write_side.eventstore.factory import open_event_store
from write_side.groups.factory import open_subscription_groups


def main(uri: str, group: str, mode: str, buffer_size: int) -> None:
    with (
        open_event_store(uri) as store,
        open_subscription_groups(store) as groups,
        groups.read_subscription_to_all(group, event_buffer_size=buffer_size) as consumer,
    ):
        # A closed stdin (the parent finishing) stops the consumer; its iteration then ends.
        threading.Thread(target=lambda: (sys.stdin.read(), consumer.stop()), daemon=True).start()
        print("ready", flush=True)
        for delivered in consumer:
            if mode == "ack":
                consumer.ack(delivered)
            line = {
                "id": str(delivered.id),
                "position": delivered.event.position,
                "retry_count": delivered.retry_count,
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
