"""Announcement drift on the real-clock loop, and "time left" answers against the schedule.

The coach runs in `coach.session.loop.run_loop` on a monotonic clock (optionally scaled, so 30
routine minutes pass in 3). Its voice timestamps every say() call; the pure
`coach.core.timeline.timeline` of the same routine from the same start is the schedule.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coach.content.model import Content, Exercise, Routine
from coach.core.intents import Intent
from coach.core.player import Say, State, StateChanged
from coach.core.spoken import estimate_seconds
from coach.core.timeline import timeline
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import SaidEvent, SessionEvent
from coach.session.inputs import Input, Typed
from coach.session.loop import run_loop

__all__ = [
    "DriftResult",
    "RecordingVoice",
    "long_routine",
    "match_schedule",
    "parse_seconds",
    "run_drift",
]

_LOGGER = logging.getLogger(__name__)

BENCH_ROUTINE = "bench-long"
TIME_LEFT_QUESTION = "how much time is left"


class RecordingVoice:
    """A voice on the session clock that lasts as long as its words and notes when it spoke."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._until = 0.0
        self.said: list[tuple[float, str]] = []

    def say(self, text: str, *, interrupt: bool = False) -> float:
        now = self._clock()
        self.said.append((now, text))
        duration = estimate_seconds(text)
        self._until = (now if interrupt else max(now, self._until)) + duration
        return duration

    def is_speaking(self) -> bool:
        return self._clock() < self._until

    def stop(self) -> None:
        self._until = min(self._until, self._clock())


def long_routine(content: Content, min_seconds: float) -> Routine:
    """The shipped routines' exercises back to back until the routine lasts `min_seconds`."""
    routines = [content.routines[key] for key in sorted(content.routines)]
    exercises: list[Exercise] = []
    total = 0.0
    while total < min_seconds:
        for exercise in (e for r in routines for e in r.exercises):
            exercises.append(exercise)
            total += exercise.total_seconds + exercise.rest_after
            if total >= min_seconds:
                break
    return dataclasses.replace(
        routines[0], id=BENCH_ROUTINE, name="bench routine", aliases=(),
        exercises=tuple(exercises), source=None,
    )


def match_schedule(
    said: Sequence[tuple[float, str]], schedule: Sequence[Say], lookahead: int = 8
) -> list[float]:
    """Drift (said - due, seconds) of each said line found, in order, in the schedule."""
    drifts: list[float] = []
    position = 0
    for at, text in said:
        for index in range(position, min(position + lookahead, len(schedule))):
            if schedule[index].text == text:
                drifts.append(at - schedule[index].at)
                position = index + 1
                break
    return drifts


_SECONDS = re.compile(r"^(?:(\d+) minutes?)?\s*(?:(\d+) seconds?)?")


def parse_seconds(text: str) -> float | None:
    """Leading "1 minute 30 seconds" / "45 seconds" of a reply -> seconds."""
    found = _SECONDS.match(text.strip())
    if found is None or not any(found.groups()):
        return None
    minutes, seconds = (int(g) if g else 0 for g in found.groups())
    return float(60 * minutes + seconds)


