"""Template expansion and command matching, on inline command sets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coach.content.lexicon import shipped_lexicon
from coach.content.model import CommandSet, IntentSpec
from coach.core.intents import Intent, IntentMatcher, expand_template
from coach.core.textnorm import sound_key
from coach.settings.text import MatchSettings

SLOTS = {"routine": {"warm up": "warm-up", "warmup": "warm-up", "core": "core"}}
COMMANDS = CommandSet(
    intents=(
        IntentSpec("start_routine", ("(start | begin) [the] {routine} [routine]",)),
        IntentSpec("pause", ("pause [the workout]", "hold on")),
        IntentSpec("resume", ("(resume | continue) [the workout]",)),
        IntentSpec("next", ("next [exercise]", "skip [this one]")),
        IntentSpec("whats_next", ("what's next",)),
    ),
    slots=SLOTS,
    fillers=("um", "please", "coach", "hey coach", "okay"),
)


@pytest.fixture(scope="module")
def matcher() -> IntentMatcher:
    return IntentMatcher(COMMANDS)


def test_expand_template_fills_slots_and_optionals() -> None:
    expanded = expand_template("(start | begin) [the] {routine}", SLOTS)
    assert ("start the warm up", (("routine", "warm-up"),)) in expanded
    assert ("begin core", (("routine", "core"),)) in expanded
    # "warm up" and "warmup" are two spoken values: 2 verbs x 2 articles x 3 values.
    assert len(expanded) == 12


def test_expand_template_rejects_unknown_slot() -> None:
    with pytest.raises(ValueError, match="unknown slot"):
        expand_template("start {nothing}", SLOTS)


def test_expand_template_rejects_bad_syntax() -> None:
    with pytest.raises(ValueError, match="bad template"):
        expand_template("start (the | a", SLOTS)


def test_exact_phrase_scores_one(matcher: IntentMatcher) -> None:
    intent = matcher.match("Start the warm-up routine!")
    expected = Intent("start_routine", {"routine": "warm-up"}, 1.0, "start the warm up routine")
    assert intent == expected


def test_fillers_are_ignored(matcher: IntentMatcher) -> None:
    assert matcher.match("um hey coach pause please").name == "pause"
    assert matcher.match("okay coach").name is None


@pytest.mark.parametrize(
    ("text", "name"),
    [("pawse", "pause"), ("nest exercise", "next"), ("the workout pause", "pause")],
)
def test_small_slips_and_word_order_are_tolerated(
    matcher: IntentMatcher, text: str, name: str
) -> None:
    intent = matcher.match(text)
    assert intent.name == name
    assert intent.score < 1.0


def test_dangling_article_is_dropped(matcher: IntentMatcher) -> None:
    assert matcher.match("resume the") == Intent("resume", {}, 1.0, "resume")


@pytest.mark.parametrize(("text", "name"), [("and resume", "resume"), ("then next", "next"),
                                             ("and then pause", "pause")])
def test_leading_conjunction_is_dropped(matcher: IntentMatcher, text: str, name: str) -> None:
    assert matcher.match(text) == Intent(name, {}, 1.0, name)


def test_slip_in_slot_value_keeps_slot(matcher: IntentMatcher) -> None:
    assert matcher.match("star the core").slots == {"routine": "core"}


@pytest.mark.parametrize(
    "text", ["did you start the car", "next song please", "what time is it", "wow", "hello"]
)
def test_unrelated_text_is_rejected(matcher: IntentMatcher, text: str) -> None:
    intent = matcher.match(text)
    assert intent.name is None
    assert intent.slots == {}


def test_ambiguous_text_is_rejected_by_margin() -> None:
    commands = CommandSet(
        intents=(IntentSpec("a", ("turn the light on",)), IntentSpec("b", ("turn the light off",))),
    )
    assert IntentMatcher(commands).match("turn the light of").name is None


def test_phrases_are_deduplicated_and_spoken(matcher: IntentMatcher) -> None:
    phrases = matcher.phrases()
    assert len(phrases) == len(set(phrases))
    assert "what's next" in phrases
    assert "start the warm up routine" in phrases


def test_vocabulary_holds_phrase_and_filler_words(matcher: IntentMatcher) -> None:
    assert {"pause", "warmup", "what's", "coach", "um"} <= matcher.vocabulary()


def test_conflicting_phrases_are_reported() -> None:
    commands = CommandSet(intents=(IntentSpec("a", ("go on",)), IntentSpec("b", ("go on",))))
    assert IntentMatcher(commands).conflicts == [("go on", "a", "b")]


def test_mentions_finds_a_phrase_inside_a_sentence(matcher: IntentMatcher) -> None:
    assert matcher.mentions("well hold on a second", "pause")
    assert not matcher.mentions("well hold it", "pause")


@pytest.mark.parametrize(
    ("first", "second"),
    [("back", "mac"), ("back", "mag"), ("back", "mark"), ("bad", "mad"), ("core", "core")],
)
def test_words_that_sound_alike_share_a_key(first: str, second: str) -> None:
    assert sound_key(first) == sound_key(second)


@pytest.mark.parametrize(("first", "second"), [("back", "big"), ("back", "neck"), ("leg", "end")])
def test_words_that_sound_apart_keep_apart(first: str, second: str) -> None:
    assert sound_key(first) != sound_key(second)


def test_shortening_of_two_intents_phrases_is_not_either() -> None:
    # "turn it" is "turn it up" or "turn it down" without the word that decides
    commands = CommandSet(intents=(IntentSpec("louder", ("turn it up",)),
                                   IntentSpec("quieter", ("turn it down",))))
    matcher = IntentMatcher(commands)
    assert matcher.match("turn it").name is None
    assert matcher.match("turn it upp").name == "louder"


def test_the_matcher_uses_the_lexicon_it_is_given() -> None:
    lexicon = replace(shipped_lexicon(), dangling=frozenset(), leading=frozenset())
    matcher = IntentMatcher(COMMANDS, lexicon=lexicon)
    assert matcher.normalise("and resume the") == "and resume the"
    assert IntentMatcher(COMMANDS).normalise("and resume the") == "resume"


def test_a_template_too_loose_for_the_settings_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 3 sentences"):
        expand_template("(a | b) (c | d)", {}, MatchSettings(max_expansions=3))
