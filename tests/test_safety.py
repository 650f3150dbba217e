"""Safety in the conversation, over the shipped YAML: questions about going on despite pain
get the red-flag answer, pain is heard however it is said, and no answer opens with a bare
yes that sounds like permission heard alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.content.errors import ContentError, ContentFileError
from coach.content.loader import faq_from_yaml, load_content
from coach.content.model import Content, GoingOnRule, IntentName, Routine
from coach.core.safety import asks_to_go_on, held_after_pain
from coach.core.understanding import Understanding

ROUTINES = Path(__file__).resolve().parent.parent / "routines"


@pytest.fixture(scope="module")
def content() -> Content:
    loaded, problems = load_content([ROUTINES])
    assert not [p for p in problems if not p.is_warning], problems
    return loaded


@pytest.fixture(scope="module")
def understanding(content: Content) -> Understanding:
    return Understanding(content.commands, content.faq)


@pytest.mark.parametrize(
    "text",
    [
        "can I keep lifting with back pain",
        "should I keep training if my back hurts",
        "should i stop if my back hurts",
        "do i need to stop if my back starts hurting",
        "is it ok to push through lower back pain",
        "is it safe to keep squatting with a sore back",
        "can i carry on lifting if my back is hurting",
        "can i train through the pain",
        "should i ignore the pain and finish the set",
        "okay is it alright to squat with a sore back",
        "can i still train with back pain",
        "should i work out with back pain",
        "can i keep going with a pulled hamstring",
        # whether going on is safe at all, pain named or not
        "is it safe to go on",
        "is it ok to continue",
        "should i stop",
        "should i keep going",
        "am i ok to keep going",
        "should i push through",
        "is it safe to keep squatting",
    ],
)
def test_going_on_despite_pain_gets_the_red_flag_answer(
    understanding: Understanding, text: str
) -> None:
    intent = understanding.interpret(text)
    assert (intent.name, intent.slots) == (IntentName.QUESTION.value, {"id": "red-flags"})


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("how do i stop my back from hurting", "prevent"),
        ("how do i keep my back from getting hurt", "prevent"),
        ("how can i stop back pain from happening", "prevent"),
        ("is it ok to take ibuprofen for back pain", "pain-medication"),
        ("should i avoid deadlifts if my back hurts", "high-risk-exercises"),
        ("why does my back hurt when i squat", "squat-deadlift-pain"),
        ("my lower back feels tight after training is that normal", "soreness-normal"),
        ("should i keep my chest up when squatting", "neutral-spine-squat"),
    ],
)
def test_other_questions_about_pain_keep_their_answer(
    understanding: Understanding, text: str, entry_id: str
) -> None:
    assert understanding.interpret(text).slots == {"id": entry_id}


def test_the_red_flag_answer_says_stop_and_see_a_professional(content: Content) -> None:
    (entry,) = [entry for entry in content.faq if entry.going_on is not None]
    assert "Stop" in entry.answer and "healthcare professional" in entry.answer


@pytest.mark.parametrize(
    "text",
    [
        "i pulled my hamstring", "i tweaked something", "my back twinged", "that really hurt",
        "i felt a pop", "something's not right in my back", "my back just went",
        "i popped something", "ow i think i just pulled something", "something popped in my back",
        "argh my back's killing me", "i felt a twinge in my back just then",
        "i think i've hurt my knee",
    ],
)
def test_pain_is_heard_however_it_is_said(understanding: Understanding, text: str) -> None:
    assert understanding.interpret(text).name == IntentName.PAIN.value


@pytest.mark.parametrize(
    "text",
    ["that really was a great session", "my back is straight now", "i felt great today",
     "something to drink", "i pulled the bench over"],
)
def test_talk_without_pain_is_not_pain(understanding: Understanding, text: str) -> None:
    assert understanding.interpret(text).name != IntentName.PAIN.value


# --- the rules on their own -----------------------------------------------------------------

RULE = GoingOnRule(
    pain=frozenset({"pain"}), going_on=frozenset({"keep", "stop", "keep going"}),
    unless_after=frozenset({"how"}), asking=(("can", "i"),),
    training=frozenset({"squat", "squatting"}), safe_asking=(("should", "i"),),
)
FAMILIES = {"hurts": "pain"}


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("should i keep going if my back hurts", True),
        ("can i squat with back pain", True),
        ("how do i stop my back from hurting", False),  # the how comes first: prevention
        ("should i keep going", True),  # whether to go on at all: no pain needed
        ("can i take something for the pain", False),  # leave, but not to train
        ("my back hurts so i stop", True),
        ("should i stop", True),
        ("should i keep squatting", True),
        ("should i keep my chest up", False),  # "keep", but not going on
        ("can i stop", False),  # leave to stop is a request, not a safety question
    ],
)
def test_asks_to_go_on(text: str, asks: bool) -> None:
    assert asks_to_go_on(text.split(), RULE, FAMILIES) is asks


SMALL = Routine(id="small", name="Small", aliases=(), intro="", outro="", exercises=())


@pytest.mark.parametrize(
    ("command", "slots", "held"),
    [
        ("next", {}, True), ("previous", {}, True), ("restart", {}, True),
        ("start_routine", {"routine": "small"}, True),
        ("start_routine", {"routine": "other"}, False),
        ("resume", {}, False), ("stop", {}, False), ("time_left", {}, False),
    ],
)
def test_held_after_pain(command: str, slots: dict[str, str], held: bool) -> None:
    assert held_after_pain(command, slots, SMALL) is held


# --- the content checks ---------------------------------------------------------------------

FAQ = """\
bare_openings: ["yes", "it can"]
entries:
  - id: a
    questions: [can bad form hurt]
    answer: Yes. Bad form strains your back.
    details: It can, over time.
  - id: b
    questions: [does water help]
    answer: Yes, water keeps your discs lubricated.
    details: Drink enough water.
