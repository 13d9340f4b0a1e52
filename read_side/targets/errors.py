"""Errors of read-model targets."""

from __future__ import annotations


class TargetError(Exception):
    """Base class of the targets' own errors."""


class CheckpointMovedBack(TargetError):
    """A checkpoint may only move forward; a smaller one means two writers or a bug."""

    def __init__(self, projection: str, build: int, stored: int, offered: int) -> None:
        self.projection, self.build, self.stored, self.offered = projection, build, stored, offered
        super().__init__(
            f"{projection} build {build}: checkpoint {offered} is behind the stored {stored}"
        )


class TargetLocked(TargetError):
    """Another process holds the target (DuckDB allows one writing process per file)."""

    def __init__(self, path: str, holder: str) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is held by another process ({holder}); stop it first")
