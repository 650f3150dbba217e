"""The WAV reader streams: block by block it gives exactly the samples a whole-file
conversion gives, in every encoding it takes, with memory that does not grow with the file."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from coach.hearing.wavsource import (
    TARGET_RATE,
    WavSource,
    iter_chunks,
    open_wav,
    read_wav,
    rechunk,
    to_mono_16k,
)
from tests.wav_bytes import FORMAT_FLOAT, FORMAT_PCM, tone_bytes, wav_bytes

ENCODINGS = [(FORMAT_PCM, 8), (FORMAT_PCM, 16), (FORMAT_PCM, 24), (FORMAT_PCM, 32),
             (FORMAT_FLOAT, 32), (FORMAT_FLOAT, 64)]


def whole_file(tag: int, bits: int, channels: int, rate: int, raw: bytes) -> np.ndarray:
    """The reference: every sample decoded at once, then converted in one go."""
    if tag == FORMAT_FLOAT:
        floats = np.frombuffer(raw, "<f4" if bits == 32 else "<f8").astype(np.float32)
    elif bits == 8:
        floats = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif bits == 24:
        padded = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        as_int = (padded[:, 0].astype(np.int32) | (padded[:, 1].astype(np.int32) << 8)
                  | (padded[:, 2].astype(np.int8).astype(np.int32) << 16))
        floats = as_int.astype(np.float32) / float(1 << 23)
    else:
        dtype = "<i2" if bits == 16 else "<i4"
        floats = np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (bits - 1))
    return to_mono_16k(floats, rate, channels)


@pytest.mark.parametrize(("tag", "bits"), ENCODINGS)
@pytest.mark.parametrize(("channels", "rate"), [(1, 16000), (2, 44100), (3, 8000)])
def test_blocks_give_the_same_samples_as_the_whole_file(
    tmp_path: Path, tag: int, bits: int, channels: int, rate: int
) -> None:
    raw = tone_bytes(tag, bits, channels, frames=int(rate * 1.3))
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes(tag, channels, rate, bits, raw))
    expected = whole_file(tag, bits, channels, rate, raw)
    for block_bytes in (999, 4096, 1 << 20):  # blocks that split frames, small, one block
        with open_wav(path, block_bytes) as reader:
            got = np.concatenate(list(reader.blocks()))
        assert np.array_equal(got, expected), (block_bytes, len(got), len(expected))


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    rate, channels, seconds = 48000, 2, 20
    path = tmp_path / "long.wav"
    raw = tone_bytes(FORMAT_FLOAT, 32, channels, frames=rate * seconds)
    path.write_bytes(wav_bytes(FORMAT_FLOAT, channels, rate, 32, raw))
    del raw
    tracemalloc.start()
    try:
        with open_wav(path) as reader:
            samples = sum(len(block) for block in reader.blocks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(samples - seconds * TARGET_RATE) <= 2
    assert peak < os.path.getsize(path) / 4, peak  # a few blocks, never the whole file


def test_rechunk_cuts_blocks_of_any_length_like_the_whole_array() -> None:
    rng = np.random.default_rng(3)
    whole = rng.integers(-3000, 3000, 10_007).astype(np.int16)
    cuts = np.sort(rng.choice(np.arange(1, len(whole)), 40, replace=False))
    blocks = np.split(whole, cuts)
    got = list(rechunk(blocks, 1600))
    expected = list(iter_chunks(whole, 1600))
    assert [len(c) for c in got] == [len(c) for c in expected]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_a_wav_source_streams_chunks_of_its_length(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    path.write_bytes(wav_bytes(data=tone_bytes(FORMAT_PCM, 16, 1, frames=16_500)))
    source = WavSource(path, chunk_seconds=0.1)
    chunks = list(source)
    assert source.duration == pytest.approx(16_500 / 16_000)
    assert [len(c) for c in chunks] == [1600] * 10 + [500]
    assert np.array_equal(np.concatenate(chunks), read_wav(path))


def test_a_wav_from_a_pipe_is_read_to_its_end(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    data = tone_bytes(FORMAT_PCM, 16, 1, frames=8000)
    # a streaming writer does not know the length: it says 0xFFFFFFFF ("to the end")
    written = wav_bytes(data=data, data_size=0xFFFF_FFFF)
    writer = threading.Thread(target=pipe.write_bytes, args=(written,), daemon=True)
    writer.start()
    pcm = read_wav(pipe)
    writer.join(timeout=10)
    assert len(pcm) == 8000
