"""The command line's console, made on first use (it reads the terminal, never at import)."""

from __future__ import annotations

import functools
import sys

from rich.console import Console


@functools.cache
def out() -> Console:
    """The console; piped output (make demo, CI logs) gets room for tables, not 80 columns."""
    return Console(width=None if sys.stdout.isatty() else 120)


@functools.cache
def err() -> Console:
    """The console of error messages (standard error)."""
    return Console(stderr=True, width=None if sys.stderr.isatty() else 120)
