"""Knobs of text understanding (command and FAQ matching) and of how long speech takes.

How each default was chosen: docs/tuning/text.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FaqSettings", "MatchSettings", "SpeechTimingSettings", "TextSettings"]


@dataclass(frozen=True)
class MatchSettings:
    """Knobs of the command matcher, tuned on the templates."""

    threshold: float = 0.8
    """Lowest fuzzy score (0..1) that is accepted."""
    margin: float = 0.04
    """How far the best phrase must beat the best phrase meaning something else (0..1)."""
    candidates: int = 40
    """Phrases pre-selected by the fast character measure before rescoring."""
    word_similarity: float = 0.75
    """Two words count as the same word from this edit similarity (0..1) on."""
    best_fuzzy: float = 0.99
    """Highest score (0..1) a fuzzy match gets, so 1.0 always means an exact phrase."""
    max_expansions: int = 20_000
    """Most sentences one template may expand to; more means a template is too loose."""


@dataclass(frozen=True)
class FaqSettings:
    """Knobs of the FAQ matcher, tuned leave-one-out on the phrasings."""

    threshold: float = 0.45
    """Lowest score (0..1) that is accepted."""
    phrasing_weight: float = 0.5
    """Share of the closest phrasing (content words) in the score."""
    entry_weight: float = 0.3
    """Share of the whole entry (all phrasings, answer, details) in the score."""
    character_weight: float = 0.2
    """Share of the character measure against the closest phrasing."""
    word_similarity: float = 0.88
    """An unknown word is read as a known one from this character similarity (0..1) on."""
    min_prefix: int = 5
    """An unknown word that starts with a known one of at least this length is that word."""
    min_content_words: int = 2
    """Questions naming fewer topic words ("what time is it") must be near-verbatim."""
    verbatim: float = 0.9
    """Character similarity (0..1) from which a question counts as near-verbatim."""
    min_sound_letters: int = 3
    """An unknown word this long or longer may be read as the one known word it sounds like."""
    min_shared_words: int = 2
    """Topic words (not question framing) a question must share with one of an entry's
    phrasings, unless near-verbatim: one shared word ("long day", "my towel") is chance."""
    sound_majority: int = 3
    """Of known words sharing a sound key, the most used one stands for the key only if it is
    used at least this many times as often as the others together ("back" over "pack")."""


@dataclass(frozen=True)
class SpeechTimingSettings:
    """How long speech is guessed to take when its real synthesised length is unknown."""

    words_per_minute: int = 165
    """Speaking rate of the default voice; espeak-ng's own default is 175."""
    pause_seconds: float = 0.15
    """Added for each punctuation pause inside a sentence (seconds)."""
    start_seconds: float = 0.25
    """Added once for the voice to start (seconds); the guess errs long on purpose."""


@dataclass(frozen=True)
class TextSettings:
    """Everything above, as one branch of the settings tree."""

    match: MatchSettings = field(default_factory=MatchSettings)
    """Command matching."""
    faq: FaqSettings = field(default_factory=FaqSettings)
    """FAQ matching."""
    speech_timing: SpeechTimingSettings = field(default_factory=SpeechTimingSettings)
    """Guessed length of speech."""
