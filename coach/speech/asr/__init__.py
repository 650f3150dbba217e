"""Speech recognition engines behind one `Recognizer` protocol (heavy libraries load lazily)."""

from coach.speech.asr.base import EngineUnavailableError, Recognizer, Transcript, normalise_text
from coach.speech.asr.select import available_engines, make_recognizer

__all__ = [
    "EngineUnavailableError",
    "Recognizer",
    "Transcript",
    "available_engines",
    "make_recognizer",
    "normalise_text",
]
