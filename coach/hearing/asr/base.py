"""Recognizer protocol, transcript message and helpers shared by all speech engines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from coach.errors import CoachError

__all__ = [
    "SAMPLE_RATE",
    "EngineUnavailableError",
    "IsComplete",
    "KeepsMeaning",
    "Pcm",
    "Recognizer",
    "Transcript",
    "samples_to_seconds",
]

SAMPLE_RATE = 16_000
"""Sample rate every engine takes (hertz)."""

Pcm = npt.NDArray[np.int16]
"""Mono 16-bit PCM samples."""

IsComplete = Callable[[str], bool]
"""Early-decision hook: True when the text so far is a whole command (close without waiting)."""

KeepsMeaning = Callable[[str, str], bool]
"""Second-look hook: True when a grammar phrase (second) may replace the engine's own words
(first), i.e. it does not change what the words mean to the coach."""


@dataclass(frozen=True)
class Transcript:
    """One decided utterance."""

    start: float
    """Start of the utterance (seconds of audio from the start of the stream)."""
    end: float
    """End of the utterance (seconds of audio from the start of the stream)."""
    at: float
    """Seconds of audio consumed when the utterance was decided (`at - end` is the latency)."""
    text: str
    """Recognised text, as the engine wrote it."""
    confidence: float
    """Engine's confidence in the text, 0..1."""
    heard_as: str = ""
    """The engine's own words when `text` is a grammar phrase put in their place (Whisper's
    second look); empty when `text` is what the engine wrote."""


@runtime_checkable
class Recognizer(Protocol):
    """A speech engine fed with a stream of 16 kHz mono int16 audio."""

    name: str
    sample_rate: int

    def accept(self, pcm: Pcm) -> list[Transcript]:
        """Take more audio; return the utterances decided with it."""
        ...

    def flush(self) -> list[Transcript]:
        """End of stream: decide whatever utterance is still open."""
        ...

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        """Listen for these phrases only (a grammar); None means open vocabulary."""
        ...


class EngineUnavailableError(CoachError, RuntimeError):
    """A speech engine's library or model is missing; the message says how to install it."""


def samples_to_seconds(samples: int, sample_rate: int = SAMPLE_RATE) -> float:
    """Sample count -> seconds."""
    return samples / sample_rate
