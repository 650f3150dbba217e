"""Errors a user can act on in hearing are CoachErrors: a bad WAV file, no microphone, a
missing engine or echo canceller. Each says what is wrong and what to do."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from coach.errors import CoachError
from coach.hearing.aec import AecUnavailableError
from coach.hearing.asr.base import EngineUnavailableError
from coach.hearing.microphone import NoMicrophoneError
from coach.hearing.wavsource import WavError, WavFormatError, read_wav


def wav_bytes(tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16,
              data: bytes = b"\0\0" * 160) -> bytes:
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * 2, 2, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_hearing_errors_are_coach_errors_and_keep_their_old_bases() -> None:
    assert issubclass(NoMicrophoneError, CoachError) and issubclass(NoMicrophoneError, RuntimeError)
    assert issubclass(EngineUnavailableError, CoachError)
    assert issubclass(EngineUnavailableError, RuntimeError)
    assert issubclass(AecUnavailableError, CoachError)
    assert issubclass(AecUnavailableError, RuntimeError)
    assert issubclass(WavFormatError, WavError) and issubclass(WavFormatError, ValueError)
    assert issubclass(WavError, CoachError)


def test_a_good_file_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.wav"
    path.write_bytes(wav_bytes())
    assert np.array_equal(read_wav(path), np.zeros(160, np.int16))


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("missing.wav", None, "no such file"),
        ("folder", "dir", "is a folder"),
        ("notes.txt", b"just some text, not audio at all", "is not a WAV file"),
        ("song.mp3", b"ID3\x03\x00" + bytes(200), "is not a WAV file"),
        ("cut.wav", b"RIFF\x10\x00", "cut short"),
        ("cut-fmt.wav", wav_bytes()[:30], "cut short"),
        ("empty-riff.wav", b"RIFF\x04\x00\x00\x00WAVE", "no audio data"),
        ("adpcm.wav", wav_bytes(tag=0x11, bits=4), "unsupported WAV encoding"),
        ("pcm12.wav", wav_bytes(bits=12), "unsupported WAV encoding"),
        ("float16.wav", wav_bytes(tag=3, bits=16), "unsupported WAV encoding"),
        ("silent.wav", wav_bytes(channels=0), "0 channels"),
        ("norate.wav", wav_bytes(rate=0), "at 0 Hz"),
    ],
)
def test_a_bad_file_is_a_clear_coach_error(
    tmp_path: Path, name: str, content: bytes | str | None, says: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(WavError) as caught:
        read_wav(path)
    message = str(caught.value)
    assert isinstance(caught.value, CoachError)
    assert says in message and str(path) in message, message
    assert caught.value.__cause__ is None or caught.value.__suppress_context__


def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    path = tmp_path / "locked.wav"
    path.write_bytes(wav_bytes())
    path.chmod(0)
    try:
        if _readable(path):
            pytest.skip("running as root: every file is readable")
        with pytest.raises(WavError, match="cannot read"):
            read_wav(path)
    finally:
        path.chmod(0o644)


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True
