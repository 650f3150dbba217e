"""Settings, built once by the CLI and passed down. Frozen, with units."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AudioSettings", "Settings", "SpeechSettings"]


@dataclass(frozen=True)
class SpeechSettings:
    """How the coach talks."""

    rate: int = 165
    """Speaking rate (words per minute)."""
    volume: float = 1.0
    """Output volume, 0.0 to 1.0."""
    voice: str | None = None
    """TTS voice id or part of its name; None for the engine's default."""


@dataclass(frozen=True)
class AudioSettings:
    """Where sound comes from and goes to."""

    input_device: str | int | None = None
    """Microphone by name (part of it) or index; None for the system default."""
    output_device: str | int | None = None
    """Speaker by name (part of it) or index; None for the system default."""
    sample_rate: int = 16000
    """Rate the recogniser works at (hertz)."""
    echo_tail: float = 0.35
    """How long after the coach stops speaking its own echo may still arrive (seconds)."""
    echo_cancel: bool = True
    """Take the coach's own voice out of the microphone signal (speexdsp), so commands said
    over it can be heard; off, or without speexdsp, only the text-level echo rules apply."""


@dataclass(frozen=True)
class Settings:
    routine_dirs: tuple[Path, ...] = ()
    """Routine folders: the bundled one first, then the user's."""
    engine: str | None = None
    """Recogniser: vosk, whisper or pocketsphinx; None picks the best available."""
    model: Path | None = None
    """Vosk model folder; None looks in the usual places."""
    wake_word: str | None = None
    """Only act on utterances that start with this word (e.g. "coach"); None: always listen."""
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
