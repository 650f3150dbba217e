"""Whether the user spoke over the coach: double-talk told from the echo canceller's levels.

Text alone cannot tell the coach's "Next up" misheard as "Next stop" from a user's "stop"
said over it. The echo canceller can. Where only the coach's voice reaches the microphone, a
working filter removes most of it (20-35 dB on a direct path, 10-20 dB in a room). Where the
user speaks too, their voice comes through untouched, so little is removed. Pure: numpy only.

The same levels, frame by frame as they come, tell the player to lower the coach's voice
while the user talks over it (`talking_over`), within a few frames of their voice starting.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np
import numpy.typing as npt

from coach.hearing.asr.base import SAMPLE_RATE, Pcm
from coach.settings.hearing import DoubleTalkSettings

__all__ = ["DoubleTalk"]

Levels = npt.NDArray[np.float64]
"""Frame levels (dB)."""

_LOGGER = logging.getLogger(__name__)

FRAME = 160
"""Samples per level measurement (10 ms at 16 kHz)."""


class DoubleTalk:
    """Levels of the microphone, the canceller's output and the speaker's output over time.

    `observe`, `user_spoke` and `talking_over` are all called from the audio thread: no
    lock needed.
    """

    def __init__(self, settings: DoubleTalkSettings | None = None,
                 rate: int = SAMPLE_RATE) -> None:
        self.settings = settings or DoubleTalkSettings()
        self.rate = rate
        frames = round(self.settings.keep_s * rate / FRAME)
        self._times: deque[float] = deque(maxlen=frames)
        self._mic: deque[float] = deque(maxlen=frames)
        self._cleaned: deque[float] = deque(maxlen=frames)
        self._coach: deque[float] = deque(maxlen=frames)
        self._carry = (np.zeros(0, np.int16), np.zeros(0, np.int16), np.zeros(0, np.int16))
        window = max(1, round(self.settings.duck_window_s * rate / FRAME))
        self._live: deque[bool] = deque(maxlen=window)
        """Whether each of the latest frames held the user's voice over the coach's."""
        self._usual: float | None = None
        self._usual_due = 0
        self._last_user_at = -np.inf
        self._talking = False

    def observe(self, mic: Pcm, far: Pcm, cleaned: Pcm, heard_at: float, lag: int = 0) -> None:
        """One block: the microphone's samples (first heard at session time `heard_at`), the
        speaker's output aligned with them, and the canceller's output, which comes `lag`
        samples later than its input."""
        mic_all = np.concatenate([self._carry[0], mic])
        far_all = np.concatenate([self._carry[1], far])
        cleaned_all = np.concatenate([self._carry[2], cleaned])
        start = heard_at - len(self._carry[0]) / self.rate
        # cleaned_all[i + lag] is the output for mic_all[i]
        usable = max(0, min(len(mic_all), len(cleaned_all) - lag)) // FRAME * FRAME
        self._times.extend(start + np.arange(0, usable, FRAME) / self.rate)
        self._mic.extend(_levels(mic_all[:usable]))
        self._coach.extend(_levels(far_all[:usable]))
        self._cleaned.extend(_levels(cleaned_all[lag : lag + usable]))
        self._carry = (mic_all[usable:], far_all[usable:], cleaned_all[usable:])
        self._follow(usable // FRAME)

    def talking_over(self) -> bool:
        """Whether the user is talking over the coach now: set once `duck_onset_s` of the
        last `duck_window_s` held their voice, cleared after `duck_hold_s` without it (a
        cough ducks the coach only for a moment). False while the levels cannot tell."""
        return self._talking

    def _follow(self, frames: int) -> None:
        """Judge the newest `frames` frames as they come: the user's voice over the coach's?"""
        if not frames:
            return
        settings = self.settings
        self._usual_due -= frames
        if self._usual is None or self._usual_due <= 0:
            self._usual = self._usual_removed(self._times[-1])
            self._usual_due = max(1, round(settings.usual_every_s * self.rate / FRAME))
        usual = self._usual
        start = len(self._times) - frames
        if usual is None or usual < settings.working_db:
            self._live.extend([False] * frames)
        else:
            newest = range(start, len(self._times))
            mic = np.array([self._mic[i] for i in newest])
            cleaned = np.array([self._cleaned[i] for i in newest])
            coach = np.array([self._coach[i] for i in newest]) > settings.coach_dbfs
            users = coach & _holds_user(mic, cleaned, usual, settings)
            self._live.extend(bool(user) for user in users)
            if users.any():
                self._last_user_at = self._times[start + int(np.flatnonzero(users)[-1])]
        now = self._times[-1]
        onset = round(settings.duck_onset_s * self.rate / FRAME)
        if sum(self._live) >= max(1, onset):
            self._talking = True
        elif now - self._last_user_at > settings.duck_hold_s:
            self._talking = False

    def _kept(self) -> tuple[Levels, Levels, Levels, npt.NDArray[np.bool_]]:
        """The kept levels as arrays: frame times, microphone, canceller's output, and
        whether the coach was audible."""
        return (np.fromiter(self._times, float), np.fromiter(self._mic, float),
                np.fromiter(self._cleaned, float),
                np.fromiter(self._coach, float) > self.settings.coach_dbfs)

    def _usual_removed(self, end: float) -> float | None:
        """How much of the coach's voice the filter usually removes before `end`."""
        return _removed_over(*self._kept(), end - self.settings.usual_s, end, self.settings)

    def user_spoke(self, start: float, end: float) -> bool | None:
        """Whether the user's voice is in [start, end] (session seconds). False only when
        the coach was audible then and the filter is removing its voice well; None when the
        levels cannot tell (the coach silent, the filter not yet adapted, nothing kept)."""
        if not self._times:
            return None
        settings = self.settings
        times, mic, cleaned, coach = self._kept()
        inside = (times >= start) & (times < end)
        if not (inside & coach).any():
            return None
        usual = _removed_over(times, mic, cleaned, coach, end - settings.usual_s, end, settings)
        if usual is None:
            return None
        before = _removed_over(times, mic, cleaned, coach, start - settings.recent_s, start,
                               settings)
        if before is not None:
            usual = min(usual, before)
        user = inside & _holds_user(mic, cleaned, usual, settings)
        user_s = float(user.sum() * FRAME / self.rate)
        voiced = int((inside & (mic > settings.voice_dbfs)).sum())
        share = float(user.sum()) / voiced if voiced else 0.0
        _LOGGER.debug("double talk %.2f-%.2f s: usually %.1f dB removed, %.2f s of voice "
                      "left in (%.0f%% of the voiced frames)", start, end, usual, user_s,
                      100 * share)
        if usual < settings.working_db:
            return None
        return user_s >= settings.user_s and share >= settings.user_share


