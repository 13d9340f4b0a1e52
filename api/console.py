"""The command line's console, made on first use (it reads the terminal, never at import)."""

from __future__ import annotations

import functools
import sys
from typing import Any

from rich.console import Console
from rich.table import Table


@functools.cache
def out() -> Console:
    """The console; piped output (make demo, CI logs) gets room for tables, not 80 columns."""
    return Console(width=None if sys.stdout.isatty() else 120)


@functools.cache
def err() -> Console:
    """The console of error messages (standard error)."""
    return Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def listing(*columns: str, **options: Any) -> Table:
    """A table of the command line with these column headers: a narrow terminal folds a long
    value onto more lines, never cuts it short with "…" (rich's default), since a stream's
    name, a group's, an event id or a position is what a reader copies into a next command."""
    table = Table(**options)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def counted(count: int, noun: str) -> str:
    """`1 timer`, `7,900 timers`: a count with its noun, plural when it is not one."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
