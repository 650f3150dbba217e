"""A small plot of the workout log: minutes of workout per week, weeks with a pain report
marked, as PNG bytes (matplotlib, drawn off-screen)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta

from coach.core.spoken import start_of_week
from coach.store.workout_log import PainReport, WorkoutSummary

__all__ = ["WEEKS", "minutes_per_week", "plot_png"]

WEEKS = 12
"""Weeks shown, ending with this one."""


def minutes_per_week(workouts: Sequence[WorkoutSummary], pains: Sequence[PainReport],
                     now: datetime, weeks: int = WEEKS) -> list[tuple[datetime, float, int]]:
    """(Monday, minutes of workout, pain reports) for each of the last `weeks` weeks."""
    this_week = start_of_week(now)
    starts = [this_week - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    minutes = [0.0] * weeks
    hurts = [0] * weeks

    def week_of(at: float) -> int | None:
        days = (datetime.fromtimestamp(at) - starts[0]).days
        index = days // 7
        return index if 0 <= index < weeks else None

    for workout in workouts:
        index = week_of(workout.started)
        if index is not None:
            minutes[index] += workout.minutes
    for report in pains:
        index = week_of(report.at)
        if index is not None:
            hurts[index] += 1
    return list(zip(starts, minutes, hurts, strict=True))


def plot_png(workouts: Sequence[WorkoutSummary], pains: Sequence[PainReport],
             now: datetime | None = None) -> bytes:
    """The plot as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    weeks = minutes_per_week(workouts, pains, now or datetime.now())
    figure = Figure(figsize=(6.4, 2.8), dpi=100)
    axes = figure.add_subplot()
    labels = [start.strftime("%d %b") for start, _, _ in weeks]
    minutes = [value for _, value, _ in weeks]
    axes.bar(labels, minutes, color="#3ee07a")
    hurt = [(label, value) for label, value, (_, _, count) in zip(labels, minutes, weeks,
                                                                   strict=True) if count]
    if hurt:
        top = max(minutes) or 1.0
        axes.scatter([label for label, _ in hurt], [value + 0.06 * top for _, value in hurt],
                     color="#ff6b6b", marker="v", s=60, label="pain reported", zorder=3)
        axes.legend(loc="upper left", frameon=False)
    axes.set_ylabel("minutes")
    axes.set_title("Workout minutes per week")
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
