"""The live stream's clock: block arrivals -> where its samples fall in session time."""

from __future__ import annotations

import pytest

from coach.hearing.streamclock import StreamClock
from coach.settings.hearing import MicrophoneSettings

RATE = 16000
BLOCK = 1600  # 0.1 s


def test_on_time_blocks_give_the_start_of_the_stream() -> None:
    clock = StreamClock(RATE)
    for n in range(1, 50):
        offset = clock.observe(n * BLOCK, 2.0 + n * 0.1 + 0.003 * (n % 3))  # jitter, late only
    assert offset == pytest.approx(2.0)


def test_a_backlog_after_a_long_decode_does_not_shift_the_words_later() -> None:
    clock = StreamClock(RATE)
    for n in range(1, 20):
        clock.observe(n * BLOCK, 2.0 + n * 0.1)
    # the listener was busy for 0.6 s: six blocks are read at once, late
    offsets = [clock.observe(n * BLOCK, 2.0 + 25 * 0.1) for n in range(20, 26)]
    assert offsets == pytest.approx([2.0] * 6)


def test_only_recent_blocks_count_so_clock_drift_is_followed() -> None:
    clock = StreamClock(RATE, MicrophoneSettings(clock_window_s=5.0))
    drift = 0.001  # the sound card runs 0.1% slow
    for n in range(1, 600):
        offset = clock.observe(n * BLOCK, 2.0 + n * 0.1 * (1 + drift))
    assert offset == pytest.approx(2.0 + 599 * 0.1 * drift, abs=0.01)


def test_reset_learns_the_stream_again_after_a_gap() -> None:
    clock = StreamClock(RATE)
    for n in range(1, 10):
        clock.observe(n * BLOCK, 2.0 + n * 0.1)
    clock.reset()  # the microphone was unplugged for 3 s; counting goes on
    assert clock.observe(10 * BLOCK, 5.0 + 10 * 0.1) == pytest.approx(5.0)
