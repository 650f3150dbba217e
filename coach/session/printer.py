"""Prints session events: one JSON line each, or a line for people (`[mm:ss] coach: ...`)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from coach.session.events import (
    HeardEvent,
    InfoEvent,
    SaidEvent,
    SessionEvent,
    StateEvent,
)

__all__ = ["EventPrinter", "human_line"]

_HEARD_CHARS = 200
"""Longest heard text a person's line shows in full (JSON lines keep all of it)."""


class EventPrinter:
    """Prints each event as it comes; safe to call from the audio thread and the loop."""

    def __init__(self, as_json: bool, stream: TextIO = sys.stdout, show_states: bool = False):
        self._as_json = as_json
        self._stream = stream
        self._show_states = show_states
        self._lock = threading.Lock()

    def __call__(self, event: SessionEvent) -> None:
        with self._lock:
            line = event.to_json() if self._as_json else human_line(event, self._show_states)
            if line:
                print(line, file=self._stream, flush=True)


def human_line(event: SessionEvent, show_states: bool = False) -> str:
    """The line a person reads for `event`; empty when it is not worth a line."""
    if isinstance(event, SaidEvent):
        return f"[{_stamp(event.at)}] coach: {event.text}"
    if isinstance(event, HeardEvent):
        meaning = event.intent or "(not understood)"
        detail = " ".join(f"{k}={v}" for k, v in event.slots.items())
        return f"[{_stamp(event.at)}] heard: {_clip(event.text)!r} -> {meaning} {detail}".rstrip()
    if isinstance(event, StateEvent):
        return f"[{_stamp(event.at)}] ({event.state})" if show_states else ""
    if isinstance(event, InfoEvent):
        return event.text
    meaning = event.intent or "(not understood)"
    return f"{event.start:7.2f}-{event.end:7.2f}  {event.text!r} -> {meaning}"


def _clip(text: str) -> str:
    return text if len(text) <= _HEARD_CHARS else text[: _HEARD_CHARS - 1].rstrip() + "…"


def _stamp(seconds: float) -> str:
    """`mm:ss` of a clock time, as printed to the millisecond first."""
    minutes, secs = divmod(int(round(seconds, 3)), 60)
    return f"{minutes:02d}:{secs:02d}"

