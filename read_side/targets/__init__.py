"""Read-model targets: SQL (SQLite, PostgreSQL), DuckDB and memory, with one bookkeeping port."""

from read_side.targets.base import (
    Checkpoint,
    DeadLetter,
    Effects,
    Lease,
    SilentEffects,
    Target,
    TargetTx,
)
from read_side.targets.errors import CheckpointMovedBack, TargetError, TargetLocked
from read_side.targets.memory import MemoryTarget, MemoryTx

__all__ = [
    "Checkpoint",
    "CheckpointMovedBack",
    "DeadLetter",
    "Effects",
    "Lease",
    "MemoryTarget",
    "MemoryTx",
    "SilentEffects",
    "Target",
    "TargetError",
    "TargetLocked",
    "TargetTx",
]
