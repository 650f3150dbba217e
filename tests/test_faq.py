"""FAQ matching on inline entries and on the shipped faq.yaml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from coach.content.lexicon import shipped_lexicon
from coach.content.loader import load_content
from coach.content.model import FaqEntry
from coach.core.faq import FaqIndex, FaqMatch

ENTRIES = (
    FaqEntry("squat", ("how do i squat correctly", "what is good squat form"), "Sit back.", ""),
    FaqEntry(
        "soreness",
        ("how long does muscle soreness last", "when does soreness peak"),
        "Two or three days.",
        "Delayed onset muscle soreness peaks after one or two days.",
    ),
    FaqEntry("ice", ("should i use heat or ice on my back",), "Either helps.", ""),
)


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(ENTRIES, fillers=("um", "coach"))


def _id(match: FaqMatch) -> str | None:
    return match.entry.id if match.entry is not None else None


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("coach how do I squat right", "squat"),
        ("um how many days will the soreness last", "soreness"),
        ("whats good form for a squat", "squat"),
        ("is ice better than heat for my back", "ice"),
        ("what is delayed onset muscle soreness", "soreness"),
    ],
)
def test_paraphrases_find_their_entry(index: FaqIndex, text: str, entry_id: str) -> None:
    assert _id(index.best(text)) == entry_id


@pytest.mark.parametrize("text", ["how do I bake bread", "what time is it", "nice shoes"])
def test_unrelated_questions_are_rejected(index: FaqIndex, text: str) -> None:
    match = index.best(text)
    assert match.entry is None
    assert match.score < 0.45


def test_exact_phrasing_scores_highest(index: FaqIndex) -> None:
    ranked = index.ranked("when does soreness peak")
    assert ranked[0][0].id == "soreness"
    assert ranked[0][1] > ranked[1][1]


def test_phrases_are_spoken_forms(index: FaqIndex) -> None:
    assert index.phrases()[0] == "how do i squat correctly"
    assert len(index.phrases()) == 5


@pytest.fixture(scope="module")
def shipped() -> tuple[FaqEntry, ...]:
    content, problems = load_content([Path(__file__).resolve().parent.parent / "routines"])
    assert not problems, problems
    return content.faq


def test_every_shipped_entry_is_reached_from_each_of_its_phrasings(
    shipped: tuple[FaqEntry, ...],
) -> None:
    index = FaqIndex(shipped)
    misses = [
        (question, entry.id, _id(index.best(question)))
        for entry in shipped
        for question in entry.questions
        if _id(index.best(question)) != entry.id
    ]
    assert misses == []


def test_misheard_words_are_recovered_by_sound() -> None:
    """Recognisers write "back" as "mac" or "mark"; the common word wins over "pack"."""
    entries = (
        FaqEntry("back", ("why does my back hurt", "is back pain normal", "back soreness"),
                 "Often fatigue.", ""),
        FaqEntry("ice", ("should i use an ice pack",), "Either helps.", ""),
    )
    index = FaqIndex(entries, fillers=())
    assert _id(index.best("why does my mac hurt")) == "back"
    assert _id(index.best("is mark pain normal")) == "back"
    # "bike" sounds like no known word: it weighs against the match as any unknown word does
    assert index.best("why does my bike hurt").score < index.best("why does my mac hurt").score


def test_a_known_word_heard_for_another_is_read_as_the_phrasing_word_it_sounds_like() -> None:
    """ "week" is a word the FAQ uses too; for a phrasing that says "weak" it reads as that."""
    entries = (
        FaqEntry("weak-core", ("can a weak core hurt my back",), "Yes.", ""),
        FaqEntry("progression", ("will my core and back hurt less every week",), "A little.", ""),
    )
    index = FaqIndex(entries, fillers=())
    assert _id(index.best("can a week core hurt my back")) == "weak-core"
    assert _id(index.best("will my core and back hurt less every week")) == "progression"


@pytest.mark.parametrize(
    ("heard", "entry_id"),
    [
        ("Is over training a cause of back pain.", "overuse"),  # Whisper splits the word
        ("why do my dead lifts hurt my lower back", "squat-deadlift-pain"),
        ("What should I do so my back doesn't hurt when I workout?", "prevent"),
        ("tell me about delayed onset muscle soreness", "doms"),
    ],
)
def test_how_recognisers_write_questions_is_understood(
    shipped: tuple[FaqEntry, ...], heard: str, entry_id: str
) -> None:
    assert _id(FaqIndex(shipped).best(heard)) == entry_id


@pytest.mark.parametrize(
    "heard",
    ["it's been a long day", "have you seen my towel", "Are we wrong, humbert.",
     "How many seconds are you doing?", "Can I matter about your talk?",
     # "workout" is the setting of every question, not a topic: this shares only "start"
     # with "when does soreness start after a workout"
     "Start the exercise.", "when does the workout start"],
)
def test_one_shared_word_is_not_a_question(shipped: tuple[FaqEntry, ...], heard: str) -> None:
    # gym talk and misheard chatter share a word with some entry by chance
    assert FaqIndex(shipped).best(heard).entry is None


@pytest.mark.parametrize("asking", ["explain", "describe", "tell me about", "teach me"])
def test_asking_to_be_told_is_not_a_topic_word(
    shipped: tuple[FaqEntry, ...], asking: str
) -> None:
    index = FaqIndex(shipped)
    plain = index.best("the pipe check")
    asked = index.best(f"{asking} the pipe check")
    assert _id(asked) == "pipe-check"
    assert asked.score > plain.score - 0.1


def test_the_index_uses_the_lexicon_it_is_given() -> None:
    entries = (FaqEntry("knee", ("why does my knee ache after squats",), "Load.", ""),)
    no_families = replace(shipped_lexicon(), families={})
    question = "why does my knee hurt after squats"
    shipped = FaqIndex(entries).best(question)
    assert _id(shipped) == "knee"  # "hurt" and "ache" are one family
    assert FaqIndex(entries, lexicon=no_families).best(question).score < shipped.score
