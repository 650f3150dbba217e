"""The session's small parts: event lines, the printer, the disclaimer marker, the loop's
interpreter hand-over."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from coach.content.model import Side
from coach.core.plan import Priority
from coach.core.player import Say, State, StateChanged
from coach.session.disclaimer import DisclaimerMarker
from coach.session.events import (
    HeardEvent,
    InfoEvent,
    SaidEvent,
    SessionEvent,
    StateEvent,
    UtteranceEvent,
    event_of,
)
from coach.session.loop import hand_interpreter_back_quickly
from coach.session.printer import EventPrinter


@pytest.mark.parametrize(("event", "line"), [
    (SaidEvent(1.23456, "Go!", "start"),
     '{"type": "said", "at": 1.235, "text": "Go!", "kind": "start"}'),
    (HeardEvent(2.0, "pause", "pause"),
     '{"type": "heard", "at": 2.0, "text": "pause", "intent": "pause", "slots": {}}'),
    (HeardEvent(2.0, "blah", None, {}, 0.51234, 1.0, over_coach=True),
     '{"type": "heard", "at": 2.0, "text": "blah", "intent": null, "slots": {}, '
     '"start": 0.512, "end": 1.0, "over_coach": true}'),
    (StateEvent(0.0, "intro", "warm-up", 1),
     '{"type": "state", "at": 0.0, "state": "intro", "routine": "warm-up", "step": 1}'),
    (StateEvent(3.0, "exercise", "squat", 2, "left"),
     '{"type": "state", "at": 3.0, "state": "exercise", "routine": "squat", "step": 2, '
     '"side": "left"}'),
    (InfoEvent("Ready. Say “start”."), '{"type": "info", "text": "Ready. Say “start”."}'),
    (UtteranceEvent(0.6081, 1.5, 1.7, "Start the core.", "start_routine",
                    {"routine": "core"}, None),
     '{"start": 0.608, "end": 1.5, "at": 1.7, "text": "Start the core.", '
     '"intent": "start_routine", "slots": {"routine": "core"}, "answer": null}'),
])
def test_each_event_prints_its_json_line(event: SessionEvent, line: str) -> None:
    assert event.to_json() == line


def test_player_outputs_become_events() -> None:
    assert event_of(Say("Go!", 1.0, Priority.TRANSITION, "start")) == SaidEvent(1.0, "Go!",
                                                                                "start")
    changed = StateChanged(State.EXERCISE, 2.0, "squat", 1, Side.LEFT)
    assert event_of(changed) == StateEvent(2.0, "exercise", "squat", 1, "left")


def human(*events: SessionEvent, show_states: bool = False) -> str:
    stream = io.StringIO()
    printer = EventPrinter(False, stream, show_states=show_states)
    for event in events:
        printer(event)
    return stream.getvalue()


def test_printer_for_people() -> None:
    assert human(SaidEvent(61.9996, "Go!", "start")) == "[01:02] coach: Go!\n"
    assert human(HeardEvent(5.0, "start the core", "start_routine", {"routine": "core"})) == (
        "[00:05] heard: 'start the core' -> start_routine routine=core\n")
    assert human(HeardEvent(5.0, "blah", None)) == "[00:05] heard: 'blah' -> (not understood)\n"
    assert human(StateEvent(5.0, "paused", "core", 1)) == ""
    assert human(StateEvent(5.0, "paused", "core", 1), show_states=True) == "[00:05] (paused)\n"
    assert human(InfoEvent("Ready.")) == "Ready.\n"
    assert human(UtteranceEvent(0.6, 1.5, 1.7, "Stop.", "stop", {}, None)) == (
        "   0.60-   1.50  'Stop.' -> stop\n")


def test_printer_json_lines() -> None:
    stream = io.StringIO()
    EventPrinter(True, stream)(InfoEvent("Ready."))
    assert stream.getvalue() == '{"type": "info", "text": "Ready."}\n'


def test_disclaimer_is_due_until_it_was_given(tmp_path: Path) -> None:
    marker = DisclaimerMarker(tmp_path / "state" / "disclaimer-given")
    assert marker.due()
    assert marker.due()  # asking does not mark it: only saying it does
    assert not marker.path.exists()
    marker.given()
    assert marker.path.exists()
    assert not marker.due()
    assert not DisclaimerMarker(marker.path).due()


def test_disclaimer_stays_due_when_the_marker_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    marker = DisclaimerMarker(blocker / "disclaimer-given")  # its folder is a file
    marker.given()
    assert marker.due()


def test_interpreter_hand_over_only_ever_shortens() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        hand_interpreter_back_quickly(0.001)
        assert sys.getswitchinterval() == pytest.approx(0.001)
        hand_interpreter_back_quickly(0.01)
        assert sys.getswitchinterval() == pytest.approx(0.001)
    finally:
        sys.setswitchinterval(before)
