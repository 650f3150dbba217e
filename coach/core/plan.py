"""Turn a Routine into timed segments of speech. Pure.

A routine becomes INTRO, then per exercise (and side) an EXERCISE segment, with a REST
segment between exercises. Each segment has a fixed length and the lines said inside it
at offsets from its start. Lines never overlap: the countdown wins over transitions,
transitions over form cues; a cue that finds no free gap is dropped, never the clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum

from coach.content.model import Exercise, Routine, Side
from coach.core.spoken import estimate_seconds, say_about, say_count, say_seconds
from coach.settings.session import PlanSettings

__all__ = [
    "GUESS_PHRASE_PREFIX",
    "REQUIRED_PHRASES",
    "Line",
    "Priority",
    "Segment",
    "SegmentKind",
    "clock_phrases",
    "describe_next",
    "dose",
    "plan_routine",
]

SpeechSeconds = Callable[[str], float]

_PLAN = PlanSettings()
"""The planner's knobs (see coach.settings.session)."""
_EPSILON = 1e-6
"""Float noise to ignore when comparing times (seconds): 1.6 + 0.3 is not quite 1.9."""

REQUIRED_PHRASES = (
    "disclaimer", "routine_intro", "exercise_go", "side_go", "switch_sides", "halfway",
    "ten_seconds", "rep_count", "last_rep", "rest", "dose_timed", "dose_timed_sides",
    "dose_reps", "dose_reps_sides", "side_first", "paused", "already_paused", "not_paused",
    "resumed", "resumed_rest", "resumed_intro", "nothing_running", "time_left",
    "time_left_rest", "time_left_intro", "whats_next", "whats_next_last", "form_none",
    "stopped", "switching", "finished", "help_idle", "help_running", "help_paused",
    "help_stopped",
    "list_routines", "unknown_routine", "pain", "pain_paused", "pain_hold", "more_none",
    "not_understood", "too_long", "louder", "quieter", "speed_fixed", "more_hint",
    "nothing_to_repeat",
    "no_answer", "confirm_stop", "confirm_start_routine", "confirm_previous", "confirm_no",
    "screen_rest", "screen_intro", "workouts_this_week_none", "workouts_this_week_one",
    "workouts_this_week_many", "last_pain", "last_pain_resting", "last_pain_none", "log_off",
    "pain_recurs",
)  # fmt: skip


GUESS_PHRASE_PREFIX = "guess_"
"""Optional lines beside the required ones: `guess_<intent>` asks about a near miss ("Did you
mean: ...?"), `guess_no` answers a no to it; an intent without its line is never guessed."""


class Priority(IntEnum):
    """Who wins when two lines want the same moment. Higher wins."""

    CUE = 1
    REPLY = 2
    TRANSITION = 3
    COUNTDOWN = 4
    URGENT = 5


class SegmentKind(str, Enum):
    INTRO = "intro"
    EXERCISE = "exercise"
    REST = "rest"


@dataclass(frozen=True)
class Line:
    """Something said at `offset` seconds into a segment."""

    offset: float
    text: str
    priority: Priority
    kind: str
    """What the line is: intro, start, how, halfway, ten, count, rep, cue, rest."""


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    seconds: float
    """Length of the segment (seconds)."""
    step: int
    """1-based number of the exercise it belongs to (REST: the exercise coming next)."""
    side: Side | None
    lines: tuple[Line, ...]
    """Sorted by offset."""


def _fmt(phrases: Mapping[str, str], key: str, **fields: object) -> str:
    return phrases[key].format(**fields)


def dose(phrases: Mapping[str, str], exercise: Exercise) -> str:
    """How much of it: "45 seconds", "8 reps each side"."""
    if exercise.reps is not None:
        key = "dose_reps_sides" if exercise.sides else "dose_reps"
        return _fmt(phrases, key, reps=exercise.reps,
                    repetitions=say_count(exercise.reps, "rep"))
    key = "dose_timed_sides" if exercise.sides else "dose_timed"
    return _fmt(phrases, key, seconds=say_seconds(exercise.seconds))


def describe_next(phrases: Mapping[str, str], exercise: Exercise) -> str:
    """Preview of an exercise: "leg swings, 30 seconds each side, left side first"."""
    text = f"{exercise.name}, {dose(phrases, exercise)}"
    if exercise.sides:
        text = _fmt(phrases, "side_first", exercise=text, side=exercise.sides[0].value)
    return text


def _millisecond_at_or_after(seconds: float) -> float:
    """`seconds` rounded to the millisecond, never earlier (beyond float noise)."""
    rounded = round(seconds, 3)
    return rounded if rounded >= seconds - _EPSILON else round(rounded + 0.001, 3)


