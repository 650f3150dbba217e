"""How loud an utterance was over the room, from the audio the recogniser was fed.

Speech meant for the coach is said near the microphone: its voiced peaks stand well above
the room's level between words. The room's chatter and music stand only a little above
their own floor. The level is measured on the recogniser's audio clock, so an utterance's
(start, end) picks its own frames.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from coach.settings.session import LevelSettings

__all__ = ["SpeechLevel", "block_level_db"]

_FULL_SCALE = 32768.0
_SILENCE_DB = -120.0
"""The level of digital silence (dBFS): a floor for the logarithm."""


def block_level_db(block: npt.NDArray[np.int16]) -> float:
    """A block's RMS level (dBFS)."""
    if len(block) == 0:
        return _SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(np.asarray(block, np.float64)))))
    return max(_SILENCE_DB, 20.0 * math.log10(max(rms, 1e-9) / _FULL_SCALE))


class SpeechLevel:
    """Frame levels of a stream of 16-bit audio; an utterance's level over the noise floor."""

    def __init__(self, rate: int, knobs: LevelSettings | None = None) -> None:
        self._knobs = knobs or LevelSettings()
        self._frame = max(1, round(rate * self._knobs.frame_s))
        self._frame_s = self._frame / rate
        self._levels: deque[float] = deque(maxlen=max(1, round(self._knobs.history_s
                                                              / self._frame_s)))
        self._frames_seen = 0
        """Frames measured since the start of the stream (the deque keeps the last ones)."""
        self._carry = np.zeros(0, np.float64)

    def add(self, block: npt.NDArray[np.int16]) -> None:
        """The next audio fed to the recogniser."""
        samples = np.concatenate([self._carry, np.asarray(block, np.float64)])
        whole = len(samples) // self._frame * self._frame
        self._carry = samples[whole:]
        if not whole:
            return
        frames = samples[:whole].reshape(-1, self._frame) / _FULL_SCALE
        power = np.mean(frames * frames, axis=1)
        floor = 10.0 ** (self._knobs.min_dbfs / 10.0)
        self._levels.extend((10.0 * np.log10(np.maximum(power, floor))).tolist())
        self._frames_seen += len(frames)

    def level_db(self, start: float, end: float) -> float | None:
        """How far the utterance from `start` to `end` (seconds of the stream) stood above
        the room's floor (dB); None when its audio is no longer (or not yet) kept."""
        first_kept = self._frames_seen - len(self._levels)
        levels = np.asarray(self._levels)

        def frames(begin: float, stop: float) -> npt.NDArray[np.float64]:
            low = max(int(begin / self._frame_s), first_kept) - first_kept
            high = min(int(np.ceil(stop / self._frame_s)), self._frames_seen) - first_kept
            return levels[low:high] if high > low else levels[:0]

        speech = frames(start, end)
        if not len(speech):
            return None
        room = frames(end - self._knobs.floor_window_s, end)
        peak = float(np.percentile(speech, self._knobs.speech_percentile))
        floor = float(np.percentile(room, self._knobs.floor_percentile))
        return peak - floor
