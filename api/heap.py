"""Long-running processes (`bookworm serve`, `bookworm worker`): the heap built at start-up,
kept out of the cyclic garbage collector's full collections.

Such a process holds a few hundred thousand long-lived objects once it has started (the app
and its OpenAPI schemas, pydantic validators, SQLAlchemy metadata, the event registry). A full
(generation 2) collection walks every one of them, and the API under POST load ran one every
ten seconds or so: about 100 ms each on this machine, a pause every request in flight waits
out (it was most of the POST benchmark's p99). Collected once and frozen (`gc.freeze`), they
are no longer walked, and a full collection takes about 2 ms; objects made afterwards are
collected as before, and frozen ones are still freed by reference counting.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what start-up left behind, then freeze the rest; how many objects were frozen.

    Call it once, at the end of a long-running process's start-up: never in a process that
    keeps building and dropping apps (a test run), whose cyclic garbage it would keep.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
