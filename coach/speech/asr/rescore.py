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
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from coach.speech.asr.base import normalise_text
from coach.textnorm import sound_key

__all__ = ["PhraseShortlist", "RescoreSettings", "choose_phrase"]

_LETTERS = re.compile(r"[^a-z]")


@dataclass(frozen=True)
class RescoreSettings:
    """How many phrases are tried and when one wins (tuned on the spoken bench set)."""

    candidates: int = 5
    """Phrases scored against the audio, at most."""
    margin: float = 3.0
    """A phrase wins if its log-probability is at most this far (nats) below the transcript's."""
    min_length_ratio: float = 0.6
    max_length_ratio: float = 1.6
    """A phrase's letters against the transcript's: a fragment ("next" for "next week we
    travel") or a padded phrase would explain too little or too much of the audio."""
    min_similarity: float = 40.0
    """Character similarity (0..100) a phrase needs with the transcript to be tried."""
    min_letters: int = 4
    """Shorter transcripts ("go", "lol") are too little audio to tell phrases apart."""


def _letters(text: str) -> int:
    return len(_LETTERS.sub("", normalise_text(text)))


def _sounds(text: str) -> str:
    return " ".join(sound_key(word) for word in normalise_text(text).split())


class PhraseShortlist:
    """Grammar phrases that read or sound like a transcript, best first."""

    def __init__(self, phrases: Sequence[str], settings: RescoreSettings | None = None) -> None:
        self.settings = settings or RescoreSettings()
        self._phrases = list(dict.fromkeys(p for p in phrases if normalise_text(p)))
        self._texts = [normalise_text(p) for p in self._phrases]
        self._sounds = [_sounds(p) for p in self._phrases]

    def __len__(self) -> int:
        return len(self._phrases)

    def shortlist(self, heard: str) -> list[str]:
        """Up to `candidates` phrases worth scoring against the audio of `heard`."""
        text = normalise_text(heard)
        letters = _letters(text)
        if letters < self.settings.min_letters or not self._phrases:
            return []
        limit = 4 * self.settings.candidates
        by_text = process.extract(text, self._texts, scorer=fuzz.WRatio, limit=limit)
        by_sound = process.extract(_sounds(text), self._sounds, scorer=fuzz.ratio, limit=limit)
        ranked: dict[int, float] = {}
        for _, score, index in [*by_text, *by_sound]:
            ranked[index] = max(score, ranked.get(index, 0.0))
        chosen: list[str] = []
        for index in sorted(ranked, key=lambda i: ranked[i], reverse=True):
            phrase = self._texts[index]
            ratio = _letters(phrase) / max(1, letters)
            if phrase == text or not (
                self.settings.min_length_ratio <= ratio <= self.settings.max_length_ratio
            ):
                continue
            if fuzz.ratio(phrase, text) < self.settings.min_similarity:
                continue
            chosen.append(self._phrases[index])
            if len(chosen) == self.settings.candidates:
                break
        return chosen


def choose_phrase(
    heard_score: float, phrase_scores: Sequence[float], settings: RescoreSettings
) -> int | None:
    """Index of the phrase that replaces the transcript, or None to keep what was heard.

    Scores are total log-probabilities of each text given the audio (the transcript's too).
    """
    if not phrase_scores:
        return None
    best = max(range(len(phrase_scores)), key=lambda index: phrase_scores[index])
    if phrase_scores[best] >= heard_score - settings.margin:
        return best
    return None
