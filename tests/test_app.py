"""The Coach: decisions routed to player and FAQ, spoken through a fake voice."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from coach.content.loader import load_content
from coach.content.model import Content, IntentName
from coach.core.echo import EchoFilter
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import SessionEvent
from coach.session.inputs import Heard
from coach.session.virtual_voice import VirtualVoice

ROUTINES = Path(__file__).resolve().parent.parent / "routines"


@cache
def shipped() -> tuple[Content, Understanding]:
    content, errors = load_content([ROUTINES])
    assert not errors, errors
    return content, Understanding(content.commands, content.faq)


class FakeVoice:
    """Records what it was asked to say; speaking for a fixed time on a fake clock."""

    def __init__(self) -> None:
        self.said: list[tuple[str, bool]] = []
        self.speaking = False

    def say(self, text: str, *, interrupt: bool = False) -> float:
        self.said.append((text, interrupt))
        return 1.0

    def is_speaking(self) -> bool:
        return self.speaking

    def stop(self) -> None:
        self.speaking = False


def make_coach(voice: FakeVoice | None = None, **kwargs: object) -> tuple[Coach, list[dict]]:
    content, understanding = shipped()
    events: list[dict[str, object]] = []

    def record(event: SessionEvent) -> None:
        events.append(json.loads(event.to_json()))  # as `coach run --json` prints it

    coach = Coach(content, understanding, voice, record, **kwargs)  # type: ignore[arg-type]
    return coach, events


def said(events: list[dict]) -> list[str]:
    return [str(e["text"]) for e in events if e["type"] == "said"]


def test_typed_start_announces_the_routine_and_enters_intro() -> None:
    coach, events = make_coach()
    coach.typed("start the warm up", 0.0)
    assert events[0] == {"type": "heard", "at": 0.0, "text": "start the warm up",
                         "intent": "start_routine", "slots": {"routine": "warm-up"}}
    states = [e for e in events if e["type"] == "state"]
    assert states[0]["state"] == "intro" and states[0]["routine"] == "warm-up"
    assert said(events)[0].startswith("Dynamic warm-up")


def test_disclaimer_comes_once_before_the_first_routine() -> None:
    coach, events = make_coach(disclaimer=True)
    coach.typed("start the core", 0.0)
    coach.typed("stop", 5.0)
    coach.typed("start the core", 6.0)
    lines = said(events)
    assert lines[0].startswith("I'm a coach, not a doctor")
    assert sum("not a doctor" in line for line in lines) == 1


def test_question_then_tell_me_more_gives_details() -> None:
    coach, events = make_coach()
    coach.typed("why does my lower back hurt when I squat", 0.0)
    coach.typed("tell me more", 3.0)
    content, _ = shipped()
    answer_id = events[0]["slots"]["id"]  # type: ignore[index]
    entry = next(e for e in content.faq if e.id == answer_id)
    lines = said(events)
    assert lines[0].startswith(entry.answer)
    assert lines[1] == entry.details


def test_more_without_a_question_says_how_to_ask() -> None:
    coach, events = make_coach()
    coach.typed("tell me more", 0.0)
    content, _ = shipped()
    assert said(events) == [content.phrases["more_none"]]


def test_pain_pauses_a_running_routine_with_red_flag_advice() -> None:
    coach, events = make_coach()
    coach.typed("start the squat routine", 0.0)
    coach.tick(30.0)
    coach.typed("ouch my back hurts", 30.0)
    assert coach.player.state.value == "paused"
    advice = said(events)[-2]
    assert "red flag" in advice and "healthcare professional" in advice


def test_unrelated_speech_does_nothing() -> None:
    coach, events = make_coach(FakeVoice())
    coach.heard(Heard("did you see the game last night", 1.0, 2.5, 2.8))
    assert [e["type"] for e in events] == ["heard"]
    assert events[0]["intent"] is None


def test_cue_is_dropped_while_the_voice_is_still_speaking() -> None:
    voice = FakeVoice()
    coach, events = make_coach(voice)
    coach.typed("start the warm up", 0.0)
    voice.speaking = True
    before = len(voice.said)
    coach.tick(400.0)  # past the whole routine; every cue comes while "speaking"
    kinds = [e.get("kind") for e in events[before:] if e["type"] == "said"]
    assert "cue" not in kinds
    assert "count" in kinds  # the clock is never dropped
    interrupts = [interrupt for _, interrupt in voice.said[before:]]
    assert all(interrupts)  # it cuts off what is playing instead


def test_lines_of_one_moment_queue_behind_each_other() -> None:
    # the first-run disclaimer, then the routine's introduction: both said in full
    voice = FakeVoice()
    coach, _ = make_coach(voice, disclaimer=True)
    voice.speaking = True  # the disclaimer is still playing when the introduction comes
    coach.typed("start the warm up", 5.0)
    assert voice.said[0][0].startswith("I'm a coach, not a doctor")
    # the disclaimer cuts off what played before; the introduction waits for it
    assert [interrupt for _, interrupt in voice.said] == [True, False]
    before = len(voice.said)
    coach.tick(60.0)  # a later moment's lines still cut in
    assert voice.said[before:] and all(interrupt for _, interrupt in voice.said[before:])


def test_wake_word_required_when_set() -> None:
    coach, events = make_coach(wake_word="coach")
    coach.heard(Heard("pause", 0.0, 0.5, 0.8))
    assert events == []
    coach.heard(Heard("coach, start the core", 1.0, 2.0, 2.3))
    assert events[0]["intent"] == "start_routine"


def coach_with_echo() -> tuple[list[float], VirtualVoice, Coach, list[dict[str, Any]]]:
    """A coach whose voice (on a settable clock) is known to its echo filter."""
    clock = [0.0]
    echo = EchoFilter(shipped()[1])
    voice = VirtualVoice(lambda: clock[0], echo)
    coach, events = make_coach(voice=None, echo=echo)
    return clock, voice, coach, events


@pytest.mark.parametrize(
    ("heard", "intent"),
    [("Marching in place. Go.", None), ("pause", "pause"), ("marching in place stop", "stop")],
)
def test_echo_of_own_voice_is_ignored_but_barge_in_works(heard: str, intent: str | None) -> None:
    clock, voice, coach, events = coach_with_echo()
    voice.say("Marching in place. Go.")
    clock[0] = 0.5
    coach.heard(Heard(heard, 0.1, 1.0, 1.3))
    assert events[0]["intent"] == intent
    assert events[0]["over_coach"] is True


def test_a_second_look_phrase_is_not_trusted_over_the_coachs_voice() -> None:
    """The recogniser turned the coach's "lower back down" into "go back one": judged by the
    recogniser's own words, it is the coach's echo. Away from the coach's voice it stands."""
    clock, voice, coach, events = coach_with_echo()
    voice.say("Slowly lower back down.")
    clock[0] = 0.5
    coach.heard(Heard("go back one", 0.1, 1.0, 1.3, heard_as="lower back down"))
    assert events[0]["intent"] is None
    clock[0] = 30.0
    coach.heard(Heard("go back one", 29.0, 29.6, 30.0, heard_as="go back won"))
    assert events[1]["intent"] == "previous"


