"""The one base of every error a user can act on; the CLI catches it once and prints it."""

from __future__ import annotations

__all__ = ["CoachError"]


class CoachError(Exception):
    """Something the user can fix: the message says what is wrong and what to do."""

    exit_code: int = 2
    """Process exit status when this error ends a command."""
