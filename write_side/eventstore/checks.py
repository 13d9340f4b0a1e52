"""Argument checks every adapter makes before it talks to its backend."""

from __future__ import annotations

from write_side.eventstore.errors import InvalidStreamName
from write_side.eventstore.model import ExpectedVersion, StreamState


def check_stream_name(stream: str, *, allow_metastream: bool = False) -> None:
    """Refuse an empty name, and a `$$` metadata stream unless the call reads metadata."""
    if not isinstance(stream, str) or not stream:
        raise InvalidStreamName(f"a stream name must be a non-empty string, got {stream!r}")
    if stream.startswith("$$") and not allow_metastream:
        raise InvalidStreamName(
            f"{stream!r} is a metadata stream; use set_stream_metadata / get_stream_metadata"
        )


def check_expected_version(expected_version: ExpectedVersion) -> None:
    """Refuse anything but a revision (>= 0) or a `StreamState`."""
    if isinstance(expected_version, StreamState):
        return
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise TypeError(
            f"expected_version must be a revision or a StreamState, got {expected_version!r}"
        )
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, got {expected_version}")
