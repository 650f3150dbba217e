"""The workout log: every session written as it happens to a SQLite database.

One transaction per event, in WAL mode with full syncs: a session killed mid-way (kill -9, a
power cut) loses at most the event being written, and the file is never left half-written.
The schema is versioned (`PRAGMA user_version`); opening an older file migrates it, step by
step, and a newer one is refused with a message rather than misread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import CoachError

__all__ = ["ExerciseStatus", "LogError", "PainReport", "WorkoutLog", "WorkoutSummary"]

LOG_FILE = "workouts.sqlite3"
"""The database's name in the user's data folder."""

_MIGRATIONS: Sequence[str] = (
    # 1: workouts, their exercises, pauses, questions and pain reports
    """
    CREATE TABLE workouts (
        id INTEGER PRIMARY KEY,
        routine TEXT NOT NULL,
        routine_name TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        outcome TEXT
    );
    CREATE TABLE exercises (
        id INTEGER PRIMARY KEY,
        workout INTEGER NOT NULL REFERENCES workouts(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        name TEXT NOT NULL,
        side TEXT,
        started REAL NOT NULL,
        ended REAL,
        status TEXT
    );
    CREATE TABLE pauses (
        id INTEGER PRIMARY KEY,
        workout INTEGER NOT NULL REFERENCES workouts(id) ON DELETE CASCADE,
        started REAL NOT NULL,
        ended REAL
    );
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        workout INTEGER REFERENCES workouts(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        text TEXT NOT NULL,
        answer TEXT
    );
    CREATE TABLE pains (
        id INTEGER PRIMARY KEY,
        workout INTEGER REFERENCES workouts(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        routine TEXT,
        exercise TEXT,
        side TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX exercises_of_workout ON exercises(workout);
    CREATE INDEX pains_by_time ON pains(at);
    """,
)
"""Migration N+1 takes a file at schema version N to N+1; the last is the current schema."""

SCHEMA_VERSION = len(_MIGRATIONS)


class LogError(CoachError):
    """The log cannot be read or written; the message says what to do."""


class ExerciseStatus:
    """How an exercise ended."""

    DONE = "done"
    SKIPPED = "skipped"
    CUT_SHORT = "cut short"


@dataclass(frozen=True)
class WorkoutSummary:
    """One workout, as `coach history` lists it; times are Unix seconds."""

    id: int
    routine: str
    routine_name: str
    started: float
    ended: float | None
    outcome: str | None
    """completed, stopped, or None while under way (or when the program was killed)."""
    exercises_done: int
    exercises: int
    pains: int

    @property
    def minutes(self) -> float:
        return max(0.0, ((self.ended or self.started) - self.started) / 60.0)


@dataclass(frozen=True)
class PainReport:
    """A pain report: when, during what, and what was said."""

    at: float
    routine: str | None
    exercise: str | None
    side: str | None
    text: str


class WorkoutLog:
    """The log in one SQLite file. Each write is its own transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise LogError(f"{path}: cannot open the workout log ({exc}); move the file away "
                           "to start a new one, or run without the log (--no-log)") from exc

    def close(self) -> None:
        self._db.close()

    # --- schema -------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise LogError(f"{self.path}: the workout log was written by a newer coach "
                           f"(schema {version}, this one knows {SCHEMA_VERSION}); update coach")
        for number in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _write(self, sql: str, values: Sequence[object]) -> int:
        try:
            with self._transaction():
                cursor = self._db.execute(sql, values)
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: cannot write the workout log ({exc})") from exc
        return int(cursor.lastrowid or 0)

    # --- writing ------------------------------------------------------------------------

    def start_workout(self, routine: str, routine_name: str, at: float) -> int:
        return self._write("INSERT INTO workouts (routine, routine_name, started) "
                           "VALUES (?, ?, ?)", (routine, routine_name, at))

    def end_workout(self, workout: int, at: float, outcome: str) -> None:
        self._write("UPDATE workouts SET ended = ?, outcome = ? WHERE id = ?",
                    (at, outcome, workout))

    def reopen_workout(self, workout: int) -> None:
        """A stopped workout goes on (a stop taken back): under way again."""
        self._write("UPDATE workouts SET ended = NULL, outcome = NULL WHERE id = ?", (workout,))

    def start_exercise(self, workout: int, step: int, name: str, side: str | None,
                       at: float) -> int:
        return self._write("INSERT INTO exercises (workout, step, name, side, started) "
                           "VALUES (?, ?, ?, ?, ?)", (workout, step, name, side, at))

    def end_exercise(self, exercise: int, at: float, status: str) -> None:
        self._write("UPDATE exercises SET ended = ?, status = ? WHERE id = ?",
                    (at, status, exercise))

    def reopen_exercise(self, exercise: int) -> None:
        """An exercise a stop ended goes on (the stop taken back)."""
        self._write("UPDATE exercises SET ended = NULL, status = NULL WHERE id = ?",
                    (exercise,))

    def start_pause(self, workout: int, at: float) -> int:
        return self._write("INSERT INTO pauses (workout, started) VALUES (?, ?)", (workout, at))

    def end_pause(self, pause: int, at: float) -> None:
        self._write("UPDATE pauses SET ended = ? WHERE id = ?", (at, pause))

    def question(self, workout: int | None, at: float, text: str, answer: str | None) -> None:
        self._write("INSERT INTO questions (workout, at, text, answer) VALUES (?, ?, ?, ?)",
                    (workout, at, text, answer))

    def pain(self, workout: int | None, report: PainReport) -> None:
        self._write("INSERT INTO pains (workout, at, routine, exercise, side, text) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (workout, report.at, report.routine,
                                                  report.exercise, report.side, report.text))

    # --- reading ------------------------------------------------------------------------

    def workouts(self) -> list[WorkoutSummary]:
        """Every workout, oldest first."""
        rows = self._read("""
            SELECT w.id, w.routine, w.routine_name, w.started, w.ended, w.outcome,
                   (SELECT COUNT(*) FROM exercises e WHERE e.workout = w.id
                        AND e.status = 'done'),
                   (SELECT COUNT(*) FROM exercises e WHERE e.workout = w.id),
                   (SELECT COUNT(*) FROM pains p WHERE p.workout = w.id)
            FROM workouts w ORDER BY w.started, w.id""", ())
        return [WorkoutSummary(*row) for row in rows]

    def workouts_since(self, since: float) -> int:
        (count,) = self._read("SELECT COUNT(*) FROM workouts WHERE started >= ?", (since,))[0]
        return int(count)

    def pains(self, routine: str | None = None) -> list[PainReport]:
        """Pain reports, newest first; only those during `routine` when given."""
        if routine is None:
            rows = self._read("SELECT at, routine, exercise, side, text FROM pains "
                              "ORDER BY at DESC, id DESC", ())
        else:
            rows = self._read("SELECT at, routine, exercise, side, text FROM pains "
                              "WHERE routine = ? ORDER BY at DESC, id DESC", (routine,))
        return [PainReport(*row) for row in rows]

    def events_of(self, workout: int) -> dict[str, int]:
        """How many exercises, pauses, questions and pain reports a workout has."""
        counts: dict[str, int] = {}
        for table in ("exercises", "pauses", "questions", "pains"):
            (count,) = self._read(f"SELECT COUNT(*) FROM {table} WHERE workout = ?",
                                  (workout,))[0]
            counts[table] = int(count)
        return counts

    def _read(self, sql: str, values: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return list(self._db.execute(sql, values).fetchall())
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: cannot read the workout log ({exc})") from exc

    def forget(self) -> None:
        """Delete everything in it."""
        with self._transaction():
            for table in ("pains", "questions", "pauses", "exercises", "workouts"):
                self._db.execute(f"DELETE FROM {table}")
        self._db.execute("VACUUM")


def now() -> float:
    """Wall-clock time for the log (Unix seconds)."""
    return time.time()
