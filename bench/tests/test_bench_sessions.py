"""The scripted-session bench: placing requests over the coach's lines, and scoring."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from bench.sessions import SETS, Placed, Session, Step, load_sessions, rehearse, score
from coach.content.loader import load_content
from coach.settings import Settings

ROUTINES = Path(__file__).resolve().parents[2] / "routines"


def test_both_script_sets_load_and_name_known_routines_and_intents() -> None:
    content, problems = load_content([ROUTINES])
    assert not problems
    names = {spec.name for spec in content.commands.intents} | {"question"}
    for path in SETS.values():
        sessions = load_sessions(path)
        assert len(sessions) >= 5
        for session in sessions:
            assert session.routine in content.routines
            assert session.steps[0].expect == "start_routine"
            assert {step.expect for step in session.steps} <= names


def test_rehearsal_puts_each_request_over_the_line_kind_it_names() -> None:
    content, _ = load_content([ROUTINES])
    session = Session("t", "core", (
        Step("start the core", "silence", "start_routine", {"routine": ("core",)}),
        Step("what's next", "cue", "whats_next"),
        Step("how long is left", "rest", "time_left"),
        Step("stop", "cue", "stop"),
    ))
    placed = rehearse(content, Settings(), session, [1.0, 0.8, 1.0, 0.5])
    assert placed[0].over_line is None
    cue_texts = {cue.text for r in content.routines["core"].exercises for cue in r.cues}
    assert placed[1].over_line in cue_texts
    assert placed[2].over_line is not None and placed[2].over_line.startswith("Rest")
    assert placed[3].over_line in cue_texts and placed[3].answer_at is not None
    starts = [p.start for p in placed]
    assert all(b - a >= 2.5 for a, b in pairwise(starts))


def _placed() -> list[Placed]:
    return [
        Placed(Step("what's next", "cue", "whats_next"), 10.0, 11.0, "Keep your back flat."),
        Placed(Step("why does it hurt", "rest", "question", {"id": ("causes", "treat")}),
               20.0, 22.0, "Rest 15 seconds."),
        Placed(Step("stop", "cue", "stop"), 30.0, 30.5, "Hips level.", answer_at=32.5),
    ]


def test_a_step_is_acted_on_when_heard_as_meant_and_the_coach_reacts() -> None:
    events = [
        {"type": "heard", "at": 11.4, "start": 10.1, "end": 11.0, "text": "What's next?",
         "intent": "whats_next", "slots": {}, "over_coach": True},
        {"type": "said", "at": 11.4, "text": "Next up: bird dog.", "kind": "reply"},
        {"type": "heard", "at": 22.5, "start": 20.0, "end": 22.0, "text": "why",
         "intent": "question", "slots": {"id": "causes"}, "over_coach": True},
        {"type": "said", "at": 22.5, "text": "Several things.", "kind": "answer"},
        {"type": "heard", "at": 31.0, "start": 30.0, "end": 30.5, "text": "Stop.",
         "intent": "stop", "slots": {}, "over_coach": True},
        {"type": "said", "at": 31.0, "text": "Stop the workout?", "kind": "reply"},
        {"type": "heard", "at": 33.0, "start": 32.5, "end": 32.9, "text": "Yes.",
         "intent": "yes", "slots": {}},
        {"type": "state", "at": 33.0, "state": "idle", "routine": None, "step": None},
    ]
    results, wrong = score(_placed(), events)
    assert [r.acted for r in results] == [True, True, True]
    assert all(r.over_coach for r in results) and wrong == []


@pytest.mark.parametrize("changed", ["no reaction", "wrong entry", "other intent"])
def test_a_step_is_missed_without_the_meant_intent_or_a_reaction(changed: str) -> None:
    heard = {"type": "heard", "at": 11.4, "start": 10.1, "end": 11.0, "text": "What's next?",
             "intent": "whats_next", "slots": {}}
    events: list[dict[str, object]] = [heard]
    if changed != "no reaction":
        events.append({"type": "said", "at": 11.4, "text": "Bird dog.", "kind": "reply"})
    placed = _placed()[:1]
    if changed == "wrong entry":
        placed = [Placed(Step("why", "rest", "question", {"id": ("causes",)}), 10.0, 11.0,
                         "Rest.")]
        heard.update(intent="question", slots={"id": "doms"})
    if changed == "other intent":
        heard.update(intent="stop")
    results, wrong = score(placed, events)
    assert not results[0].acted
    if changed == "other intent":
        assert wrong and wrong[0].startswith("destructive")
