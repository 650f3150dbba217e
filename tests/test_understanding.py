"""The combined decision, and the held-out accuracy figures over the shipped YAML."""

from __future__ import annotations

import pytest

from bench.text_eval import DATA, Figures, evaluate, load_everyday, load_heldout, load_shipped
from coach.content.model import CommandSet, FaqEntry, IntentSpec
from coach.core.echo import EchoFilter
from coach.core.understanding import Understanding
from coach.session.understand import attach_meanings
from coach.settings.session import SessionSettings
from coach.settings.understanding import UnderstandingSettings

COMMANDS = CommandSet(
    intents=(
        IntentSpec("pause", ("pause", "hold on"), barge_in=True),
        IntentSpec("stop", ("stop [the workout]",), barge_in=True, not_alone_over_coach=("end",)),
        IntentSpec("next", ("next [exercise]",), barge_in=True),
        IntentSpec("whats_next", ("what's next",)),
        IntentSpec("pain", ("[ouch] my [lower] back hurts", "ouch", "i felt something pop"),
                   barge_in=True),
    ),
    fillers=("um", "coach"),
)
FAQ = (
    FaqEntry(
        "why-back-hurts-legs",
        ("why does my lower back hurt when i squat", "why does my back hurt on leg day"),
        "Form, overuse, weak core.",
        "",
    ),
    FaqEntry("red-flags", ("when should i see a doctor about my back",), "Sharp pain.", ""),
)


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(COMMANDS, FAQ)


@pytest.mark.parametrize(
    "text",
    ["ouch, my back hurts", "ouch my back hurts when I bend", "I felt something pop in my back"],
)
def test_pain_reports_are_pain(understanding: Understanding, text: str) -> None:
    assert understanding.interpret(text).name == "pain"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("why does my lower back hurt when I squat?", "why-back-hurts-legs"),
        ("my back hurts on leg day, why is that", "why-back-hurts-legs"),
        ("coach when should I see a doctor about my back", "red-flags"),
    ],
)
def test_questions_about_pain_are_questions(
    understanding: Understanding, text: str, entry_id: str
) -> None:
    intent = understanding.interpret(text)
    assert (intent.name, intent.slots) == ("question", {"id": entry_id})
    assert 0.0 < intent.score <= 1.0


def test_exact_command_wins_over_question_form(understanding: Understanding) -> None:
    assert understanding.interpret("what's next?").name == "whats_next"


def test_nothing_for_chatter(understanding: Understanding) -> None:
    assert understanding.interpret("did you see the game last night").name is None
    assert understanding.interpret("um").name is None


def test_phrases_hold_commands_and_questions(understanding: Understanding) -> None:
    phrases = understanding.phrases()
    assert "stop the workout" in phrases
    assert "when should i see a doctor about my back" in phrases
    assert len(phrases) == len(set(phrases))


def test_barge_in_phrases_are_short_stop_pause_next(understanding: Understanding) -> None:
    phrases = set(understanding.barge_in_phrases())
    assert {"pause", "hold on", "stop", "stop the workout", "next", "next exercise"} <= phrases
    for phrase in phrases:
        assert len(phrase.split()) <= 3
        assert understanding.interpret(phrase).name in ("stop", "pause", "resume", "next", "pain")
    assert "how much time is left" not in phrases


@pytest.fixture(scope="module")
def with_meanings() -> Understanding:
    """The shipped understanding: templates, FAQ phrasings and the sentence-meaning model."""
    commands, faq = load_shipped()
    understanding = Understanding(commands, faq)
    assert attach_meanings(understanding) is None
    return understanding


@pytest.fixture(scope="module", params=["with the meaning model", "templates alone"])
def figures(request: pytest.FixtureRequest, with_meanings: Understanding) -> Figures:
    # templates alone: how the coach understands when the model is not installed
    if request.param == "templates alone":
        return evaluate(Understanding(*load_shipped()), *load_heldout())
    return evaluate(with_meanings, *load_heldout())


def test_heldout_sets_are_large_enough(figures: Figures) -> None:
    assert figures.commands >= 150
    assert figures.unrelated >= 150
    assert figures.faq >= 60


def test_heldout_commands_are_understood(figures: Figures) -> None:
    assert figures.understood >= 0.90, figures.misses


def test_heldout_unrelated_sentences_are_rejected(figures: Figures) -> None:
    assert 1.0 - figures.false_accept >= 0.95, figures.misses


def test_heldout_faq_questions_find_their_entry(figures: Figures) -> None:
    assert figures.faq_right >= 0.85, figures.misses


@pytest.mark.parametrize("text", ["sorry", "again", "one more time", "go", "go go go", "last one",
                                  "come on lets go", "keep pushing", "you got this", "almost there",
                                  "okay here we go again", "one more rep"])
def test_gym_exclamations_are_not_commands(text: str, with_meanings: Understanding) -> None:
    # said to a neighbour or shouted by a training partner, never to the coach
    commands, faq = load_shipped()
    assert Understanding(commands, faq).interpret(text).name is None
    assert with_meanings.interpret(text).name is None


