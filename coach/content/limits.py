"""The bounds of what a content file may ask for, declared once and checked by `coach check`.

Every bound is far beyond any real workout yet small enough that a file past it cannot make
the coach hang, freeze a session or eat the machine: the player, the timeline and the
recogniser's grammar all grow with these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIMITS", "ContentLimits"]


@dataclass(frozen=True)
class ContentLimits:
    file_bytes: int = 1_000_000
    """A content file; the bundled FAQ, the largest, is a few tens of kilobytes."""
    files_per_folder: int = 500
    """YAML files read from one folder; more are reported and left out."""
    nesting: int = 24
    """Lists and mappings inside one another; the deepest real file nests a handful."""
    exercise_seconds: float = 3600.0
    """Working time of one exercise (one side): an hour."""
    reps: int = 500
    """Repetitions per side of a counted exercise."""
    tempo_seconds: float = 60.0
    """Seconds per repetition."""
    rest_seconds: float = 1800.0
    """Rest after an exercise: half an hour."""
    routine_seconds: float = 4 * 3600.0
    """A whole routine, every side, rest and exercise counted: four hours."""
    exercises: int = 200
    """Exercises in one routine."""
    cues: int = 100
    """Cues of one exercise."""
    list_items: int = 1000
    """Items of any other list (aliases, FAQ entries, command templates)."""
    text_chars: int = 2000
    """One spoken text (a cue, an answer, an intro): a few paragraphs at most."""


LIMITS = ContentLimits()
"""The bounds every content file is checked against."""
