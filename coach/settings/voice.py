"""The voice's knobs: how it sounds, how text becomes PCM, how PCM reaches the speaker.

Frozen, with units; the measurements behind the values are in docs/tuning/voice.md.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TTS_ENGINES","PlaybackSettings", "SynthSettings", "TextSpeakerSettings", "VoiceSettings"]


TTS_ENGINES = ("piper", "pyttsx3")
"""The engines that can speak (VoiceSettings.tts)."""


@dataclass(frozen=True)
class VoiceSettings:
    """How the coach's voice sounds (also the synthesis cache's key)."""

    rate: int = 165
    """Speaking rate (words per minute)."""
    volume: float = 1.0
    """Loudness, 0..1."""
    voice: str | None = None
    """Voice id ("gmw/en-us", "en-us") or name substring ("America"); None = default."""
    tts: str = "pyttsx3"
    """Which engine speaks: "piper" (natural, neural) or "pyttsx3" (espeak-ng; also the
    fallback when Piper is missing or fails)."""


@dataclass(frozen=True)
class SynthSettings:
    """Turning text into PCM with pyttsx3 / espeak-ng."""

    attempts: int = 3
    """Tries per text when espeak-ng reports done over a WAV with no frames yet."""
    timeout_seconds: float = 30.0
    """Longest wait for one synthesis before espeak-ng counts as not working (seconds)."""
    cache_size: int = 256
    """Synthesised utterances kept (least recently used dropped), so repeated cues start at once."""
    cache_seconds: float = 300.0
    """Speech kept in that cache, all utterances together (seconds): a whole routine's lines
    and the cues every routine repeats. Bounds its memory whatever the lines' lengths: a
    session that runs every routine would otherwise keep each long introduction too."""
    trim_threshold: float = 0.02
    """Samples below this fraction of the peak count as silence when trimming (0..1)."""
    trim_margin_seconds: float = 0.02
    """Silence kept before and after speech, so the onset and the final consonant survive."""


@dataclass(frozen=True)
class PlaybackSettings:
    """The output stream that plays PCM: small blocks, so a stop is heard at once."""

    block_seconds: float = 0.01
    """Audio per callback block: an utterance starts, and a stop lands, within one (seconds)."""
    latency_seconds: float = 0.05
    """Output latency asked of PortAudio; its "low" (~20 ms) stalls on ALSA's pulse plugin."""
    poll_seconds: float = 0.005
    """How often `wait` looks whether the device's buffer has drained (seconds)."""
    watch_seconds: float = 0.5
    """How often the watchdog looks for a stalled stream (seconds)."""
    stall_seconds: float = 1.0
    """No callback for this long while open: the stream is stalled and restarted (seconds)."""
    retry_seconds: float = 2.0
    """How often a lost output device is looked for again (seconds)."""
    duck_db: float = -10.0
    """The voice's level while the user talks over it (dB relative to full): lower, still
    heard (OVOS lowers its output to 30%, about -10 dB)."""
    duck_attack_seconds: float = 0.02
    """How long lowering the voice takes (seconds): fast, yet a ramp, not a click."""
    duck_release_seconds: float = 0.3
    """How long bringing it back up takes (seconds)."""


@dataclass(frozen=True)
class TextSpeakerSettings:
    """The printed voice of --text mode and tests."""

    min_line_seconds: float = 0.4
    """Shortest time a printed line counts as being spoken, however few its words (seconds)."""
