"""Which voice speaks: Piper when asked for and working, else pyttsx3 (espeak-ng).

A voice that fails mid-session hands over to pyttsx3 for good, with one warning: a line
must always be said, in whatever voice.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable

from coach.settings.voice import TTS_ENGINES, SynthSettings, VoiceSettings
from coach.voice.playback import Pcm
from coach.voice.tts import CachingSynth, Pyttsx3Synth

__all__ = ["TTS_ENGINES", "FallbackSynth", "make_synth"]

_LOGGER = logging.getLogger(__name__)

class FallbackSynth:
    """`primary`, until it fails once; then `fallback` for the rest of the session."""

    def __init__(self, primary: CachingSynth, fallback: CachingSynth) -> None:
        self._primary: CachingSynth | None = primary
        self._fallback = fallback
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(getattr(self._current(), "name", "tts"))

    @property
    def settings(self) -> VoiceSettings:
        return self._current().settings

    @settings.setter
    def settings(self, value: VoiceSettings) -> None:
        with self._lock:
            if self._primary is not None:
                self._primary.settings = value
            self._fallback.settings = value

    def _current(self) -> CachingSynth:
        with self._lock:
            return self._primary if self._primary is not None else self._fallback

    def synthesize(self, text: str, rate: int | None = None) -> Pcm:
        primary = self._primary
        if primary is not None:
            try:
                return primary.synthesize(text, rate)
            except Exception as exc:  # any engine failure: the line is said by the fallback
                with self._lock:
                    if self._primary is not None:
                        print(f"coach: {getattr(primary, 'name', 'the voice')} stopped working "
                              f"({exc}); speaking with pyttsx3 instead.", file=sys.stderr)
                    self._primary = None
        return self._fallback.synthesize(text, rate)

    def prewarm(self, texts: Iterable[str], rate: int | None = None) -> None:
        for text in texts:
            self.synthesize(text, rate)


def make_synth(voice: VoiceSettings, tuning: SynthSettings) -> Pyttsx3Synth | FallbackSynth:
    """The voice `voice.tts` names, falling back to pyttsx3 when Piper cannot load (said on
    stderr, with what to install)."""
    fallback = Pyttsx3Synth(voice, tuning)
    if voice.tts != "piper":
        return fallback
    from coach.voice.piper_tts import PiperSynth, PiperUnavailableError

    try:
        return FallbackSynth(PiperSynth(voice, tuning), fallback)
    except PiperUnavailableError as exc:
        print(f"coach: {exc}; speaking with pyttsx3 instead.", file=sys.stderr)
        return fallback
