"""What a screen shows, kept from the session's events.

The terminal dashboard and the web page both draw a `Snapshot` of one `ScreenModel`, so
nothing is worked out twice: the player says where the routine stands at each state change
(its `Progress`), and the countdown is that minus the time since, while the clock runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from coach.content.model import CommandSet
from coach.core.player import Progress
from coach.session.events import HeardEvent, InfoEvent, SaidEvent, SessionEvent, StateEvent

__all__ = ["HeardLine", "ScreenModel", "Snapshot", "labels_of", "outcome_of"]

NOT_CAUGHT = "didn't catch that"
"""What the screen says of a line that meant nothing to the coach."""


@dataclass(frozen=True)
class HeardLine:
    """The last thing heard (or typed, or tapped) and what the coach made of it."""

    text: str
    outcome: str
    """What it did with it ("pause", "start warm-up"), or "didn't catch that"."""
    understood: bool


@dataclass(frozen=True)
class Snapshot:
    """The whole screen at one moment; times in seconds."""

    state: str
    """idle, intro, exercise, rest, paused or finished."""
    routine: str | None
    title: str
    """The exercise (and side), "Rest", or the routine's name; empty when idle."""
    dose: str
    step: int | None
    steps: int | None
    remaining: float | None
    """Left in the current exercise, rest or introduction; None when no routine runs."""
    segment_seconds: float | None
    routine_left: float | None
    routine_seconds: float | None
    running: bool
    """Whether the countdown runs (False while paused or idle)."""
    upcoming: str | None
    said: str
    """The coach's last line."""
    heard: HeardLine | None
    notice: str
    """The last notice that was not the coach speaking ("Microphone lost ...")."""
    level_db: float | None
    """The microphone's level (dBFS); None when nothing listens (typed or file sessions)."""
    engine: str
    """What hears the user: the recogniser's name, "typed" or "file"."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def labels_of(commands: CommandSet) -> dict[str, str]:
    """How commands.yaml says a screen names each intent (`shown_as`), where it says."""
    return {spec.name: spec.shown_as for spec in commands.intents if spec.shown_as}


def outcome_of(event: HeardEvent, labels: Mapping[str, str]) -> HeardLine:
    """What the screen says of a heard line: the intent as `labels` name it (with its slots
    filled in), or its name in words."""
    if event.intent is None:
        return HeardLine(event.text, NOT_CAUGHT, False)
    label = labels.get(event.intent)
    if label is None:
        return HeardLine(event.text, event.intent.replace("_", " "), True)
    try:
        return HeardLine(event.text, label.format(**event.slots), True)
    except (KeyError, IndexError, ValueError):  # a slot it did not come with
        return HeardLine(event.text, event.intent.replace("_", " "), True)


class ScreenModel:
    """Kept up to date by the session's events (it is an event sink) and the microphone's
    level; read by the screens from their own threads."""

    def __init__(self, engine: str, clock: Callable[[], float],
                 labels: Mapping[str, str] | None = None) -> None:
        """`labels`: how to name each intent heard (see `labels_of`)."""
        self._engine = engine
        self._clock = clock
        self._labels: Mapping[str, str] = labels or {}
        self._lock = threading.Lock()
        self._state = "idle"
        self._routine: str | None = None
        self._step: int | None = None
        self._progress: Progress | None = None
        self._progress_at = 0.0
        self._said = ""
        self._heard: HeardLine | None = None
        self._notice = ""
        self._level_db: float | None = None
        self._listeners: list[Callable[[bool], None]] = []

    def subscribe(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(level_only)` after every change, from the thread that made it."""
        self._listeners.append(listener)

    def __call__(self, event: SessionEvent) -> None:
        with self._lock:
            if isinstance(event, StateEvent):
                self._state, self._routine, self._step = event.state, event.routine, event.step
                self._progress, self._progress_at = event.progress, event.at
            elif isinstance(event, SaidEvent):
                self._said = event.text
            elif isinstance(event, HeardEvent):
                self._heard = outcome_of(event, self._labels)
            elif isinstance(event, InfoEvent):
                self._notice = event.text
            else:
                return
        self._changed(level_only=False)

    def level(self, level_db: float) -> None:
        """The microphone's level now (dBFS)."""
        with self._lock:
            self._level_db = level_db
        self._changed(level_only=True)

    def snapshot(self) -> Snapshot:
        now = self._clock()
        with self._lock:
            progress = self._progress
            if progress is None:
                return Snapshot(self._state, None, "", "", None, None, None, None, None, None,
                                False, None, self._said, self._heard, self._notice,
                                self._level_db, self._engine)
            gone = max(0.0, now - self._progress_at) if progress.running else 0.0
            return Snapshot(
                self._state, progress.routine, progress.title, progress.dose, self._step,
                progress.steps, max(0.0, progress.segment_left - gone),
                progress.segment_seconds, max(0.0, progress.routine_left - gone),
                progress.routine_seconds, progress.running, progress.upcoming, self._said,
                self._heard, self._notice, self._level_db, self._engine)

    def _changed(self, level_only: bool) -> None:
        for listener in self._listeners:
            listener(level_only)
