"""The start-up heap of a long-running process is frozen, and what comes later is collected."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# In a child process: freezing would keep the cyclic garbage of this test run for good.
CHILD = textwrap.dedent(
    """
    import gc, weakref
    from api.heap import freeze_startup_objects
    from api.web.app import create_app  # a start-up's worth of long-lived objects

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    before = cycle()  # garbage already when the process freezes: collected, not frozen
    frozen = freeze_startup_objects()
    after = cycle()  # garbage made later: the next collection takes it
    gc.collect()
    print(frozen, before() is None, after() is None, gc.get_freeze_count() == frozen)
    """
)


def test_start_up_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True
    )

    frozen, before_gone, after_gone, unchanged = done.stdout.split()
    assert int(frozen) > 50_000  # the app's modules, schemas and registries
    assert (before_gone, after_gone, unchanged) == ("True", "True", "True")
