"""The text side of Whisper's second look: which grammar phrases are tried, and when one wins."""

from __future__ import annotations

import pytest

from coach.core.rescore import PhraseShortlist, choose_phrase
from coach.settings.hearing import RescoreSettings

PHRASES = [
    "pause", "pause the workout", "resume", "slower", "louder", "skip ahead", "skip",
    "what's next", "next", "i hurt my back", "how much time is left", "start the warm up",
    "skip this", "skip this one",
]


@pytest.fixture(scope="module")
def shortlist() -> PhraseShortlist:
    return PhraseShortlist(PHRASES, RescoreSettings(candidates=3))


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("Slow it.", "slower"),
        ("Skip my head.", "skip ahead"),
        ("Pause and wear it.", "pause the workout"),
        ("I hurt my mark.", "i hurt my back"),
        ("Loud it.", "louder"),
    ],
)
def test_misheard_command_is_shortlisted(
    shortlist: PhraseShortlist, heard: str, expected: str
) -> None:
    assert expected in shortlist.shortlist(heard)


def test_shortlist_is_bounded_and_skips_the_heard_text(shortlist: PhraseShortlist) -> None:
    found = shortlist.shortlist("pause")
    assert len(found) <= 3
    assert "pause" not in found


@pytest.mark.parametrize("heard", ["Next week we travel to Spain.", "Good morning everybody."])
def test_fragments_and_unlike_phrases_are_not_tried(shortlist: PhraseShortlist, heard: str) -> None:
    """ "next" would explain a fifth of "next week we travel to spain": never a candidate."""
    assert "next" not in shortlist.shortlist(heard)
    assert "what's next" not in shortlist.shortlist(heard)


@pytest.mark.parametrize(
    ("heard", "left_out"),
    [("Skip this song.", "skip this"), ("Pause the music.", "pause"), ("Slower now.", "slower")],
)
def test_phrases_that_leave_out_heard_words_are_not_tried(
    shortlist: PhraseShortlist, heard: str, left_out: str
) -> None:
    """Scores cost nothing for audio a text leaves unexplained: "skip this" would always do
    as well as "skip this song", so it is never a candidate for it."""
    assert left_out not in shortlist.shortlist(heard)


def test_a_phrase_that_replaces_a_word_is_still_tried(shortlist: PhraseShortlist) -> None:
    assert "skip this one" in shortlist.shortlist("Skip this song.")


def test_empty_inputs(shortlist: PhraseShortlist) -> None:
    assert shortlist.shortlist("") == []
    assert PhraseShortlist([]).shortlist("pause") == []


def test_choose_phrase_within_margin() -> None:
    settings = RescoreSettings(margin=4.0)
    assert choose_phrase(-10.0, [-20.0, -13.0, -12.5], settings) == 2
    assert choose_phrase(-10.0, [-14.5, -16.0], settings) is None
    assert choose_phrase(-10.0, [], settings) is None
    assert choose_phrase(-10.0, [-8.0], settings) == 0


def test_a_question_phrase_has_its_own_margin() -> None:
    settings = RescoreSettings(margin=3.0, question_margin=10.0)
    # a FAQ phrasing 8 nats below what was heard wins; a command phrase as far below does not
    assert choose_phrase(-10.0, [-18.0], settings, [True]) == 0
    assert choose_phrase(-10.0, [-18.0], settings, [False]) is None
    # of the phrases within their margins, the likeliest
    assert choose_phrase(-10.0, [-14.0, -19.0, -17.0], settings, [False, True, True]) == 2
    assert choose_phrase(-10.0, [-12.0, -19.0], settings, [False, True]) == 0


@pytest.mark.parametrize(
    ("phrase", "heard", "covers"),
    [
        ("Quieter.", "Cli-tut.", True),
        ("what's next", "I'm going to start the warm up.", False),  # explains a third of it
        ("skip this", "Skip this song.", False),  # the heard words, some left out
        ("skip this one", "Keep this one.", True),
    ],
)
def test_a_reading_must_account_for_all_that_was_heard(
    shortlist: PhraseShortlist, phrase: str, heard: str, covers: bool
) -> None:
    assert shortlist.covers(phrase, heard) is covers


def test_a_phrase_the_audio_hardly_supports_never_wins() -> None:
    settings = RescoreSettings(margin=3.0, min_word_logprob=-6.5)
    # the decoder's own words fit poorly too ("The low." for a greeting in chatter)
    assert choose_phrase(-8.9, [-10.8], settings, [False], ["help"]) is None
    assert choose_phrase(-8.9, [-10.8], settings) == 0  # without the phrases: margin only
    # per word: a longer phrase may score lower in all
    assert choose_phrase(-14.0, [-12.0], settings, [False], ["abort the workout"]) == 0
    assert choose_phrase(-24.7, [-26.4], settings, [False], ["abort the workout"]) is None
