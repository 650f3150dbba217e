"""Text understanding under any input: no exception, a bounded amount of work (too much at
once is refused with a reply), and the wording bugs a hostile tester found, fixed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.content.loader import load_content
from coach.core.understanding import Understanding
from coach.session.understand import attach_meanings
from coach.settings.understanding import UnderstandingSettings
from tests.test_app import ROUTINES, make_coach, said
from tests.test_cli import coach

ONE_AT_A_TIME = "That's a lot at once. Tell me one thing at a time."
_MOST = UnderstandingSettings().max_words


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    content, errors = load_content([ROUTINES])
    assert not errors
    understanding = Understanding(content.commands, content.faq)
    assert attach_meanings(understanding) is None  # the sentence-meaning model too
    return understanding


_WORDS = st.sampled_from([
    "pause", "stop", "start", "the", "warm", "up", "my", "back", "hurts", "why", "does", "how",
    "much", "time", "is", "left", "next", "please", "coach", ".", ",", "?", "!", "'", "-",
    "tell", "me", "more", "what's", "it's", "i'm", "uh", "3", "1e9", "✓", "é", "\u200b",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=_MOST + 10).map(" ".join))
def test_fuzz_word_salad_always_gets_a_decision(understanding: Understanding,
                                                text: str) -> None:
    intent = understanding.interpret(text)
    assert intent.name is None or isinstance(intent.name, str)
    assert 0.0 <= intent.score <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_any_characters_always_get_a_decision(understanding: Understanding,
                                                   text: str) -> None:
    intent = understanding.interpret(text)
    assert 0.0 <= intent.score <= 1.0


def test_more_words_than_a_request_is_not_understood_at_all(
    understanding: Understanding,
) -> None:
    request = "my back hurts"
    assert understanding.interpret(request).name == "pain"
    padding = " ".join(["and"] * _MOST)
    assert understanding.too_long(f"{padding} {request}")
    assert understanding.interpret(f"{padding} {request}").name is None


def test_a_typed_paragraph_gets_one_thing_at_a_time_and_the_next_line_is_heard() -> None:
    session, events = make_coach()
    session.typed("word " * 2000, 0.0)
    session.typed("list the routines", 1.0)
    assert said(events)[0] == ONE_AT_A_TIME
    assert said(events)[1].startswith("I have")


def test_coach_intent_and_ask_refuse_a_paragraph_in_one_line() -> None:
    for command in ("intent", "ask"):
        result = coach(command, "word " * 3000, check=False)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"coach: that is 3000 words; the coach takes in up to {_MOST} at a time: "
            "ask one thing"
        ]


@pytest.mark.parametrize("text", [
    "start the nonexistent routine", "let's do yoga", "i want to do the pilates routine",
])
def test_asking_for_a_routine_the_coach_lacks_gets_the_ones_it_has(text: str) -> None:
    session, events = make_coach()
    session.typed(text, 0.0)
    (reply,) = said(events)
    assert reply.startswith("I don't know that routine. I have ")
    assert "dynamic warm-up" in reply


@pytest.mark.parametrize("text", ["let's go", "start yoga"])
def test_a_short_phrase_is_not_taken_for_an_unknown_routine(text: str) -> None:
    session, events = make_coach()
    session.typed(text, 0.0)
    assert not any(line.startswith("I don't know that routine") for line in said(events))


def test_time_left_during_the_intro_matches_what_the_intro_said() -> None:
    for routine in ("core", "cool-down", "warm-up"):
        session, events = make_coach()
        session.typed(f"start the {routine}", 0.0)
        session.typed("how much time is left", 1.0)
        intro = next(line for line in said(events) if " exercises, about " in line)
        total = intro.split(", ")[1].split(".")[0]  # "about 6 minutes"
        assert said(events)[-1] == f"We haven't started yet: {total} of " + \
            intro.split(":")[0].lower() + " in all."