def _removed_over(times: Levels, mic: Levels, cleaned: Levels, coach: npt.NDArray[np.bool_],
                  start: float, end: float, settings: DoubleTalkSettings) -> float | None:
    """How much of the coach's voice the filter removed in [start, end) (dB, median over the
    frames where it was audible at the microphone); None when there were none."""
    echo = (times >= start) & (times < end) & coach & (mic > settings.voice_dbfs)
    if not echo.any():
        return None
    return float(np.median((mic - cleaned)[echo]))


def _holds_user(mic: Levels, cleaned: Levels, usual: float,
                settings: DoubleTalkSettings) -> npt.NDArray[np.bool_]:
    """Whether each frame holds the user's voice, given the microphone's levels, the
    canceller's output levels and the usual removal (dB): voice at the microphone and after
    the canceller, much less removed than usual, and nothing added."""
    removed = mic - cleaned
    voiced = (mic > settings.voice_dbfs) & (cleaned > settings.voice_dbfs)
    left_in = removed < min(usual - settings.margin_db, settings.most_removed_db)
    holds: npt.NDArray[np.bool_] = voiced & left_in & (removed > -settings.added_db)
    return holds


def _levels(samples: Pcm) -> list[float]:
    """Each whole frame's level, as `endpoint.frame_dbfs` gives it, at once (audio thread)."""
    frames = samples[: len(samples) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    db = 20.0 * np.log10(np.maximum(rms, 1e-12) / 32768.0)
    return [float(x) for x in np.where(rms > 0.33, db, -100.0)]