# Everyday phrasing (issue 12, item 4), with the sentence-meaning model. Tune and dev sets:
# the figures reached with carrier phrases, wider templates and FAQ phrasings, and the model's
# thresholds (chosen on tune, dev and the original held-out sets); the dev set's misses were
# then taken as classes into the templates (2026-12-03). Held-out set: measured
# after tuning, thresholds rounded down; never tune on it (tests/data/README.md).
EVERYDAY_FLOORS = {
    "everyday_tune": (0.97, 0.0, 0.96),
    "everyday_dev": (0.97, 0.0, 0.92),
    "everyday_heldout": (0.73, 0.04, 0.74),
}
"""Set -> (commands understood at least, unrelated accepted at most, FAQ right at least)."""


@pytest.mark.parametrize("name", sorted(EVERYDAY_FLOORS))
def test_everyday_phrasing_holds_its_figures(name: str, with_meanings: Understanding) -> None:
    figures = evaluate(with_meanings, *load_everyday(DATA / f"{name}.yaml"))
    understood, accepted, faq_right = EVERYDAY_FLOORS[name]
    shown = figures.misses if name == "everyday_tune" else "misses hidden (held-out set)"
    assert figures.understood >= understood, shown
    assert figures.false_accept <= accepted, shown
    assert figures.faq_right >= faq_right, shown


@pytest.fixture(scope="module")
def shipped() -> Understanding:
    """The shipped commands and FAQ, templates alone."""
    return Understanding(*load_shipped())


@pytest.mark.parametrize(("text", "intent"), [
    ("Okay, it's eased off. Let's keep going.", "resume"),
    ("This one kills my wrists. Skip it.", "next"),
    ("My legs are burning. Pause the workout.", "pause"),
    ("Yeah, do it. Stop the workout.", "stop"),  # the yes acknowledges the request
    ("That set was brutal. I'm done.", "stop"),
])
def test_a_request_in_a_sentence_of_its_own_beside_other_talk(
    shipped: Understanding, text: str, intent: str
) -> None:
    got = shipped.interpret(text)
    assert got.name == intent
    # other talk around it is weaker evidence: a destructive request is asked about first
    assert got.score <= UnderstandingSettings().sentence_max_score < SessionSettings(
        ).conversation.destructive_min_score


@pytest.mark.parametrize("text", [
    "Pause. Stop.",  # two different requests: either would be a guess
    "Hold my phone. I'll be right back.",
    "Next week we travel to Spain. It will be warm.",
])
def test_sentences_that_ask_for_nothing_or_for_two_things_decide_nothing(
    shipped: Understanding, text: str
) -> None:
    assert shipped.interpret(text).name is None


def test_a_look_alike_of_a_pain_word_keeps_its_own_score(with_meanings: Understanding) -> None:
    """Soak, the coach's own voice fed back: "don't arch your lower back" came back as
    "... touch ...", whose "touch" is only like "ouch". A pain phrase inside a sentence is
    sure (it stops the exercise even over the coach); a look-alike is as sure as it looks."""
    sure = UnderstandingSettings().pain_report_score
    looks_like = with_meanings.interpret("touch")
    assert looks_like.name == "pain" and looks_like.score < sure
    inside = with_meanings.interpret("ouch my back hurts when i bend over")
    assert inside.name == "pain" and inside.score >= sure


@pytest.mark.parametrize(("text", "lone"), [
    ("let's ready", True),  # the coach's own cue came back so in the soak and resumed
    ("okay ready", True),
    ("yeah break", True),
    ("enough then", True),
    ("can you end", True),
    ("ready", True),
    ("i'm ready to go", False),  # a phrase of its own, not the lone word
    ("that's enough", False),
    ("let's keep going", False),
])
def test_a_lone_word_stays_lone_with_carrier_words_around_it(
    shipped: Understanding, text: str, lone: bool
) -> None:
    intent = shipped.interpret(text)
    assert intent.name is not None
    assert shipped.is_lone_word(intent, intent.text) is lone


def test_the_coachs_cue_heard_as_a_carried_lone_word_does_not_act(
    shipped: Understanding,
) -> None:
    echo = EchoFilter(shipped)
    echo.spoke("Keep your standing leg straight but not locked.", 106.38, 109.4)
    assert echo.judge("Let's ready.", 107.9, 108.8).intent.name is None
    assert echo.judge("Let's ready.", 130.0, 130.9).intent.name == "resume"  # in silence


@pytest.mark.parametrize(("heard", "phrase", "kept"), [
    ("Necks.", "next", True),  # words that mean nothing: the second look is free to choose
    ("How come my lower back pain.", "i popped my lower back", False),  # a question: not pain
    ("How come my lower back pain.", "what causes lower back pain", True),  # another entry
    ("Start the squat.", "start the core", False),  # another routine
    ("can i keep lifting with back pain", "how can i prevent lower back pain", False),
    ("Pause that workout.", "pause the workout", True),
    ("Quiet.", "quieter", True),  # fuzzily "quit": a milder command may correct it
    ("Come on back in.", "come again", True),  # a stray FAQ match: a repeat may correct it
    ("Come on back in.", "stop the workout", False),  # but nothing that loses the place
])
def test_a_second_look_keeps_what_the_words_mean(
    shipped: Understanding, heard: str, phrase: str, kept: bool
) -> None:
    assert shipped.keeps_meaning(heard, phrase) is kept, (
        shipped.interpret(heard), shipped.interpret(phrase))