class _Timeline:
    """Lines being placed in one segment, refusing overlaps."""

    def __init__(self, seconds: float, speech_seconds: SpeechSeconds) -> None:
        self.seconds = seconds
        self._speech_seconds = speech_seconds
        self.lines: list[Line] = []

    def _fits(self, offset: float, text: str) -> bool:
        end = offset + self._speech_seconds(text)
        for line in self.lines:
            other_end = line.offset + self._speech_seconds(line.text)
            gap = _PLAN.gap_s
            if offset < other_end + gap - _EPSILON and line.offset < end + gap - _EPSILON:
                return False
        return True

    def force(self, line: Line) -> None:
        self.lines.append(line)

    def try_add(self, line: Line, slack: float = 0.0, latest_end: float | None = None) -> bool:
        """Place `line` at its offset, or up to `slack` seconds later; False if no room."""
        limit = self.seconds if latest_end is None else latest_end
        duration = self._speech_seconds(line.text)
        for offset in self._candidates(line.offset, slack):
            # Check the offset that is stored: rounding after the check could move a line
            # into its neighbour's gap, or before a fixed cue's second.
            candidate = _millisecond_at_or_after(offset)
            if candidate + duration <= limit and self._fits(candidate, line.text):
                self.lines.append(Line(candidate, line.text, line.priority, line.kind))
                return True
        return False

    def _candidates(self, earliest: float, slack: float) -> list[float]:
        """Offsets to try, earliest first: a half-second grid and the first free moment
        after each placed line (a gap between rep counts is often narrower than the grid)."""
        latest = earliest + slack + _EPSILON
        grid = [earliest + _PLAN.cue_grid_s * step
                for step in range(int(slack / _PLAN.cue_grid_s) + 1)]
        after = [other.offset + self._speech_seconds(other.text) + _PLAN.gap_s
                 for other in self.lines]
        return sorted(offset for offset in {*grid, *after} if earliest <= offset <= latest)

    def sorted(self) -> tuple[Line, ...]:
        return tuple(sorted(self.lines, key=lambda line: (line.offset, -line.priority)))


def _clock_lines(phrases: Mapping[str, str], exercise: Exercise, seconds: float) -> list[Line]:
    """Rep counts, or halfway / 10 seconds / 3-2-1 for a timed exercise."""
    lines: list[Line] = []
    if exercise.reps is not None and exercise.tempo is not None:
        for rep in range(2, exercise.reps + 1):
            text = (
                _fmt(phrases, "last_rep") if rep == exercise.reps
                else _fmt(phrases, "rep_count", rep=rep)
            )
            lines.append(Line((rep - 1) * exercise.tempo, text, Priority.COUNTDOWN, "rep"))
        return lines
    lines.extend(_countdown(phrases, seconds))
    if seconds >= _PLAN.ten_seconds_min_s:
        lines.append(Line(seconds - 10, _fmt(phrases, "ten_seconds"), Priority.TRANSITION, "ten"))
    if seconds >= _PLAN.halfway_min_s:
        lines.append(Line(seconds / 2, _fmt(phrases, "halfway"), Priority.TRANSITION, "halfway"))
    return lines


def _countdown(phrases: Mapping[str, str], seconds: float) -> list[Line]:
    if seconds < 2 * _PLAN.countdown_from:
        return []
    return [
        Line(seconds - n, _fmt(phrases, "rep_count", rep=n), Priority.COUNTDOWN, "count")
        for n in range(_PLAN.countdown_from, 0, -1)
    ]


def clock_phrases(phrases: Mapping[str, str]) -> tuple[str, ...]:
    """The exact words the clock says ("3", "2", "1", "Halfway.", "10 seconds."), so a voice
    can synthesise them before they are due: the countdown must start on its second."""
    countdown = (line.text for line in _countdown(phrases, 2.0 * _PLAN.countdown_from))
    return (*countdown, _fmt(phrases, "halfway"), _fmt(phrases, "ten_seconds"))


def _dose_here(phrases: Mapping[str, str], exercise: Exercise) -> str:
    """The dose of one side (or of the whole exercise): "30 seconds", "8 reps"."""
    if exercise.reps is not None:
        return _fmt(phrases, "dose_reps", reps=exercise.reps,
                    repetitions=say_count(exercise.reps, "rep"))
    return _fmt(phrases, "dose_timed", seconds=say_seconds(exercise.seconds))


def _exercise_segment(
    phrases: Mapping[str, str],
    exercise: Exercise,
    step: int,
    side_index: int,
    speech_seconds: SpeechSeconds,
    say_how: bool = True,
) -> Segment:
    side = exercise.sides[side_index] if exercise.sides else None
    seconds = exercise.seconds
    timeline = _Timeline(seconds, speech_seconds)
    name = exercise.name.capitalize()
    here = _dose_here(phrases, exercise)
    if side is None:
        start = _fmt(phrases, "exercise_go", exercise=name, dose=here)
    elif side_index == 0:
        start = _fmt(phrases, "side_go", exercise=name, side=side.value, dose=here)
    else:
        start = _fmt(phrases, "switch_sides", side=side.value)
    timeline.force(Line(0.0, start, Priority.TRANSITION, "start"))
    for line in sorted(_clock_lines(phrases, exercise, seconds), key=lambda x: -x.priority):
        if line.priority >= Priority.COUNTDOWN:
            timeline.force(line)
        else:
            timeline.try_add(line)
    if say_how and exercise.how and side_index == 0:
        timeline.try_add(
            Line(speech_seconds(start) + _PLAN.gap_s, exercise.how, Priority.TRANSITION, "how"),
            slack=_PLAN.cue_slack_s,
        )
    _place_cues(timeline, exercise, speech_seconds)
    return Segment(SegmentKind.EXERCISE, seconds, step, side, timeline.sorted())