"""


def test_an_answer_opening_with_a_bare_yes_is_an_error_with_its_position() -> None:
    with pytest.raises(ContentFileError) as caught:
        faq_from_yaml(FAQ, Path("faq"))
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (5, 13, "the answer opens with a bare 'yes'"),
        (6, 14, "the answer opens with a bare 'it can'"),
        (9, 13, "the answer opens with a bare 'yes'"),
    ]


def test_an_opening_that_says_what_is_true_is_fine() -> None:
    text = FAQ.replace("Yes. Bad", "Bad").replace("It can, over", "Over").replace(
        "Yes, water", "Water")
    assert [entry.id for entry in faq_from_yaml(text, Path("faq"))] == ["a", "b"]


GOING_ON = """\
entries:
  - id: a
    questions: [should i stop]
    answer: Stop and see a healthcare professional.
    details: Sharp pain is a red flag.
    going_on: {pain: [pain], going_on: [keep, "Keep going"], unless_after: [how]}
  - id: b
    questions: [why]
    answer: Because.
    details: Because.
    going_on: {pain: [pain], going_on: [keep]}
"""


def test_going_on_is_checked_with_positions() -> None:
    with pytest.raises(ContentFileError) as caught:
        faq_from_yaml(GOING_ON, Path("faq"))
    errors: list[ContentError] = caught.value.errors
    assert [(e.line, e.message) for e in errors] == [
        (6, "'Keep going' in 'going_on' is not in match form"),
        (11, "a second entry declares 'going_on'"),
    ]
    assert errors[1].hint.endswith("the first is at faq:6:5")


def test_going_on_is_loaded() -> None:
    (entry, _) = faq_from_yaml(GOING_ON.replace(', "Keep going"', "").replace(
        "    going_on: {pain: [pain], going_on: [keep]}\n", ""), Path("faq"))
    assert entry.going_on == GoingOnRule(frozenset({"pain"}), frozenset({"keep"}),
                                         frozenset({"how"}))
