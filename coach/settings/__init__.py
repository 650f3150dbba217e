"""The one settings tree: frozen dataclasses with units, built once by the CLI (defaults, then
the settings file, then flags) and passed down. Each knob is defined once, in the branch of the
part it tunes; what chose its value is in docs/tuning/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coach.settings.hearing import HearingSettings
from coach.settings.log import LogSettings
from coach.settings.screen import ScreenSettings
from coach.settings.session import SessionSettings
from coach.settings.text import TextSettings
from coach.settings.understanding import EchoSettings, UnderstandingSettings
from coach.settings.voice import (
    PlaybackSettings,
    SynthSettings,
    TextSpeakerSettings,
    VoiceSettings,
)

__all__ = ["AudioSettings", "Settings"]


@dataclass(frozen=True)
class AudioSettings:
    """Where sound comes from and goes to."""

    input_device: str | int | None = None
    """Microphone by name (part of it) or index; None for the system default."""
    output_device: str | int | None = None
    """Speaker by name (part of it) or index; None for the system default."""
    echo_cancel: bool = True
    """Take the coach's own voice out of the microphone signal (speexdsp), so commands said
    over it can be heard; off, or without speexdsp, only the text-level echo rules apply."""
    enhance: str | None = None
    """Speech enhancement before the recogniser (after echo cancellation): "deepfilter"
    (DeepFilterNet3) or "rnnoise"; None hears the microphone as it is."""


@dataclass(frozen=True)
class Settings:
    """Everything that can be tuned, one branch per part of the coach."""

    routine_dirs: tuple[Path, ...] = ()
    """Routine folders: the bundled one first, then the user's."""
    engine: str | None = None
    """Recogniser: vosk, whisper or pocketsphinx; None picks the best available."""
    model: Path | None = None
    """Vosk model folder; None looks in the usual places."""
    wake_word: str | None = None
    """Only act on utterances that start with this word (e.g. "coach"); None: always listen."""
    audio: AudioSettings = field(default_factory=AudioSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    synth: SynthSettings = field(default_factory=SynthSettings)
    playback: PlaybackSettings = field(default_factory=PlaybackSettings)
    text_speaker: TextSpeakerSettings = field(default_factory=TextSpeakerSettings)
    hearing: HearingSettings = field(default_factory=HearingSettings)
    text: TextSettings = field(default_factory=TextSettings)
    understanding: UnderstandingSettings = field(default_factory=UnderstandingSettings)
    echo: EchoSettings = field(default_factory=EchoSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    screen: ScreenSettings = field(default_factory=ScreenSettings)
    log: LogSettings = field(default_factory=LogSettings)
