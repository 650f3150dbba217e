"""A session's workout log: opened once per typed or hands-free session, written by a
WorkoutRecorder from the session's events, asked by the Coach through History."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coach.session.events import SessionEvent
from coach.session.history import History
from coach.session.workout_recorder import WorkoutRecorder
from coach.settings import Settings
from coach.store.workout_log import LOG_FILE, LogError, WorkoutLog

__all__ = ["Logbook", "log_path", "open_logbook"]


def log_path() -> Path:
    """Where the log lives: the user's data folder (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("coach")) / LOG_FILE


@dataclass(frozen=True)
class Logbook:
    """The session's recorder (an event sink) and the coach's answers from the log."""

    record: Callable[[SessionEvent], None]
    history: History | None


@contextmanager
def open_logbook(settings: Settings, phrases: Mapping[str, str],
                 clock: Callable[[], float]) -> Iterator[Logbook]:
    """The log for one session on `clock`, for a `with` block; a log turned off, or one
    that cannot be opened (said on stderr, once), records nothing and answers nothing."""
    if not settings.log.enabled:
        yield Logbook(lambda event: None, None)
        return
    try:
        log = WorkoutLog(log_path())
    except LogError as exc:
        print(f"coach: {exc}. This session is not logged.", file=sys.stderr)
        yield Logbook(lambda event: None, None)
        return
    wall_start = time.time() - clock()
    recorder = WorkoutRecorder(log, lambda at: wall_start + at)
    try:
        yield Logbook(recorder, History(log, phrases))
    finally:
        recorder.close(clock())
        log.close()
