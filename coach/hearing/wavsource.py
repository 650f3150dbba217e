"""Read any PCM or float WAV file as 16 kHz mono int16 and hand it out in chunks."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr

from coach.errors import CoachError

__all__ = [
    "TARGET_RATE",
    "WavError",
    "WavFormatError",
    "WavSource",
    "iter_chunks",
    "read_wav",
    "to_mono_16k",
]

TARGET_RATE = 16_000
"""Sample rate the speech engines take (hertz)."""

_FORMAT_PCM = 1
_FORMAT_FLOAT = 3
_FORMAT_EXTENSIBLE = 0xFFFE


_CONVERT_HINT = "convert it with e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 OUTPUT.wav`"


class WavError(CoachError):
    """A WAV file could not be read; the message says what is wrong and what to do."""


class WavFormatError(WavError, ValueError):
    """The file is not a WAV file this reader understands."""


@dataclass(frozen=True)
class _WavFormat:
    tag: int
    channels: int
    rate: int
    bits: int


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (id, body) for each RIFF chunk after the 12-byte header."""
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        yield chunk_id, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)  # chunks are word-aligned


def _parse_format(body: bytes, path: Path) -> _WavFormat:
    if len(body) < 16:
        raise WavFormatError(f"{path}: the WAV header is cut short (the file is truncated); "
                             "record or convert it again")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _FORMAT_EXTENSIBLE and len(body) >= 26:
        (tag,) = struct.unpack_from("<H", body, 24)  # first two bytes of the sub-format GUID
    if channels < 1 or rate < 1:
        raise WavFormatError(f"{path}: the WAV header says {channels} channels at {rate} Hz, "
                             f"which no audio has; {_CONVERT_HINT}")
    return _WavFormat(tag, channels, rate, bits)


def _unsupported(path: Path, fmt: _WavFormat) -> WavFormatError:
    return WavFormatError(
        f"{path}: unsupported WAV encoding (format tag {fmt.tag:#x}, {fmt.bits}-bit samples); "
        f"this reader takes 8/16/24/32-bit PCM and 32/64-bit float: {_CONVERT_HINT}")


def _decode_samples(raw: bytes, fmt: _WavFormat, path: Path) -> npt.NDArray[np.float32]:
    """Raw sample bytes -> float32 in [-1, 1], still interleaved."""
    if fmt.tag == _FORMAT_FLOAT and fmt.bits in (32, 64):
        dtype = np.float32 if fmt.bits == 32 else np.float64
        return np.frombuffer(raw[: len(raw) - len(raw) % (fmt.bits // 8)], dtype).astype(np.float32)
    if fmt.tag != _FORMAT_PCM:
        raise _unsupported(path, fmt)
    if fmt.bits == 8:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt.bits == 16:
        return np.frombuffer(raw[: len(raw) & ~1], "<i2").astype(np.float32) / 32768.0
    if fmt.bits == 24:
        usable = np.frombuffer(raw[: len(raw) - len(raw) % 3], np.uint8).reshape(-1, 3)
        as_int = usable[:, 0].astype(np.int32) | (usable[:, 1].astype(np.int32) << 8)
        as_int |= usable[:, 2].astype(np.int8).astype(np.int32) << 16  # sign from the top byte
        return as_int.astype(np.float32) / float(1 << 23)
    if fmt.bits == 32:
        return np.frombuffer(raw[: len(raw) & ~3], "<i4").astype(np.float32) / float(1 << 31)
    raise _unsupported(path, fmt)


def to_mono_16k(
    samples: npt.NDArray[np.float32], rate: int, channels: int = 1
) -> npt.NDArray[np.int16]:
    """Interleaved float samples at any rate -> 16 kHz mono int16 (channels averaged)."""
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mono = frames.mean(axis=1, dtype=np.float32)
    if rate != TARGET_RATE and len(mono) > 0:
        mono = soxr.resample(mono, rate, TARGET_RATE, quality="HQ").astype(np.float32)
    scaled: npt.NDArray[np.int16] = np.clip(np.rint(mono * 32768.0), -32768, 32767).astype(np.int16)
    return scaled


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or a WavError saying why they cannot be read."""
    if path.is_dir():
        raise WavError(f"{path} is a folder, not a WAV file: give the path of a .wav recording")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WavError(f"{path}: no such file; check the path of the WAV recording") from None
    except OSError as exc:
        raise WavError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Read a WAV file (8/16/24/32-bit PCM or float, any rate and channel count).

    Raises WavError (a CoachError) with what is wrong and what to do when it cannot.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data[:4] == b"RIFF" and len(data) < 12:
        raise WavFormatError(f"{path}: the WAV header is cut short (the file is truncated); "
                             "record or convert it again")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavFormatError(f"{path} is not a WAV file (no RIFF/WAVE header); {_CONVERT_HINT}")
    fmt: _WavFormat | None = None
    for chunk_id, body in _chunks(data):
        if chunk_id == b"fmt ":
            fmt = _parse_format(body, path)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavFormatError(f"{path}: the WAV data comes before its format; "
                                     f"{_CONVERT_HINT}")
            return to_mono_16k(_decode_samples(body, fmt, path), fmt.rate, fmt.channels)
    raise WavFormatError(f"{path}: the WAV file holds no audio data (it may be truncated); "
                         "record or convert it again")


def iter_chunks(pcm: npt.NDArray[np.int16], chunk_samples: int) -> Iterator[npt.NDArray[np.int16]]:
    """Consecutive chunks of `chunk_samples` (the last one may be shorter)."""
    if chunk_samples < 1:
        raise ValueError("chunk_samples must be positive")
    for begin in range(0, len(pcm), chunk_samples):
        yield pcm[begin : begin + chunk_samples]


class WavSource:
    """A WAV file as a stream of 16 kHz mono int16 chunks; the file is the microphone."""

    sample_rate = TARGET_RATE

    def __init__(self, path: Path, chunk_seconds: float = 0.1) -> None:
        self.path = Path(path)
        self.chunk_samples = max(1, round(chunk_seconds * TARGET_RATE))
        self.pcm = read_wav(self.path)

    @property
    def duration(self) -> float:
        """Length of the audio (seconds)."""
        return len(self.pcm) / TARGET_RATE

    def __iter__(self) -> Iterator[npt.NDArray[np.int16]]:
        return iter_chunks(self.pcm, self.chunk_samples)
