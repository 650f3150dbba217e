"""The int8 copy of the Whisper weights: same decoding as quantizing at load, less memory,
and any trouble with the copy leaves the original weights in use."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from coach.hearing.asr import whisper_decoder
from coach.hearing.asr.ct2_int8 import Int8Error, int8_copy, quantize_rows, write_int8_model
from coach.hearing.asr.whisper_decoder import WhisperDecoder, find_whisper_model
from coach.settings.hearing import WhisperSettings
from tests.speech_fixtures import concat, espeak_available, pink_noise, speak

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")


def test_each_row_is_scaled_to_127_at_its_largest_magnitude() -> None:
    rows = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [2.0, 1.0, -0.004]], np.float16)
    quantized, scale = quantize_rows(rows)
    assert quantized.dtype == np.int8 and scale.dtype == np.float32
    assert quantized[0].tolist() == [64, -127, 32]  # 63.5 rounds to the even 64
    assert quantized[1].tolist() == [0, 0, 0] and scale[1] == pytest.approx(1.0)
    assert quantized[2].tolist() == [127, 64, 0]
    error = np.abs(quantized / scale[:, None] - rows.astype(np.float32))
    assert (error <= 0.5 / scale[:, None] + 1e-6).all()


@pytest.fixture(scope="module")
def copy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return int8_copy(find_whisper_model(), tmp_path_factory.mktemp("cache"))


def test_the_copy_holds_int8_matrices_and_everything_else(copy_folder: Path) -> None:
    original = find_whisper_model()
    assert copy_folder != original and copy_folder.name.startswith("int8-")
    assert sorted(p.name for p in copy_folder.iterdir()) == sorted(
        p.name for p in original.iterdir() if p.is_file())
    size, original_size = (copy_folder / "model.bin").stat().st_size, (
        original / "model.bin").stat().st_size
    assert size < 0.6 * original_size  # one byte a weight instead of two
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        assert (copy_folder / name).read_bytes() == (original / name).read_bytes()
    assert not list(copy_folder.parent.glob("*.partial"))


def test_a_second_start_reuses_the_copy(copy_folder: Path) -> None:
    written = (copy_folder / "model.bin").stat().st_mtime_ns
    assert int8_copy(find_whisper_model(), copy_folder.parent) == copy_folder
    assert (copy_folder / "model.bin").stat().st_mtime_ns == written


def test_a_model_already_int8_is_used_as_it_is(copy_folder: Path, tmp_path: Path) -> None:
    assert int8_copy(copy_folder, tmp_path) == copy_folder
    assert not any(tmp_path.iterdir())


@needs_espeak
def test_the_copy_decodes_exactly_as_quantizing_at_load(
        copy_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = WhisperSettings()
    from_copy = WhisperDecoder(copy_folder, settings)
    monkeypatch.setattr(whisper_decoder, "int8_copy", lambda folder, cache: folder)
    at_load = WhisperDecoder(find_whisper_model(), settings)  # the runtime quantizes
    utterances = [speak("how much time is left"), speak("start the core", "en-gb"),
                  concat(speak("skip this one"), pink_noise(0.5, -30.0))]
    for pcm in utterances:
        a, b = at_load.decode(pcm), from_copy.decode(pcm)
        assert (a.text, a.avg_logprob, a.no_speech_prob) == (b.text, b.avg_logprob,
                                                             b.no_speech_prob)
    assert "time" in from_copy.decode(utterances[0]).text.lower()


def test_the_decoder_loads_the_copy_from_the_cache_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    decoder = WhisperDecoder()
    copies = list((tmp_path / "coach" / "whisper").glob("int8-*"))
    assert len(copies) == 1 and (copies[0] / "model.bin").is_file()
    assert decoder.model_path == find_whisper_model()


def test_a_broken_copy_is_discarded_and_the_original_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    copy = int8_copy(find_whisper_model(), tmp_path / "coach" / "whisper")
    (copy / "model.bin").write_bytes(b"\x06\x00\x00\x00not a model")
    decoder = WhisperDecoder()
    assert decoder.decode(np.zeros(16000, np.int16)).no_speech_prob >= 0.0
    assert "did not load" in caplog.text
    assert not copy.exists()  # the next start writes it again


def test_an_unwritable_cache_keeps_the_original(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    assert int8_copy(find_whisper_model(), blocked) == find_whisper_model()


def _model_dir_with(tmp_path: Path, model_bin: bytes) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(model_bin)
    (folder / "config.json").write_text("{}")
    return folder


@pytest.mark.parametrize("model_bin", [
    b"",  # empty
    struct.pack("<I", 99) + b"rest",  # a version this coach does not know
    (find_whisper_model() / "model.bin").read_bytes()[:100_000],  # cut short
], ids=["empty", "unknown-version", "truncated"])
def test_a_model_file_it_cannot_read_is_used_as_it_is(tmp_path: Path, model_bin: bytes) -> None:
    folder = _model_dir_with(tmp_path, model_bin)
    cache = tmp_path / "cache"
    assert int8_copy(folder, cache) == folder
    assert not cache.exists() or not any(cache.iterdir())


def test_write_int8_model_names_the_problem(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(struct.pack("<I", 1))
    with pytest.raises(Int8Error, match="version 1"):
        write_int8_model(source, tmp_path / "out.bin")


def test_a_new_original_makes_a_new_copy(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(find_whisper_model(), folder)
    cache = tmp_path / "cache"
    first = int8_copy(folder, cache)
    stat = (folder / "model.bin").stat()
    os.utime(folder / "model.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = int8_copy(folder, cache)
    assert first != second and (second / "model.bin").is_file()
