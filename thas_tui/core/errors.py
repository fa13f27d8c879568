"""Exceptions of the core that carry a user-facing message."""

from __future__ import annotations


class ThasError(Exception):
    """An error with a message fit to show a user (what, where, what to do)."""

    exit_code = 2


class UnreadableFile(ThasError):
    """A DIALS output file that exists but cannot be read (corrupt, truncated, unsupported)."""


class DialsNotFound(ThasError):
    """DIALS programs are not on PATH (nor in --dials-dir / $THAS_DIALS_DIR)."""
