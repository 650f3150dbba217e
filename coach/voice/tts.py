"""Text-to-speech: text -> trimmed, resampled PCM, cached; pyttsx3 (espeak-ng) here, Piper
in coach.voice.piper_tts.

`coach.voice.espeak` drives the engine; `coach.voice.speaker` plays what this returns, so a
repeated cue ("3", "Rest") starts at once from the cache and can be stopped at any block.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from coach.settings.voice import SynthSettings, VoiceSettings
from coach.voice import espeak
from coach.voice.playback import Pcm

__all__ = [
    "CachingSynth",
    "Pyttsx3Synth",
    "resample",
    "trim_silence",
]


def trim_silence(pcm: Pcm, settings: SynthSettings | None = None) -> Pcm:
    """Cut leading and trailing silence, keeping a short margin, so a cue starts at once."""
    tuning = settings or SynthSettings()
    magnitude = np.abs(pcm.samples.astype(np.int32))
    if magnitude.size == 0 or magnitude.max() == 0:
        return pcm
    loud = np.flatnonzero(magnitude >= magnitude.max() * tuning.trim_threshold)
    margin = int(pcm.rate * tuning.trim_margin_seconds)
    start = max(0, int(loud[0]) - margin)
    end = min(len(pcm.samples), int(loud[-1]) + 1 + margin)
    return Pcm(pcm.samples[start:end].copy(), pcm.rate)


def resample(pcm: Pcm, rate: int) -> Pcm:
    """`pcm` at `rate` (soxr, high quality)."""
    if pcm.rate == rate:
        return pcm
    import soxr

    samples: npt.NDArray[np.int16] = soxr.resample(pcm.samples, pcm.rate, rate)
    return Pcm(np.asarray(samples, dtype=np.int16), rate)


def _seconds(pcm: Pcm) -> float:
    return len(pcm.samples) / pcm.rate if pcm.rate else 0.0


class CachingSynth:
    """Text -> Pcm, trimmed, resampled and cached (LRU); `_render` makes the speech."""

    def __init__(
        self, settings: VoiceSettings | None = None, tuning: SynthSettings | None = None
    ) -> None:
        self.settings = settings or VoiceSettings()
        """Voice for new syntheses; replace it to change the voice (the cache keys on it)."""
        self.tuning = tuning or SynthSettings()
        """Retries, timeout, cache size and trimming of every synthesis."""
        self._cache: collections.OrderedDict[tuple[str, VoiceSettings, int | None], Pcm] = (
            collections.OrderedDict()
        )
        self._cached_seconds = 0.0
        self._lock = threading.Lock()

    def _render(self, text: str, settings: VoiceSettings) -> Pcm:
        raise NotImplementedError

    def cached(self, text: str, rate: int | None = None) -> bool:
        """Whether `text` would start at once (it is in the cache)."""
        with self._lock:
            return (text, self.settings, rate) in self._cache

    def synthesize(self, text: str, rate: int | None = None) -> Pcm:
        """`text` as mono int16 PCM, at `rate` if given (else the engine's own rate)."""
        settings = self.settings
        key = (text, settings, rate)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        pcm = trim_silence(self._render(text, settings), self.tuning)
        if rate is not None:
            pcm = resample(pcm, rate)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = pcm
                self._cached_seconds += _seconds(pcm)
            while len(self._cache) > 1 and (
                len(self._cache) > self.tuning.cache_size
                or self._cached_seconds > self.tuning.cache_seconds
            ):
                _, dropped = self._cache.popitem(last=False)
                self._cached_seconds -= _seconds(dropped)
        return pcm

    @property
    def cached_seconds(self) -> float:
        """Speech held in the cache now (seconds)."""
        with self._lock:
            return self._cached_seconds

    def prewarm(self, texts: Iterable[str], rate: int | None = None) -> None:
        """Synthesise `texts` now (e.g. the routine's countdown lines) so they start at once."""
        for text in texts:
            self.synthesize(text, rate)


class Pyttsx3Synth(CachingSynth):
    """pyttsx3 (espeak-ng): robotic but everywhere; the fallback voice.

    Raises TtsUnavailableError (saying what to install) when espeak-ng is missing.
    """

    name = "pyttsx3"

    def _render(self, text: str, settings: VoiceSettings) -> Pcm:
        return espeak.synthesize(text, settings, self.tuning)
