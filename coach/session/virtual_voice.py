"""A voice that makes no sound: it lasts as long as its words would, on the session clock.

A WAV-file session runs faster than real time on the audio position; its voice is this
one, judged by the same echo rules as a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coach.core.echo import EchoFilter
from coach.core.spoken import estimate_seconds

__all__ = ["AudioClock", "VirtualVoice"]


@dataclass
class AudioClock:
    """The session clock of a WAV file: the audio consumed so far (seconds)."""

    seconds: float = 0.0

    def __call__(self) -> float:
        return self.seconds


class VirtualVoice:
    """A voice on the session clock that takes as long as its words would."""

    def __init__(
        self,
        clock: Callable[[], float],
        echo: EchoFilter,
        speech_seconds: Callable[[str], float] = estimate_seconds,
    ) -> None:
        self._clock = clock
        self._echo = echo
        self._speech_seconds = speech_seconds
        self._until = 0.0
        self._current = ""

    def say(self, text: str, *, interrupt: bool = False) -> float:
        now = self._clock()
        if interrupt:
            self.stop()
        start = max(now, self._until)
        duration = self._speech_seconds(text)
        self._until = start + duration
        self._current = text
        self._echo.spoke(text, start, self._until)
        return duration

    def is_speaking(self) -> bool:
        return self._clock() < self._until

    def stop(self) -> None:
        now = self._clock()
        if now < self._until:
            self._echo.ended(self._current, now)
            self._until = now
