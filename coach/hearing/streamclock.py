"""Where a live audio stream's samples fall on the session clock. Pure.

Sample n of the stream was heard at `offset + n / rate`. Each block tells us one estimate
of `offset`: when it arrived minus how much audio came before its end. Arrivals are late
by scheduling jitter, and by a backlog when the listener was busy decoding, never early;
so the smallest recent estimate is the truest. Only recent ones count, so the slow drift
between a sound card's clock and the computer's does not build up.
"""

from __future__ import annotations

from collections import deque

from coach.settings.hearing import MicrophoneSettings

__all__ = ["StreamClock"]


class StreamClock:
    """Offsets of a live stream, from block arrival times."""

    def __init__(self, sample_rate: int, settings: MicrophoneSettings | None = None) -> None:
        self.sample_rate = sample_rate
        self.window_s = (settings or MicrophoneSettings()).clock_window_s
        self._estimates: deque[tuple[float, float]] = deque()  # (arrived, offset), offset rising

    def observe(self, samples_so_far: int, arrived: float) -> float:
        """A block ending at sample `samples_so_far` arrived at `arrived` (session seconds).

        Returns the stream's offset: session time of sample 0.
        """
        estimate = arrived - samples_so_far / self.sample_rate
        # keep a rising run of estimates: one that is larger than a later one never wins
        while self._estimates and self._estimates[-1][1] >= estimate:
            self._estimates.pop()
        self._estimates.append((arrived, estimate))
        while self._estimates[0][0] < arrived - self.window_s:
            self._estimates.popleft()
        return self._estimates[0][1]

    def reset(self) -> None:
        """The stream restarted (a device came back): forget what was learnt."""
        self._estimates.clear()
