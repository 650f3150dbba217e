"""The workout log: a real SQLite file, written by a real Coach's events, read back by the
coach's voice answers and `coach history`; a session killed with SIGKILL keeps its events."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from coach.content.loader import default_routine_dir, load_content
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import SaidEvent, SessionEvent, fan_out
from coach.session.history import History
from coach.session.history_plot import minutes_per_week, plot_png
from coach.session.workout_recorder import WorkoutRecorder, exercise_status
from coach.store.workout_log import (
    SCHEMA_VERSION,
    LogError,
    PainReport,
    WorkoutLog,
    WorkoutSummary,
)

COACH = Path(sys.executable).parent / "coach"
WALL_START = datetime(2026, 12, 2, 18, 0).timestamp()  # a Wednesday evening


@pytest.fixture(scope="module")
def content():  # type: ignore[no-untyped-def]
    loaded, problems = load_content([default_routine_dir()])
    assert not problems
    return loaded


def session(content, log: WorkoutLog, now: datetime = datetime(2026, 12, 2, 19, 0)):  # type: ignore[no-untyped-def]
    said: list[str] = []

    def keep(event: SessionEvent) -> None:
        if isinstance(event, SaidEvent):
            said.append(event.text)

    recorder = WorkoutRecorder(log, lambda at: WALL_START + at)
    coach = Coach(content, Understanding(content.commands, content.faq), None,
                  fan_out(keep, recorder), history=History(log, content.phrases, lambda: now))
    return coach, recorder, said


def until(coach: Coach, state: str, now: float) -> float:
    """Tick the coach's deadlines from `now` until it enters `state`; the time it did."""
    while coach.player.state.value != state:
        deadline = coach.player.next_deadline()
        assert deadline is not None
        now = max(now, deadline)
        coach.tick(now)
    return now


