"""The drift bench on a short routine with a fast clock (a second or two of wall time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.timing import long_routine, run_drift
from coach.content.loader import load_content
from coach.content.model import Content

ROUTINES = Path(__file__).resolve().parents[2] / "routines"


@pytest.fixture(scope="module")
def content() -> Content:
    loaded, errors = load_content([ROUTINES])
    assert not errors
    return loaded


def test_long_routine_lasts_at_least_what_was_asked(content: Content) -> None:
    routine = long_routine(content, 900)
    assert routine.total_seconds >= 900
    assert len(routine.exercises) > max(len(r.exercises) for r in content.routines.values())


def test_drift_run_pairs_announcements_and_answers_time_left(content: Content) -> None:
    result = run_drift(content, 40, scale=40.0, label="test", questions=2)
    summary = result.summary()
    assert result.drifts, "no announcement matched its schedule"
    assert summary["drift_ms_max"] is not None
    assert len(result.time_left_errors) == 2
    # Whole seconds are spoken, rounded up: never more than a second (plus clock slack) off.
    assert max(result.time_left_errors) < 1.0 + 40 * 0.1
