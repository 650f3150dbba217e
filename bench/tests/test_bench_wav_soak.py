"""The soak file is what bench/WAV.md says: quiet room, the script's words where it puts
them, in either format, readable by the coach's own WAV reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.wav_soak import FORMATS, build_file
from coach.hearing.wavsource import TARGET_RATE, open_wav


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_soak_file_holds_the_first_command_on_quiet_room(tmp_path: Path, name: str) -> None:
    path = tmp_path / "soak.wav"
    build_file(path, 12.0, FORMATS[name])
    with open_wav(path) as reader:
        assert reader.format.rate == FORMATS[name].rate
        pcm = np.concatenate(list(reader.blocks())).astype(np.float64)
    assert abs(len(pcm) - 12 * TARGET_RATE) <= 2
    room, words = pcm[: 4 * TARGET_RATE], pcm[5 * TARGET_RATE : 6 * TARGET_RATE]
    assert 0 < np.sqrt(np.mean(room**2)) < 30  # faint noise, not digital silence
    assert np.abs(words).max() > 3000  # "start the core" from the fifth second