def test_a_workout_is_written_as_it_happens(content, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = WorkoutLog(tmp_path / "log.sqlite3")
    coach, recorder, said = session(content, log)
    coach.typed("start the warm-up", 0.0)
    first_start = coach.player.next_deadline()
    # the first exercise runs to its end, through a pause
    now = until(coach, "exercise", 0.0)
    coach.typed("pause", now + 5.0)
    coach.typed("resume", now + 65.0)
    here, _ = coach.player.remaining(now + 65.0)
    now = now + 65.0 + here
    coach.tick(now)  # into the rest: the first exercise was done
    now = until(coach, "exercise", now)  # the second exercise
    coach.typed("ouch my back hurts", now + 3.0)  # early in the second exercise
    coach.typed("stop", now + 10.0)
    coach.typed("yes", now + 11.0)
    coach.typed("why does my lower back hurt when i squat", now + 20.0)
    recorder.close(now + 30.0)
    assert first_start is not None

    (workout,) = log.workouts()
    assert (workout.routine, workout.outcome) == ("warm-up", "stopped")
    assert workout.started == pytest.approx(WALL_START)
    assert (workout.exercises_done, workout.exercises, workout.pains) == (1, 2, 1)
    counts = log.events_of(workout.id)
    # two pauses: the one asked for, and the one the pain report made
    assert counts == {"exercises": 2, "pauses": 2, "questions": 0, "pains": 1}
    (pain,) = log.pains()
    assert pain.routine == "warm-up" and pain.exercise is not None
    assert pain.text == "ouch my back hurts"
    # a question outside a workout is kept too
    assert len(list(log._read("SELECT * FROM questions", ()))) == 1

    # what the coach says of it
    coach.typed("how many workouts have i done this week", now + 40.0)
    assert said[-1] == "One workout this week."
    coach.typed("when did my back last hurt", now + 41.0)
    assert said[-1] == f"You last reported pain today, during {pain.exercise}."
    # the next time that routine starts, the coach points it out
    coach.typed("start the warm-up", now + 50.0)
    assert any(line.startswith(f"Last time, your back hurt during {pain.exercise}")
               for line in said[-4:])
    assert not any("Last time" in line for line in said[:-4])
    log.close()


def test_a_stop_taken_back_is_one_workout(content, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = WorkoutLog(tmp_path / "log.sqlite3")
    coach, recorder, _ = session(content, log)
    coach.typed("start the warm-up", 0.0)
    now = until(coach, "exercise", 0.0)
    coach.typed("stop", now + 5.0)
    coach.typed("yes", now + 6.0)
    assert coach.player.state.value == "idle"
    (stopped,) = log.workouts()
    assert stopped.outcome == "stopped"
    coach.typed("resume", now + 40.0)  # the stop was a mistake: carry on
    assert coach.player.state.value == "exercise"
    (going,) = log.workouts()
    assert (going.id, going.outcome, going.ended) == (stopped.id, None, None)
    here, _ = coach.player.remaining(now + 40.0)
    coach.tick(now + 40.0 + here)  # the first exercise runs to its end
    recorder.close(now + 41.0 + here)
    (workout,) = log.workouts()
    assert workout.outcome == "left" and workout.exercises_done == 1
    assert log.events_of(workout.id) == {"exercises": 1, "pauses": 1, "questions": 0,
                                         "pains": 0}
    started, ended = log._read("SELECT started, ended FROM pauses", ())[0]
    assert ended - started == pytest.approx(35.0)


@pytest.mark.parametrize(("left", "length", "status"), [
    (0.0, 45.0, "done"), (0.4, 45.0, "done"), (30.0, 45.0, "skipped"),
    (10.0, 45.0, "cut short"), (22.5, 45.0, "cut short"),
])
def test_how_an_exercise_ended(left: float, length: float, status: str) -> None:
    assert exercise_status(left, length) == status


def test_the_schema_is_versioned_and_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    WorkoutLog(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LogError, match="newer coach"):
        WorkoutLog(path)
    (tmp_path / "broken.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LogError, match="cannot open the workout log"):
        WorkoutLog(tmp_path / "broken.sqlite3")


def test_nothing_logged_gets_the_no_log_line(content) -> None:  # type: ignore[no-untyped-def]
    said: list[str] = []
    coach = Coach(content, Understanding(content.commands, content.faq), None,
                  lambda e: said.append(e.text) if isinstance(e, SaidEvent) else None)
    coach.typed("when did my back last hurt", 1.0)
    assert said == [content.phrases["log_off"]]


def test_two_hours_of_random_commands_leave_every_event_in_the_log(
        content, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = WorkoutLog(tmp_path / "log.sqlite3")
    coach, recorder, _ = session(content, log)
    commands = ["start the warm-up", "start the core", "pause", "resume", "skip",
                "go back", "what's next", "how much time is left", "ouch my back hurts",
                "why does my back hurt when i squat", "stop", "yes", "no", "help"]
    chosen = random.Random(7)
    now, typed = 0.0, {"pain": 0, "question": 0}
    while now < 2 * 3600.0:
        now += chosen.uniform(5.0, 90.0)
        coach.tick(now)
        line = chosen.choice(commands)
        intent = coach.typed(line, now)
        if intent.name in typed:
            typed[intent.name] += 1
    recorder.close(now)
    pains = log._read("SELECT COUNT(*) FROM pains", ())[0][0]
    questions = log._read("SELECT COUNT(*) FROM questions", ())[0][0]
    assert (pains, questions) == (typed["pain"], typed["question"])
    workouts = log.workouts()
    assert workouts and all(w.outcome is not None for w in workouts)  # every one closed
    open_rows = log._read("SELECT COUNT(*) FROM exercises WHERE ended IS NULL", ())[0][0]
    assert open_rows == 0
    log.close()


def test_kill_9_in_the_middle_of_a_routine_keeps_the_session(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "COACH_SETTINGS": str(tmp_path / "x")}
    process = subprocess.Popen([str(COACH), "run", "--text", "--silent", "--json"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=env)
    assert process.stdin is not None and process.stdout is not None
    try:
        for line, wait_for in (("start the warm-up", '"state": "intro"'),
                               ("skip", '"state": "exercise"'),
                               ("ouch my back hurts", '"intent": "pain"'),
                               ("resume", '"state": "exercise"')):
            process.stdin.write(line + "\n")
            process.stdin.flush()
            while wait_for not in (event := process.stdout.readline()):
                assert event, "the session ended"
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()
        process.stdout.close()
    path = tmp_path / "data" / "coach" / "workouts.sqlite3"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    log = WorkoutLog(path)
    (workout,) = log.workouts()
    assert workout.routine == "warm-up" and workout.outcome is None  # killed, not ended
    assert log.events_of(workout.id) == {"exercises": 1, "pauses": 1, "questions": 0,
                                         "pains": 1}
    log.close()
    done = subprocess.run([str(COACH), "history", "--export", "json"], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    (row,) = json.loads(done.stdout)
    assert (row["routine"], row["outcome"], row["pain_reports"]) == ("warm-up",
                                                                     "not finished", 1)
    done = subprocess.run([str(COACH), "history", "--export", "csv"], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines()[0] == (
        "date,routine,minutes,exercises_done,exercises,outcome,pain_reports")
    table = subprocess.run([str(COACH), "history"], env={**env, "COLUMNS": "160"},
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Dynamic warm-up" in table and "not finished" in table
    plot = tmp_path / "weeks.png"
    subprocess.run([str(COACH), "history", "--plot", str(plot)], env=env, check=True,
                   capture_output=True, timeout=120)
    assert plot.read_bytes().startswith(b"\x89PNG\r\n")
    subprocess.run([str(COACH), "history", "--forget", "--yes"], env=env, check=True,
                   capture_output=True, timeout=60)
    assert "No workouts yet" in subprocess.run(
        [str(COACH), "history"], env=env, capture_output=True, text=True, timeout=60,
        check=True).stdout


def test_minutes_per_week_and_the_weeks_with_pain() -> None:
    now = datetime(2026, 12, 2, 19, 0)  # a Wednesday

    def workout(day: datetime, minutes: float) -> WorkoutSummary:
        start = day.timestamp()
        return WorkoutSummary(1, "core", "Core", start, start + 60 * minutes, "completed",
                              3, 3, 0)

    workouts = [workout(datetime(2026, 11, 30, 8), 10.0),  # this Monday
                workout(datetime(2026, 12, 2, 7), 5.0),
                workout(datetime(2026, 11, 12, 7), 20.0),  # three weeks back
                workout(datetime(2025, 1, 1, 7), 99.0)]  # long ago: not shown
    pains = [PainReport(datetime(2026, 11, 13, 7, 5).timestamp(), "core", "plank", None,
                        "ouch")]
    weeks = minutes_per_week(workouts, pains, now)
    assert len(weeks) == 12 and weeks[-1][0] == datetime(2026, 11, 30)
    assert weeks[-1][1:] == (15.0, 0)
    assert weeks[-3][1:] == (0.0, 0)
    assert weeks[-4][1:] == (20.0, 1)
    assert sum(minutes for _, minutes, _ in weeks) == 35.0
    assert plot_png(workouts, pains, now).startswith(b"\x89PNG")