def test_virtual_voice_queues_and_interrupts() -> None:
    clock = [0.0]
    echo = EchoFilter(shipped()[1])
    voice = VirtualVoice(lambda: clock[0], echo, speech_seconds=lambda _t: 2.0)
    voice.say("one")
    voice.say("two")  # queued after "one": audible 2..4
    assert [(s.start, s.end) for s in echo.overlapping(0, 10)] == [(0.0, 2.0), (2.0, 4.0)]
    clock[0] = 1.0
    voice.say("three", interrupt=True)
    spans = [(s.text, s.start, s.end) for s in echo.overlapping(0, 10)]
    assert spans[-1] == ("three", 1.0, 3.0)
    assert voice.is_speaking()
    clock[0] = 3.5
    assert not voice.is_speaking()


def test_say_that_again_repeats_the_last_line_and_restart_redoes_the_exercise() -> None:
    coach, events = make_coach()
    coach.typed("say that again", 0.0)
    content, _ = shipped()
    assert said(events)[-1] == content.phrases["nothing_to_repeat"]
    coach.typed("start the warm up", 1.0)
    coach.tick(60.0)
    last = said(events)[-1]
    coach.typed("what did you say", 60.5)
    assert said(events)[-1] == last
    coach.typed("do that one again", 61.0)
    assert said(events)[-1].startswith("Go! Marching in place")
    assert coach.player.state.value == "exercise"


def test_over_the_coach_the_second_look_phrase_must_agree_with_the_words() -> None:
    clock, voice, coach, events = coach_with_echo()
    voice.say("Rest 6 seconds. Next up: pause squat, 20 seconds.")
    clock[0] = 2.0
    coach.heard(Heard("next step", 1.0, 1.6, 2.0, heard_as="Next stop."))
    coach.heard(Heard("stop", 1.7, 2.0, 2.2, heard_as="Next stop."))
    heard = [(e["intent"], e["over_coach"]) for e in events if e["type"] == "heard"]
    assert heard == [(None, True), ("stop", True)]


def test_every_intent_the_content_may_name_is_carried_out() -> None:
    coach, _ = make_coach()
    assert coach.handles() == {name.value for name in IntentName}
