"""Hostile WAV input through the real CLI: `coach listen --input` and `coach run --input`
end a bad file with one line ("coach: ..."), exit code 2 and no traceback; a file whose
audio is cut short is read as far as it goes. And a fuzz test of the WAV reader: any bytes
end in audio or a CoachError, quickly."""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.cli.main import main
from coach.errors import CoachError
from coach.hearing.wavsource import read_wav
from tests.wav_bytes import FORMAT_FLOAT, chunk, fmt_body, riff, wav_bytes

ROOT = Path(__file__).resolve().parent.parent

HOSTILE: dict[str, tuple[bytes | str | None, str]] = {  # name: (content, what the line says)
    "missing.wav": (None, "no such file"),
    "folder.wav": ("folder", "is a folder"),
    "text.wav": (b"hello, I am a shopping list\n", "starts with 'hello, I am '"),
    "empty.wav": (b"", "it is empty"),
    "song.wav": (b"ID3\x04\x00" + bytes(300), "looks like an MP3"),
    "riff-only.wav": (b"RIFF\x10\x00", "cut short"),
    "truncated-header.wav": (wav_bytes()[:30], "cut short"),
    "no-data.wav": (riff(chunk(b"fmt ", fmt_body())), "no audio data"),
    "data-first.wav": (riff(chunk(b"data", bytes(8)), chunk(b"fmt ", fmt_body())),
                       "data comes before its format"),
    "adpcm.wav": (wav_bytes(tag=0x11, bits=4), "unsupported WAV encoding"),
    "float16.wav": (wav_bytes(tag=FORMAT_FLOAT, bits=16), "unsupported WAV encoding"),
    "zero-channels.wav": (wav_bytes(channels=0), "0 channels"),
    "many-channels.wav": (wav_bytes(channels=65535), "65535 channels"),
    "one-hertz.wav": (wav_bytes(rate=1), "at 1 Hz"),
    "zero-hertz.wav": (wav_bytes(rate=0), "at 0 Hz"),
    "absurd-rate.wav": (wav_bytes(rate=4_000_000_000), "at 4000000000 Hz"),
    "endless-chunks.wav": (riff(*[chunk(b"JUNK", b"") for _ in range(500)]), "chunks"),
    "rf64.wav": (b"RF64" + bytes(60), "RF64"),
}
"""Files that are no WAV recording this reader takes; each one is an input error."""

SHORT = {
    "huge-declared-data.wav": wav_bytes(data=bytes(3200), data_size=0xFFFF_FFF0),
    "cut-mid-sample.wav": wav_bytes(bits=16, data=bytes(3201)),
    "cut-mid-frame.wav": wav_bytes(channels=2, bits=24, data=bytes(6 * 500 + 4)),
}
"""Files whose audio is cut short (or claims more than there is): read as far as they go."""


def make(folder: Path, name: str, content: bytes | str | None) -> Path:
    path = folder / name
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


def one_error_line(stderr: str, path: Path) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("coach: ") and str(path) in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(autouse=True)
def fresh_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first-run disclaimer marker goes to a test folder, never the user's
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("command", ["listen", "run"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, command: str
) -> None:
    content, says = HOSTILE[name]
    path = make(tmp_path, name, content)
    started = time.monotonic()
    code = main([command, "--input", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert says in one_error_line(captured.err, path)
    assert captured.out == ""
    assert time.monotonic() - started < 30.0  # told before any speech model loads


@pytest.mark.parametrize("args", [("listen", "text.wav"), ("run", "one-hertz.wav")])
def test_the_real_process_prints_one_line_and_exits_2(
    tmp_path: Path, args: tuple[str, str]
) -> None:
    command, name = args
    path = make(tmp_path, name, HOSTILE[name][0])
    result = subprocess.run([sys.executable, "-m", "coach", command, "--input", str(path)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")})
    assert result.returncode == 2, result.stderr
    one_error_line(result.stderr, path)


@pytest.mark.parametrize("name", sorted(SHORT))
def test_audio_cut_short_is_read_as_far_as_it_goes(tmp_path: Path, name: str) -> None:
    pcm = read_wav(make(tmp_path, name, SHORT[name]))
    assert 0 < len(pcm) <= 1600


@pytest.mark.slow
def test_listen_reads_a_truncated_file_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = make(tmp_path, "huge-declared-data.wav", SHORT["huge-declared-data.wav"])
    code = main(["listen", "--input", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err
    warned = [r.getMessage() for r in caplog.records if r.name == "coach.hearing.wavheader"]
    assert len(warned) == 1 and "truncated" in warned[0]


# --- fuzz ----------------------------------------------------------------------------------

_FUZZ = settings(max_examples=150, deadline=10_000,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
"""Each input must end within the deadline (milliseconds): no hang, no runaway decoding."""


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="wav-fuzz-") as folder:
        yield Path(folder) / "fuzz.wav"


def read_or_coach_error(path: Path, data: bytes) -> None:
    """Read `data` as a WAV file: audio, or a CoachError; anything else fails the test."""
    path.write_bytes(data)
    with contextlib.suppress(CoachError):
        read_wav(path)


@_FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_audio_or_a_coach_error(scratch: Path, data: bytes) -> None:
    read_or_coach_error(scratch, data)


@_FUZZ
@given(data=st.binary(max_size=2048))
def test_random_chunks_after_a_riff_header_are_audio_or_a_coach_error(
    scratch: Path, data: bytes
) -> None:
    read_or_coach_error(scratch, b"RIFF" + struct.pack("<I", len(data) + 4) + b"WAVE" + data)


_U16 = st.integers(0, 0xFFFF)
_U32 = st.integers(0, 0xFFFF_FFFF)


@_FUZZ
@given(
    tag=st.one_of(st.sampled_from([1, 3, 0xFFFE]), _U16),
    channels=st.one_of(st.integers(1, 3), _U16),
    rate=st.one_of(st.sampled_from([8000, 11025, 16000, 44100, 48000, 192000]), _U32),
    bits=st.one_of(st.sampled_from([8, 16, 24, 32, 64]), _U16),
    data=st.binary(max_size=3000),
    data_size=st.one_of(st.none(), _U32),
    flips=st.lists(st.tuples(st.integers(0, 80), st.integers(0, 255)), max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 3100)),
)
def test_mutated_valid_headers_are_audio_or_a_coach_error(
    scratch: Path, tag: int, channels: int, rate: int, bits: int, data: bytes,
    data_size: int | None, flips: list[tuple[int, int]], cut: int | None,
) -> None:
    mutated = bytearray(wav_bytes(tag, channels, rate, bits, data, data_size))
    for position, value in flips:
        if position < len(mutated):
            mutated[position] = value
    read_or_coach_error(scratch, bytes(mutated[:cut]))
