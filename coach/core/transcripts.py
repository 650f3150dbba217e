"""What a decoder heard, and the pure filters on it: loops cut, inventions rejected, prompts.

An open-vocabulary decoder (Whisper) loops on short audio and invents words on noise; these
rules tell heard text from invented text by the text and the decoder's own scores. Pure: no
device or speech library.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from coach.core.textnorm import normalise_text, phrase_words
from coach.settings.hearing import HallucinationSettings

__all__ = [
    "Decoded",
    "build_prompt",
    "collapse_repeats",
    "compression_ratio",
    "is_hallucination",
    "looks_like_no_speech",
]

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def compression_ratio(text: str) -> float:
    """Length of the text over its gzip length: high for repetitive text (a loop)."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


@dataclass(frozen=True)
class Decoded:
    """A decoder's answer for one utterance."""

    text: str
    avg_logprob: float
    """Mean log-probability per token of `text`."""
    no_speech_prob: float
    """The decoder's probability that the audio holds no speech."""
    seconds: float
    """Wall-clock time the decode took."""
    encoded: Any = field(default=None, repr=False, compare=False)
    """The decoder's own view of the audio (Whisper's encoder output), kept so other texts
    can be scored against the same audio; None when it kept none."""
    frames: int = 0
    """Frames of real audio (not padding) in `encoded`."""
    heard_as: str = ""
    """The decoder's own text when `text` is a phrase chosen by the second look."""

    @property
    def compression_ratio(self) -> float:
        return compression_ratio(self.text)


def build_prompt(phrases: Sequence[str] | None, max_words: int = 40) -> str | None:
    """A short initial prompt made of the grammar's words, to bias the decoder toward them."""
    if not phrases:
        return None
    # Whole phrases as short sentences: a comma-separated word list made Whisper loop on it
    # ("start, start, start, ...") and lost every "start the ..." command.
    chosen: list[str] = []
    words: set[str] = set()
    for phrase in phrases:
        new = set(phrase_words([phrase])) - words
        if new and len(words | new) <= max_words:
            chosen.append(normalise_text(phrase).capitalize())
            words |= new
    return ". ".join(chosen) + "." if chosen else None


def collapse_repeats(text: str) -> str:
    """ "Pause. Pause. Pau" -> "Pause.": Whisper loops on short audio; keep one copy."""
    words = text.split()
    keys = [normalise_text(w) for w in words]
    for period in range(1, len(words) // 2 + 1):
        if _repeats_with_period(keys, period):
            return " ".join(words[:period])
    # A loop that drifts at the end ("Come again. Come again. Come again again."): three
    # copies in a row at the start are a loop, whatever follows.
    for period in range(1, len(words) // 3 + 1):
        if keys[:period] == keys[period : 2 * period] == keys[2 * period : 3 * period]:
            return " ".join(words[:period])
    # A loop that varies ("Pause and workout. Pause and then workout. Pause and then"): three
    # sentences that start alike in one short utterance.
    sentences = [match.group().strip() for match in _SENTENCE.finditer(text)
                 if normalise_text(match.group())]
    if len(sentences) >= 3 and len({normalise_text(s).split()[0] for s in sentences}) == 1:
        return sentences[0]
    # A loop of two sentences ("Turn it. How do it? Turn it. Turn it."): a short command
    # never says the same sentence twice, so the text ends before the first repeat.
    keys = [normalise_text(sentence) for sentence in sentences]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            return " ".join(sentences[:index])
    return text


def _repeats_with_period(keys: list[str], period: int) -> bool:
    """True if keys repeat the first `period` ones; the last may be cut short."""
    for index in range(period, len(keys)):
        expected = keys[index % period]
        cut_short = index == len(keys) - 1 and expected.startswith(keys[index])
        if keys[index] != expected and not cut_short:
            return False
    return True


def looks_like_no_speech(decoded: Decoded, settings: HallucinationSettings) -> bool:
    """The decoder itself doubts there was speech, and is unsure of its words."""
    return (
        decoded.no_speech_prob > settings.no_speech_threshold
        and decoded.avg_logprob < settings.logprob_threshold
    )


def is_hallucination(
    decoded: Decoded, settings: HallucinationSettings, junk: Collection[str]
) -> bool:
    """True for empty, junk (a text of `junk`), repetitive or improbable transcripts."""
    text = normalise_text(decoded.text)
    if not text or text in junk:
        return True
    if decoded.avg_logprob < settings.logprob_floor:
        return True
    if decoded.compression_ratio > settings.compression_ratio_threshold:
        return True
    return looks_like_no_speech(decoded, settings)
