"""Knobs of the workout log."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogSettings"]


@dataclass(frozen=True)
class LogSettings:
    """The workout log (a SQLite file in the user's data folder)."""

    enabled: bool = True
    """Write every typed and hands-free session to it (--no-log: not this one)."""
