"""Closed-set second look at an open-vocabulary transcript.

Whisper writes what it hears, and on a strained or synthetic voice it mishears commands
("slower" as "Slow it", "pause the workout" as "Pause and wear a cup"). When a transcript is
not already something the coach understands, a few grammar phrases that read like it are
scored against the same audio (forced decoding); the best one replaces the transcript when the
audio supports it about as well as what Whisper wrote.

This module is the text side and the decision rule; the scores come from the engine. Pure:
no device or speech library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import zip_longest

from rapidfuzz import fuzz, process

from coach.core.textnorm import normalise_text
from coach.settings.hearing import RescoreSettings

__all__ = ["PhraseShortlist", "choose_phrase"]

_LETTERS = re.compile(r"[^a-z]")
_NON_LETTERS = re.compile(r"[^a-z ]")
_Hit = tuple[str, float, int]
"""rapidfuzz's (choice, score, index)."""


def _letters(text: str) -> int:
    return len(_LETTERS.sub("", normalise_text(text)))


_SKELETON_DIGRAPHS = (("ph", "f"), ("ck", "k"), ("th", "t"), ("sh", "s"), ("ch", "s"),
                      ("qu", "kw"))
_SKELETON_CLASSES = str.maketrans("bpmdtgkcvfzxjwyhlrn", "bbbttkkkffsksw  lrn")
_VOWELS = re.compile(r"[aeiou]+")
_REPEATS = re.compile(r"(.)\1+")


def _skeleton(text: str) -> str:
    """The consonant skeleton of a sentence, similar sounds folded together and every vowel
    run one "a": "skip my head" and "skip ahead" come out alike. For retrieval only."""
    skeleton = _NON_LETTERS.sub("", normalise_text(text))
    for digraph, sound in _SKELETON_DIGRAPHS:
        skeleton = skeleton.replace(digraph, sound)
    skeleton = _VOWELS.sub("a", skeleton.translate(_SKELETON_CLASSES))
    return _REPEATS.sub(r"\1", skeleton)


class PhraseShortlist:
    """Grammar phrases that read or sound like a transcript, best first."""

    def __init__(self, phrases: Sequence[str], settings: RescoreSettings | None = None) -> None:
        self.settings = settings or RescoreSettings()
        self._phrases = list(dict.fromkeys(p for p in phrases if normalise_text(p)))
        self._texts = [normalise_text(p) for p in self._phrases]
        self._skeletons = [_skeleton(p) for p in self._phrases]

    def __len__(self) -> int:
        return len(self._phrases)

    def shortlist(self, heard: str) -> list[str]:
        """Up to `candidates` phrases worth scoring against the audio of `heard`."""
        text = normalise_text(heard)
        letters = _letters(text)
        if letters < self.settings.min_letters or not self._phrases:
            return []
        limit = 4 * self.settings.candidates
        # plain ratios: WRatio's partial matching ranked worse and took ten times as long
        by_text = process.extract(text, self._texts, scorer=fuzz.ratio, limit=limit)
        by_sound = process.extract(_skeleton(text), self._skeletons, scorer=fuzz.ratio,
                                   limit=limit)
        chosen: list[str] = []
        # Alternate the two rankings: each finds slips the other misses.
        fitting_text = [hit for hit in by_text if self._fits(hit[2], text)]
        fitting_sound = [hit for hit in by_sound if self._fits(hit[2], text)]
        for _, _, index in _alternate(fitting_text, fitting_sound):
            phrase = self._phrases[index]
            if phrase not in chosen:
                chosen.append(phrase)
            if len(chosen) == self.settings.candidates:
                break
        return chosen

    def covers(self, phrase: str, heard: str) -> bool:
        """Whether `phrase` could account for the audio Whisper wrote as `heard`: about as
        long, and not `heard` with words left out."""
        text, other = normalise_text(heard), normalise_text(phrase)
        ratio = _letters(other) / max(1, _letters(text))
        return (
            self.settings.min_length_ratio <= ratio <= self.settings.max_length_ratio
            and not _leaves_out_words(other.split(), text.split())
        )

    def _fits(self, index: int, text: str) -> bool:
        """A phrase of about the transcript's length that reads somewhat like it."""
        phrase = self._texts[index]
        return (
            phrase != text
            and fuzz.ratio(phrase, text) >= self.settings.min_similarity
            and self.covers(phrase, text)
        )


def _leaves_out_words(phrase: list[str], heard: list[str]) -> bool:
    """Whether `phrase` is what was heard with some words left out ("skip this" for "skip
    this song"). Forced scores sum over a text's tokens with no cost for audio left
    unexplained, so such a phrase always scores about as well, though Whisper heard more."""
    if len(phrase) >= len(heard):
        return False
    remaining = iter(heard)
    return all(word in remaining for word in phrase)


def _alternate(first: list[_Hit], second: list[_Hit]) -> list[_Hit]:
    merged: list[_Hit] = []
    for pair in zip_longest(first, second):
        merged.extend(hit for hit in pair if hit is not None)
    return merged


def choose_phrase(
    heard_score: float,
    phrase_scores: Sequence[float],
    settings: RescoreSettings,
    questions: Sequence[bool] = (),
    phrases: Sequence[str] = (),
) -> int | None:
    """Index of the phrase that replaces the transcript, or None to keep what was heard.

    Scores are total log-probabilities of each text given the audio (the transcript's too).
    A phrase wins within `settings.margin` of the transcript's score, or within
    `settings.question_margin` when `questions` marks it as a question (see
    `RescoreSettings.question_margin`); of those that do, the likeliest. Given the
    `phrases` themselves, one the audio supports less than `settings.min_word_logprob` per
    word never wins, however poorly the decoder's own words fit (noise, or someone else).
    """
    margins = [
        settings.question_margin if index < len(questions) and questions[index]
        else settings.margin
        for index in range(len(phrase_scores))
    ]
    within = [index for index, score in enumerate(phrase_scores)
              if score >= heard_score - margins[index]
              and (index >= len(phrases) or _per_word(score, phrases[index])
                   >= settings.min_word_logprob)]
    return max(within, key=lambda index: phrase_scores[index]) if within else None


def _per_word(score: float, phrase: str) -> float:
    return score / max(1, len(normalise_text(phrase).split()))
