"""Pure endpointing: one speech probability per frame in, open/close decisions out.

`EndpointStateMachine` opens an utterance after `start_ms` of voice (with `pre_roll_ms` of
audio before it) and closes it on `end_silence_ms` of silence (`long_end_silence_ms` for long
ones) or after `max_utterance_s`. `ChatterGate` lowers the probability of frames no louder than
a room full of voices. Both pure, tested on synthetic probabilities.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from coach.settings.hearing import EndpointSettings

__all__ = [
    "ChatterGate",
    "CloseReason",
    "Closed",
    "Decision",
    "EndpointStateMachine",
    "Opened",
    "Paused",
    "Quieted",
]


class CloseReason(str, Enum):
    """Why an utterance closed."""

    SILENCE = "silence"
    CAP = "cap"
    FLUSH = "flush"
    EARLY = "early"


@dataclass(frozen=True)
class Opened:
    """The state machine opened an utterance: audio from `start_frame`, voice from `onset_frame`."""

    start_frame: int
    onset_frame: int


@dataclass(frozen=True)
class Paused:
    """An open utterance has had `pause_ms` of trailing silence (an early decision may close it)."""

    last_voiced_frame: int


@dataclass(frozen=True)
class Quieted:
    """An open utterance has had `look_ms` of trailing silence (a pause may be coming)."""

    last_voiced_frame: int


@dataclass(frozen=True)
class Closed:
    """The state machine closed the utterance; `end_frame` is exclusive."""

    end_frame: int
    reason: CloseReason


Decision = Opened | Quieted | Paused | Closed


class EndpointStateMachine:
    """Pure endpointing on per-frame speech probabilities; frames are counted from 0."""

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = settings or EndpointSettings()
        self._start_frames = self.settings.frames(self.settings.start_ms)
        self._end_frames = self.settings.frames(self.settings.end_silence_ms)
        self._long_end_frames = self.settings.frames(self.settings.long_end_silence_ms)
        self._long_frames = self.settings.frames(1000.0 * self.settings.long_after_s)
        self._pause_frames = self.settings.frames(self.settings.pause_ms)
        self._look_frames = self.settings.frames(self.settings.look_ms)
        self._cap_frames = self.settings.frames(1000.0 * self.settings.max_utterance_s)
        pre_roll_samples = self.settings.pre_roll_ms * self.settings.sample_rate / 1000
        self._pre_roll_frames = round(pre_roll_samples / self.settings.frame_samples)
        self._frame = 0
        self._voice_run = 0
        self._open_start: int | None = None
        self._last_voiced = 0
        self._floor = 0  # no utterance may start before the end of the previous one

    @property
    def is_open(self) -> bool:
        """True while an utterance is open."""
        return self._open_start is not None

    @property
    def last_voiced_frame(self) -> int:
        """Index of the latest voiced frame of the open (or last) utterance."""
        return self._last_voiced

    @property
    def frames_seen(self) -> int:
        """Frames processed so far."""
        return self._frame

    def step(self, probability: float) -> list[Decision]:
        """Take the next frame's speech probability."""
        index = self._frame
        self._frame += 1
        if self._open_start is None:
            return self._step_idle(index, probability)
        return self._step_open(index, probability, self._open_start)

    def close(self, reason: CloseReason) -> list[Decision]:
        """Close the open utterance now (end of stream or early decision)."""
        if self._open_start is None:
            return []
        return [self._closed(self._last_voiced + 1, reason)]

    def _step_idle(self, index: int, probability: float) -> list[Decision]:
        voiced = probability >= self.settings.speech_threshold
        self._voice_run = self._voice_run + 1 if voiced else 0
        if self._voice_run < self._start_frames:
            return []
        first_voiced = index - self._voice_run + 1
        start = max(self._floor, first_voiced - self._pre_roll_frames)
        self._open_start = start
        self._last_voiced = index
        return [Opened(start, first_voiced)]

    def _step_open(self, index: int, probability: float, start: int) -> list[Decision]:
        if probability >= self.settings.silence_threshold:
            self._last_voiced = index
        silent_frames = index - self._last_voiced
        long = self._last_voiced + 1 - start >= self._long_frames
        if silent_frames >= (self._long_end_frames if long else self._end_frames):
            return [self._closed(self._last_voiced + 1, CloseReason.SILENCE)]
        if index + 1 - start >= self._cap_frames:
            return [self._closed(index + 1, CloseReason.CAP)]
        if silent_frames == self._pause_frames:
            return [Paused(self._last_voiced)]
        if silent_frames == self._look_frames:
            return [Quieted(self._last_voiced)]
        return []

    def _closed(self, end_frame: int, reason: CloseReason) -> Closed:
        self._open_start = None
        self._voice_run = 0
        self._floor = end_frame
        return Closed(end_frame, reason)


class ChatterGate:
    """Tells the user's voice from the room's chatter by loudness.

    Several people talking never fall silent, and the VAD rightly calls it all voice, so an
    utterance would run to the cap and the recogniser would transcribe strangers. The user
    is nearer the microphone than they are. The last few seconds measure the room: when
    most frames are voice and none is much quieter than the voices (chatter has no pauses;
    a user talking in a quiet room does), a low percentile of the voiced frames' levels is
    the chatter's level, and only frames clearly above it count as voice. In music, noise
    or quiet nothing changes.

    Pure: level in dBFS and the VAD's probability in, a probability out.
    """

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self._window = settings.frames(1000.0 * settings.chatter_window_s)
        self._recent = settings.frames(1000.0 * settings.chatter_gap_s)
        self._levels: deque[float] = deque(maxlen=self._window)
        self._voiced: deque[bool] = deque(maxlen=self._window)
        self._hold = settings.frames(1000.0 * settings.chatter_hold_s)
        self._since_loud = self._hold + 1
        """Frames since the last one loud enough to open an utterance in chatter."""

    @property
    def chatter_db(self) -> float | None:
        """Level of the room's chatter (dBFS), or None when the room is not chatter."""
        if len(self._levels) < self._window // 3:
            return None  # too little heard yet to call the room anything
        voiced = [level for level, v in zip(self._levels, self._voiced, strict=True) if v]
        if len(voiced) < self.settings.chatter_fraction * len(self._levels):
            return None
        chatter = float(np.percentile(voiced, self.settings.chatter_quantile))
        recent = list(self._levels)[-self._recent :]
        quietest = float(np.percentile(recent, self.settings.chatter_quiet_quantile))
        if quietest < chatter - self.settings.chatter_gap_db:
            return None  # the room fell silent in between: one person talking, not chatter
        return chatter

    def weigh(self, probability: float, level_db: float) -> float:
        """The frame's speech probability, lowered when it is not above the chatter."""
        chatter = self.chatter_db if self.settings.chatter_gate else None
        self._levels.append(level_db)
        self._voiced.append(probability >= self.settings.speech_threshold)
        self._since_loud += 1
        if chatter is None:
            if probability >= self.settings.speech_threshold:
                self._since_loud = 0  # the gate may engage mid-utterance: no cut then
            return probability
        if level_db >= chatter + self.settings.chatter_open_db:
            self._since_loud = 0
            return probability
        if level_db >= chatter + self.settings.chatter_hold_db and self._since_loud <= self._hold:
            # between the two: keeps an utterance open (hysteresis) but never opens one
            below_open = (self.settings.silence_threshold + self.settings.speech_threshold) / 2
            return min(probability, below_open)
        return 0.0


