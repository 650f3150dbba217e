"""`coach history`: the workout log as a table, exported as CSV or JSON, or forgotten."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from coach.store.workout_log import LogError, WorkoutLog, WorkoutSummary

__all__ = ["forget", "print_history", "write_export", "write_plot"]

_FIELDS = ("date", "routine", "minutes", "exercises_done", "exercises", "outcome",
           "pain_reports")


def _row(workout: WorkoutSummary) -> dict[str, object]:
    return {
        "date": datetime.fromtimestamp(workout.started).isoformat(timespec="seconds"),
        "routine": workout.routine,
        "minutes": round(workout.minutes, 1),
        "exercises_done": workout.exercises_done,
        "exercises": workout.exercises,
        "outcome": workout.outcome or "not finished",
        "pain_reports": workout.pains,
    }


def write_export(log: WorkoutLog, kind: str, out: TextIO = sys.stdout) -> None:
    """Every workout, oldest first, as CSV (a header line, then a line each) or JSON (a
    list of objects)."""
    rows = [_row(workout) for workout in log.workouts()]
    if kind == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def print_history(log: WorkoutLog, path: Path) -> None:
    """The table: date, routine, minutes, what was completed, pain reports."""
    from rich.console import Console
    from rich.table import Table

    workouts = log.workouts()
    console = Console()
    if not workouts:
        console.print(f"No workouts yet. They are kept in {path}")
        return
    table = Table(title="Workouts", title_justify="left")
    for column, justify in (("date", "left"), ("routine", "left"), ("minutes", "right"),
                            ("completed", "left"), ("pain reports", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for workout in workouts:
        when = datetime.fromtimestamp(workout.started).strftime("%a %d %b %Y %H:%M")
        done = f"{workout.exercises_done} of {workout.exercises} exercises"
        outcome = workout.outcome or "not finished"
        pains = str(workout.pains) if workout.pains else ""
        table.add_row(when, workout.routine_name, f"{workout.minutes:.0f}",
                      f"{done}, {outcome}", f"[bold red]{pains}[/]" if pains else "")
    console.print(table)
    console.print(f"[dim]Kept in {path} (coach history --forget deletes it).[/]")


def forget(log: WorkoutLog, path: Path, *, ask: bool) -> bool:
    """Delete every workout; at a terminal (`ask`), only once the user says yes."""
    count = len(log.workouts())
    if ask:
        answer = input(f"Delete all {count} workouts from {path}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Kept.")
            return False
    log.forget()
    print(f"Forgot {count} workouts.")
    return True


def write_plot(log: WorkoutLog, path: Path) -> None:
    """Minutes per week for the last weeks, pain reports marked, as a PNG at `path`."""
    from coach.session.history_plot import plot_png

    try:
        path.write_bytes(plot_png(log.workouts(), log.pains()))
    except OSError as exc:
        raise LogError(f"{path}: cannot write the plot ({exc.strerror})") from exc
    print(f"Wrote {path}")
