"""What the coach says of past workouts, from the workout log: how many this week, when the
back last hurt, and a warning at a routine's start where it hurt before."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from coach.core.spoken import say_when, start_of_week
from coach.store.workout_log import WorkoutLog

__all__ = ["History"]


class History:
    """Answers from the log. `now()`: the local time now."""

    def __init__(self, log: WorkoutLog, phrases: Mapping[str, str],
                 now: Callable[[], datetime] = datetime.now) -> None:
        self._log = log
        self._phrases = phrases
        self._now = now

    def workouts_this_week(self) -> str:
        since = start_of_week(self._now()).timestamp()
        count = self._log.workouts_since(since)
        if count == 0:
            return self._phrases["workouts_this_week_none"]
        if count == 1:
            return self._phrases["workouts_this_week_one"]
        return self._phrases["workouts_this_week_many"].format(count=count)

    def last_pain(self) -> str:
        reports = self._log.pains()
        if not reports:
            return self._phrases["last_pain_none"]
        last = reports[0]
        when = say_when(datetime.fromtimestamp(last.at), self._now())
        if last.exercise is None:
            return self._phrases["last_pain_resting"].format(when=when)
        return self._phrases["last_pain"].format(when=when, exercise=last.exercise)

    def plot_png(self) -> bytes:
        """Minutes per week, pain reports marked (coach.session.history_plot)."""
        from coach.session.history_plot import plot_png

        return plot_png(self._log.workouts(), self._log.pains(), self._now())

    def warning(self, routine: str) -> str | None:
        """The warning for a routine about to start: the exercise of the newest pain
        report made during it, if any."""
        for report in self._log.pains(routine):
            if report.exercise is not None:
                return self._phrases["pain_recurs"].format(exercise=report.exercise)
        return None
