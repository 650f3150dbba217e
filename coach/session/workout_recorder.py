"""Writes a session's workouts to the log as they happen, from the session's events.

A state change says where the routine is; the recorder turns the changes into workouts,
exercises (done, skipped or cut short), pauses, and keeps every question and pain report.
Each is written at once (coach.store.workout_log), so a killed session keeps all but the
event being written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from coach.content.model import IntentName
from coach.core.player import State
from coach.session.events import HeardEvent, SessionEvent, StateEvent
from coach.store.workout_log import ExerciseStatus, LogError, PainReport, WorkoutLog

__all__ = ["Outcome", "WorkoutRecorder", "exercise_status"]

_LOGGER = logging.getLogger(__name__)

_RUNNING = tuple(state.value for state in (State.INTRO, State.EXERCISE, State.REST))
"""The player's states while a routine's clock runs."""
_DONE_WITHIN_S = 0.5
"""An exercise left this close to its end (seconds) was done."""
_SKIPPED_BEFORE = 0.5
"""An exercise left with more than this share still to go was skipped, not cut short."""


class Outcome:
    """How a workout ended."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    LEFT = "left"
    """The session ended (or another routine started) in the middle of it."""


def exercise_status(left_s: float, length_s: float) -> str:
    """How an exercise ended, from the seconds it had left of its length."""
    if left_s <= _DONE_WITHIN_S:
        return ExerciseStatus.DONE
    if length_s > 0 and left_s / length_s > _SKIPPED_BEFORE:
        return ExerciseStatus.SKIPPED
    return ExerciseStatus.CUT_SHORT


@dataclass
class _Exercise:
    row: int
    name: str
    side: str | None
    ends_at: float
    """Session clock time it ends if nothing stops it."""
    length_s: float
    left_when_paused: float | None = None


@dataclass(frozen=True)
class _Stopped:
    """A workout the user stopped, kept until resume takes the stop back or another starts."""

    workout: int
    routine: str
    at: float
    exercise: _Exercise | None
    """The exercise the stop cut, with what it had left."""


class WorkoutRecorder:
    """A session's event sink that keeps the workout log. `wall(at)`: the Unix time of
    session clock time `at`. A log that stops working is reported once and the session goes
    on without it."""

    def __init__(self, log: WorkoutLog, wall: Callable[[float], float]) -> None:
        self._log: WorkoutLog | None = log
        self._wall = wall
        self._workout: int | None = None
        self._routine: str | None = None
        self._exercise: _Exercise | None = None
        self._last_exercise: tuple[str, str | None] | None = None
        self._pause: int | None = None
        self._stopped: _Stopped | None = None

    def __call__(self, event: SessionEvent) -> None:
        if self._log is None:
            return
        try:
            if isinstance(event, StateEvent):
                self._state(event)
            elif isinstance(event, HeardEvent):
                self._heard(event)
        except LogError as exc:
            _LOGGER.warning("%s; the rest of this session is not logged", exc)
            self._log = None

    def close(self, at: float) -> None:
        """The session ends: a workout under way is kept as left at `at`."""
        if self._log is None or self._workout is None:
            return
        try:
            self._end_workout(at, Outcome.LEFT)
        except LogError as exc:
            _LOGGER.warning("%s", exc)

    # --- events ---------------------------------------------------------------------------

    def _state(self, event: StateEvent) -> None:
        assert self._log is not None
        progress = event.progress
        if event.state == "paused":
            if self._workout is None and self._stopped is not None \
                    and self._stopped.routine == event.routine:
                self._take_back_stop()
            else:
                self._paused(event.at)
            return
        if self._pause is not None:
            self._log.end_pause(self._pause, self._wall(event.at))
            self._pause = None
            if self._exercise is not None and event.state == "exercise" and progress is not None:
                self._exercise.ends_at = event.at + progress.segment_left
                self._exercise.left_when_paused = None
                return  # the same exercise carries on
        if event.state in _RUNNING and progress is not None and event.routine is not None:
            if self._routine != event.routine or self._workout is None:
                if self._workout is not None:
                    self._end_workout(event.at, Outcome.LEFT)
                self._workout = self._log.start_workout(event.routine, progress.routine,
                                                        self._wall(event.at))
                self._stopped = None
                self._routine = event.routine
            self._end_exercise(event.at)
            if event.state == "exercise" and progress.exercise is not None:
                row = self._log.start_exercise(self._workout, event.step or 0,
                                               progress.exercise, event.side,
                                               self._wall(event.at))
                self._exercise = _Exercise(row, progress.exercise, event.side,
                                           event.at + progress.segment_left,
                                           progress.segment_seconds)
                self._last_exercise = (progress.exercise, event.side)
        elif event.state == "finished":
            self._end_workout(event.at, Outcome.COMPLETED)
        elif event.state == "idle" and self._workout is not None and self._routine is not None:
            workout, routine, exercise = self._workout, self._routine, self._exercise
            if exercise is not None and exercise.left_when_paused is None:
                exercise.left_when_paused = max(0.0, exercise.ends_at - event.at)
            self._end_workout(event.at, Outcome.STOPPED)
            self._stopped = _Stopped(workout, routine, event.at, exercise)

    def _take_back_stop(self) -> None:
        """Resume took the stop back: the workout and its exercise go on, the time since
        the stop kept as a pause."""
        assert self._log is not None and self._stopped is not None
        stopped, self._stopped = self._stopped, None
        self._log.reopen_workout(stopped.workout)
        self._workout, self._routine = stopped.workout, stopped.routine
        if stopped.exercise is not None:
            self._log.reopen_exercise(stopped.exercise.row)
            self._exercise = stopped.exercise
        self._pause = self._log.start_pause(stopped.workout, self._wall(stopped.at))

    def _paused(self, at: float) -> None:
        assert self._log is not None
        if self._workout is None or self._pause is not None:
            return
        self._pause = self._log.start_pause(self._workout, self._wall(at))
        if self._exercise is not None:
            self._exercise.left_when_paused = max(0.0, self._exercise.ends_at - at)

    def _heard(self, event: HeardEvent) -> None:
        assert self._log is not None
        if event.intent == IntentName.PAIN:
            where = (self._exercise.name, self._exercise.side) if self._exercise else (
                self._last_exercise or (None, None))
            self._log.pain(self._workout, PainReport(self._wall(event.at), self._routine,
                                                     where[0], where[1], event.text))
        elif event.intent == IntentName.QUESTION:
            self._log.question(self._workout, self._wall(event.at), event.text,
                               event.slots.get("id"))

    # --- ends -----------------------------------------------------------------------------

    def _end_exercise(self, at: float) -> None:
        assert self._log is not None
        exercise, self._exercise = self._exercise, None
        if exercise is None:
            return
        left = (exercise.left_when_paused if exercise.left_when_paused is not None
                else max(0.0, exercise.ends_at - at))
        self._log.end_exercise(exercise.row, self._wall(at),
                               exercise_status(left, exercise.length_s))

    def _end_workout(self, at: float, outcome: str) -> None:
        assert self._log is not None
        if self._pause is not None:
            self._log.end_pause(self._pause, self._wall(at))
            self._pause = None
        self._end_exercise(at)
        if self._workout is not None:
            self._log.end_workout(self._workout, self._wall(at), outcome)
        self._workout, self._routine = None, None
