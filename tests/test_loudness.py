"""An utterance's level over the room's floor (coach.session.loudness)."""

from __future__ import annotations

import numpy as np

from coach.session.loudness import SpeechLevel

RATE = 16000


def noise(seconds: float, rms: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, rms, round(seconds * RATE))


def fed(pcm: np.ndarray, block_s: float = 0.03) -> SpeechLevel:
    level = SpeechLevel(RATE)
    samples = np.clip(np.round(pcm), -32768, 32767).astype(np.int16)
    step = round(block_s * RATE)
    for start in range(0, len(samples), step):
        level.add(samples[start:start + step])
    return level


def test_a_loud_voice_over_the_room_stands_out_and_the_room_alone_does_not() -> None:
    room = noise(10.0, 300.0)
    t = np.arange(round(1.5 * RATE)) / RATE
    room[round(6 * RATE):round(7.5 * RATE)] += 6000 * np.sin(2 * np.pi * 220 * t)
    level = fed(room)
    loud = level.level_db(6.0, 7.5)
    quiet = level.level_db(3.0, 4.5)
    assert loud is not None and loud > 20.0
    assert quiet is not None and quiet < 5.0


def test_digital_silence_does_not_make_sound_infinitely_loud() -> None:
    pcm = np.concatenate([np.zeros(RATE * 2), noise(1.0, 3000.0)])
    value = fed(pcm, block_s=0.1).level_db(2.0, 3.0)
    assert value is not None and 40.0 < value < 80.0


def test_audio_no_longer_kept_has_no_level() -> None:
    level = fed(noise(40.0, 300.0))  # more than the 30 s kept
    assert level.level_db(1.0, 2.0) is None
    assert level.level_db(38.0, 39.0) is not None
    assert level.level_db(45.0, 46.0) is None  # not heard yet