def _place_cues(timeline: _Timeline, exercise: Exercise, speech_seconds: SpeechSeconds) -> None:
    """Fixed cues at their second (or a little later); free cues spread over the gaps."""
    latest_end = timeline.seconds - _PLAN.countdown_from - _PLAN.gap_s
    for cue in exercise.cues:
        if cue.at is not None:
            line = Line(cue.at, cue.text, Priority.CUE, "cue")
            timeline.try_add(line, slack=_PLAN.cue_slack_s, latest_end=latest_end)
    free = [cue for cue in exercise.cues if cue.at is None]
    if not free:
        return
    first = max((line.offset + speech_seconds(line.text) for line in timeline.lines
                 if line.kind in ("start", "how")), default=0.0) + _PLAN.first_cue_after_s
    span = max(0.0, latest_end - first)
    spacing = span / len(free)
    for index, cue in enumerate(free):
        line = Line(first + index * spacing, cue.text, Priority.CUE, "cue")
        timeline.try_add(line, slack=max(_PLAN.cue_slack_s, spacing), latest_end=latest_end)


def _rest_segment(
    phrases: Mapping[str, str],
    seconds: float,
    coming: Exercise,
    step: int,
    speech_seconds: SpeechSeconds,
) -> Segment:
    text = _fmt(phrases, "rest", seconds=say_seconds(seconds), next=describe_next(phrases, coming))
    timeline = _Timeline(seconds, speech_seconds)
    timeline.force(Line(0.0, text, Priority.TRANSITION, "rest"))
    countdown = _countdown(phrases, seconds)
    # A short rest has no room for "3, 2, 1" after the preview: the next "Go" keeps the time.
    if all(timeline.try_add(line) for line in countdown[:1]):
        for line in countdown[1:]:
            timeline.force(line)
    # The set-up line fits better here than between rep counts; the exercise skips it then.
    if coming.how:
        how = Line(speech_seconds(text) + _PLAN.gap_s, coming.how, Priority.TRANSITION, "how")
        latest_end = seconds - _PLAN.countdown_from - _PLAN.gap_s if countdown else seconds
        timeline.try_add(how, latest_end=latest_end)
    return Segment(SegmentKind.REST, seconds, step, None, timeline.sorted())


def intro_text(phrases: Mapping[str, str], routine: Routine) -> str:
    return _fmt(
        phrases,
        "routine_intro",
        name=routine.name,
        count=len(routine.exercises),
        exercises=say_count(len(routine.exercises), "exercise"),
        total=say_about(routine.total_seconds),
        intro=routine.intro.strip(),
        first=describe_next(phrases, routine.exercises[0]),
    )


def plan_routine(
    routine: Routine,
    phrases: Mapping[str, str],
    speech_seconds: SpeechSeconds = estimate_seconds,
) -> tuple[Segment, ...]:
    """All segments of a routine, from intro to the last exercise (the outro is not a segment)."""
    segments = [_intro_segment(phrases, routine, speech_seconds)]
    how_said = bool(routine.exercises[0].how)
    for index, exercise in enumerate(routine.exercises):
        step = index + 1
        for side_index in range(max(1, len(exercise.sides))):
            segments.append(_exercise_segment(
                phrases, exercise, step, side_index, speech_seconds, say_how=not how_said
            ))
        is_last = index == len(routine.exercises) - 1
        if not is_last and exercise.rest_after > 0:
            coming = routine.exercises[index + 1]
            rest = _rest_segment(phrases, exercise.rest_after, coming, step + 1, speech_seconds)
            segments.append(rest)
            how_said = any(line.kind == "how" for line in rest.lines)
        else:
            how_said = False
    return tuple(segments)


def _intro_segment(
    phrases: Mapping[str, str], routine: Routine, speech_seconds: SpeechSeconds
) -> Segment:
    """The intro, then the first exercise's set-up line, so the exercise starts clean."""
    intro = intro_text(phrases, routine)
    lines = [Line(0.0, intro, Priority.TRANSITION, "intro")]
    end = speech_seconds(intro)
    how = routine.exercises[0].how
    if how:
        lines.append(Line(end + _PLAN.gap_s, how, Priority.TRANSITION, "how"))
        end += _PLAN.gap_s + speech_seconds(how)
    # Whole seconds, so every later deadline falls on the routine's exact seconds.
    seconds = float(math.ceil(end + _PLAN.intro_pause_s))
    return Segment(SegmentKind.INTRO, seconds, 1, None, tuple(lines))
