"""Speakers: the Speaker protocol, one that plays synthesised PCM on a device, one that prints.

The session talks to a `Speaker` and never knows which one: `SoundDeviceSpeaker` says text
through `coach.voice.playback` (interruptible, exact durations), `TextSpeaker` prints it with a
timestamp for --text mode and tests, and both tell listeners when they are heard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TextIO

from coach.settings.voice import PlaybackSettings, TextSpeakerSettings, VoiceSettings
from coach.voice.playback import (
    OutputListener,
    OutputTap,
    Pcm,
    PcmPlayer,
    PlaybackEvent,
    PlaybackListener,
)

__all__ = ["SoundDeviceSpeaker", "Speaker", "Synthesizer", "TextSpeaker"]


class Speaker(Protocol):
    """Says text aloud (or shows it); knows when it is audible."""

    def say(self, text: str) -> float:
        """Start saying `text` without blocking; return its duration (seconds)."""
        ...

    def stop(self) -> None:
        """Fall silent within 100 ms and drop anything queued."""
        ...

    def is_speaking(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until silent; False on timeout."""
        ...

    def close(self) -> None: ...

    def duration(self, text: str) -> float:
        """How long saying `text` takes (seconds)."""
        ...

    @property
    def playing_until(self) -> float:
        """Time (on the speaker's clock) until which the speaker may be heard."""
        ...

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        """Be told when an utterance starts and stops being heard."""
        ...


class Synthesizer(Protocol):
    """Text -> PCM at a given rate (`coach.voice.tts.Pyttsx3Synth`)."""

    settings: VoiceSettings
    """The voice of new syntheses; replacing it changes the voice (louder, quieter)."""

    def synthesize(self, text: str, rate: int | None = None) -> Pcm: ...

    def prewarm(self, texts: Iterable[str], rate: int | None = None) -> None: ...


class SoundDeviceSpeaker:
    """Speaks through an audio output device; interruptible; exact durations."""

    def __init__(
        self,
        synth: Synthesizer,
        device: str | int | None = None,
        player: PcmPlayer | None = None,
        playback: PlaybackSettings | None = None,
    ) -> None:
        """Raises NoOutputDeviceError when there is no usable output device."""
        self.synth = synth
        self.player = player or PcmPlayer(device, settings=playback)

    def add_output_tap(self, tap: OutputTap) -> None:
        """See every block the speaker plays (for echo cancellation)."""
        self.player.add_output_tap(tap)

    def say(self, text: str, *, interrupt: bool = False) -> float:
        """Queue `text` (or, with `interrupt`, cut in at once); return its duration (s).

        Returns at once for a cached phrase; an uncached one is synthesised first (~10 ms).
        """
        pcm = self.synth.synthesize(text, self.player.rate)
        self.player.play(pcm, label=text, interrupt=interrupt)
        return pcm.duration

    def duration(self, text: str) -> float:
        return self.synth.synthesize(text, self.player.rate).duration

    def prewarm(self, texts: Iterable[str]) -> None:
        """Synthesise `texts` now, at the device's rate, so they start at once when said."""
        self.synth.prewarm(texts, self.player.rate)

    def stop(self) -> None:
        self.player.stop()

    def duck(self, lowered: bool) -> None:
        """Lower the voice while the user talks over it (True), or bring it back (False)."""
        self.player.duck(lowered)

    def is_speaking(self) -> bool:
        return self.player.is_playing()

    def wait(self, timeout: float | None = None) -> bool:
        return self.player.wait(timeout)

    def close(self) -> None:
        self.player.close()

    @property
    def playing_until(self) -> float:
        """time.monotonic() until which the speaker may be heard (device latency included)."""
        return self.player.playing_until

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        self.player.add_listener(listener)

    def add_device_listener(self, listener: OutputListener) -> None:
        """Be told when the output device is lost and when it is back."""
        self.player.add_device_listener(listener)


class TextSpeaker:
    """Prints `[mm:ss] text` instead of speaking; for --text mode and tests.

    Durations are estimated from words and the speaking rate; `is_speaking` is true for
    that long on `clock`, so the rest of the coach behaves as with a voice. The text is out
    as soon as it is printed, so `wait` never blocks.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float],
        settings: VoiceSettings | None = None,
        tuning: TextSpeakerSettings | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._settings = settings or VoiceSettings()
        self._tuning = tuning or TextSpeakerSettings()
        self._until = 0.0
        self._listeners: list[PlaybackListener] = []

    def say(self, text: str) -> float:
        now = self._clock()
        seconds = self.duration(text)
        self._stream.write(f"[{_mmss(now)}] {text}\n")
        self._stream.flush()
        self._until = max(self._until, now) + seconds
        self._notify(PlaybackEvent(True, now, text, seconds))
        self._notify(PlaybackEvent(False, self._until, text))
        return seconds

    def duration(self, text: str) -> float:
        words = max(1, len(text.split()))
        return round(max(self._tuning.min_line_seconds, words * 60.0 / self._settings.rate), 3)

    def stop(self) -> None:
        self._until = min(self._until, self._clock())

    def is_speaking(self) -> bool:
        return self._clock() < self._until

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self._stream.flush()

    @property
    def playing_until(self) -> float:
        return self._until

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        self._listeners.append(listener)

    def _notify(self, event: PlaybackEvent) -> None:
        for listener in self._listeners:
            listener(event)


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"

