"""How times and lists are said aloud, and how long speech takes. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from coach.settings.text import SpeechTimingSettings

__all__ = ["estimate_seconds", "join_words", "say_about", "say_count", "say_seconds",
           "say_when", "start_of_week"]

_WORD = re.compile(r"[A-Za-z0-9']+")
_PAUSE = re.compile(r"[.,;:!?…]")
_TIMING = SpeechTimingSettings()


def estimate_seconds(text: str, timing: SpeechTimingSettings = _TIMING) -> float:
    """Rough spoken duration of `text` (seconds): words at the voice's rate plus short
    punctuation pauses.

    Used to keep utterances from overlapping when the real synthesised length is unknown;
    errs long so a cue is dropped rather than spoken over a countdown.
    """
    words = len(_WORD.findall(text))
    if words == 0:
        return 0.0
    pauses = len(_PAUSE.findall(text.rstrip(".!?")))
    seconds = (
        words * 60.0 / timing.words_per_minute
        + timing.pause_seconds * pauses
        + timing.start_seconds
    )
    return round(seconds, 2)


def say_seconds(seconds: float) -> str:
    """45 -> "45 seconds", 60 -> "1 minute", 90 -> "1 minute 30 seconds"."""
    total = max(0, math.ceil(seconds - 1e-6))
    minutes, secs = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute" + ("s" if minutes != 1 else ""))
    if secs or not minutes:
        parts.append(f"{secs} second" + ("s" if secs != 1 else ""))
    return " ".join(parts)


def say_count(number: int, noun: str) -> str:
    """(1, "rep") -> "1 rep", (8, "rep") -> "8 reps": the nouns the coach counts take an s."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def say_about(seconds: float) -> str:
    """A rounded duration for totals: "about 6 minutes", "under a minute"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return f"about {minutes} minute" + ("s" if minutes != 1 else "")


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def say_when(then: datetime, now: datetime) -> str:
    """A past moment as said: "today", "yesterday", "on Tuesday" (within the week), "on 3
    March" (this year), "on 3 March 2025"."""
    days = (now.date() - then.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {then.strftime('%A')}"
    if then.year == now.year:
        return f"on {then.day} {then.strftime('%B')}"
    return f"on {then.day} {then.strftime('%B')} {then.year}"


def start_of_week(now: datetime) -> datetime:
    """Midnight at the start of `now`'s week (Monday)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=now.weekday())