@dataclass
class DriftResult:
    """Drift of announcements and time-left errors for one run."""

    label: str
    scale: float
    routine_seconds: float
    drifts: list[float] = field(default_factory=list)
    time_left_errors: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    error: str | None = None

    def summary(self) -> dict[str, object]:
        wall = [abs(d) / self.scale for d in self.drifts]
        return {
            "label": self.label,
            "clock_scale": self.scale,
            "routine_seconds": round(self.routine_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
            "announcements": len(self.drifts),
            "drift_ms_p50": _ms(np.percentile(wall, 50)) if wall else None,
            "drift_ms_p95": _ms(np.percentile(wall, 95)) if wall else None,
            "drift_ms_max": _ms(max(wall)) if wall else None,
            "drift_routine_ms_max": _ms(max(abs(d) for d in self.drifts)) if wall else None,
            "time_left_questions": len(self.time_left_errors),
            "time_left_error_s_max": round(max(self.time_left_errors), 3)
            if self.time_left_errors
            else None,
            "time_left_error_s_mean": round(float(np.mean(self.time_left_errors)), 3)
            if self.time_left_errors
            else None,
            "error": self.error,
        }


def _ms(seconds: float) -> float:
    return round(1000 * float(seconds), 2)


def run_drift(
    content: Content,
    routine_seconds: float,
    scale: float,
    label: str,
    questions: int = 0,
    seed: int = 11,
    screen: Callable[[SessionEvent], None] | None = None,
    on_clock: Callable[[Callable[[], float]], None] | None = None,
) -> DriftResult:
    """Run a routine of at least `routine_seconds` on the real loop; measure drift.
    `screen` sees every event as well (a screen open during the run); `on_clock` is given
    the session's clock before it starts."""
    routine = long_routine(content, routine_seconds)
    bench_content = dataclasses.replace(content, routines={**content.routines,
                                                           BENCH_ROUTINE: routine})
    epoch = time.monotonic()

    def clock() -> float:
        return (time.monotonic() - epoch) * scale

    said_events: list[SessionEvent] = []

    def sink(event: SessionEvent) -> None:
        said_events.append(event)
        if screen is not None:
            screen(event)

    if on_clock is not None:
        on_clock(clock)
    voice = RecordingVoice(clock)
    coach = Coach(bench_content, Understanding(content.commands, content.faq), voice, sink)
    schedule = timeline(routine, content.phrases, start=0.0)
    events: queue.Queue[Input] = _ScaledQueue(scale)
    start = clock()
    coach.act(Intent("start_routine", {"routine": BENCH_ROUTINE}, 1.0), start)
    lines = [dataclasses.replace(o, at=o.at + start) for o in schedule if isinstance(o, Say)]
    changes = [dataclasses.replace(o, at=o.at + start) for o in schedule
               if isinstance(o, StateChanged)]
    result = DriftResult(label, scale, changes[-1].at - start if changes else 0.0)
    asked = _ask_later(events, clock, scale, start, result.routine_seconds, questions, seed)
    run_loop(coach, events, clock, until_finished=True)
    asked.join(timeout=5.0)
    result.wall_seconds = time.monotonic() - epoch
    result.drifts = match_schedule(voice.said, lines)
    result.time_left_errors = _time_left_errors(said_events, changes)
    return result


class _ScaledQueue(queue.Queue[Input]):
    """run_loop waits on the queue for `deadline - clock()`, a span of clock seconds; with a
    clock running `scale` times faster, the wait must be that many times shorter."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self._scale = scale

    def get(self, block: bool = True, timeout: float | None = None) -> Input:
        return super().get(block, None if timeout is None else timeout / self._scale)


def _ask_later(
    events: queue.Queue[Input],
    clock: Callable[[], float],
    scale: float,
    start: float,
    routine_seconds: float,
    questions: int,
    seed: int,
) -> threading.Thread:
    rng = random.Random(seed)
    span = max(0.0, routine_seconds - 40)
    moments = sorted(start + 20 + rng.uniform(0, span) for _ in range(questions))

    def ask() -> None:
        for moment in moments:
            time.sleep(max(0.0, (moment - clock()) / scale))
            events.put(Typed(TIME_LEFT_QUESTION))

    thread = threading.Thread(target=ask, name="bench-ask", daemon=True)
    thread.start()
    return thread


def _time_left_errors(
    said_events: Sequence[SessionEvent], changes: Sequence[StateChanged]
) -> list[float]:
    """|spoken remaining - scheduled remaining| of the current exercise or rest (seconds)."""
    errors: list[float] = []
    for event in said_events:
        if not isinstance(event, SaidEvent):
            continue
        text = event.text
        if event.kind != "reply" or " left in the " not in text:
            continue
        spoken = parse_seconds(text)
        at = round(event.at, 3)  # as the JSON line says it
        ends = [c.at for c in changes if c.at > at and c.state != State.PAUSED]
        if spoken is None or not ends:
            continue
        errors.append(abs(spoken - (ends[0] - at)))
    return errors
