"""Speech recognition engines behind one `Recognizer` protocol (heavy libraries load lazily)."""

from coach.hearing.asr.base import EngineUnavailableError, Recognizer, Transcript
from coach.hearing.asr.select import available_engines, make_recognizer

__all__ = [
    "EngineUnavailableError",
    "Recognizer",
    "Transcript",
    "available_engines",
    "make_recognizer",
]
