"""Read any PCM or float WAV file as 16 kHz mono int16, streamed block by block.

Memory stays flat whatever the file's length: the audio is read, decoded, mixed down and
resampled (soxr's streaming resampler, which gives the same samples as resampling the whole
file at once) one block at a time. The header is checked first (wavheader).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import soxr

from coach.hearing.wavheader import (
    FORMAT_FLOAT,
    WavError,
    WavFormat,
    WavFormatError,
    WavLayout,
    read_layout,
)

__all__ = [
    "BLOCK_BYTES",
    "TARGET_RATE",
    "WavError",
    "WavFormatError",
    "WavReader",
    "WavSource",
    "iter_chunks",
    "open_wav",
    "read_wav",
    "rechunk",
    "to_mono_16k",
]

_LOGGER = logging.getLogger(__name__)

TARGET_RATE = 16_000
"""Sample rate the speech engines take (hertz)."""
BLOCK_BYTES = 1 << 18
"""Audio bytes read and decoded at a time, by default: a few seconds of audio, a few MB
of float work space, whatever the file's length."""
_RESAMPLE_QUALITY = "HQ"

Pcm = npt.NDArray[np.int16]
Floats = npt.NDArray[np.float32]


def _decode_samples(raw: bytes, fmt: WavFormat) -> Floats:
    """Whole frames of raw sample bytes -> float32 in [-1, 1], still interleaved."""
    if fmt.tag == FORMAT_FLOAT:
        dtype = "<f4" if fmt.bits == 32 else "<f8"
        return np.frombuffer(raw, dtype).astype(np.float32)
    if fmt.bits == 8:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt.bits == 16:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if fmt.bits == 24:
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        as_int = triples[:, 0].astype(np.int32) | (triples[:, 1].astype(np.int32) << 8)
        as_int |= triples[:, 2].astype(np.int8).astype(np.int32) << 16  # sign from the top byte
        return as_int.astype(np.float32) / float(1 << 23)
    return np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)  # 32-bit PCM


def _mix_down(samples: Floats, channels: int) -> Floats:
    """Interleaved samples -> mono (channels averaged; a last partial frame dropped)."""
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mono: Floats = frames.mean(axis=1, dtype=np.float32)
    return mono


def _to_int16(mono: Floats) -> Pcm:
    # a damaged float file may hold NaN or infinity: silence or full scale, not garbage
    finite = np.nan_to_num(mono * 32768.0, nan=0.0)
    scaled: Pcm = np.clip(np.rint(finite), -32768, 32767).astype(np.int16)
    return scaled


def to_mono_16k(samples: Floats, rate: int, channels: int = 1) -> Pcm:
    """Interleaved float samples at any rate -> 16 kHz mono int16 (channels averaged)."""
    mono = _mix_down(samples, channels)
    if rate != TARGET_RATE and len(mono) > 0:
        mono = soxr.resample(mono, rate, TARGET_RATE, quality=_RESAMPLE_QUALITY).astype(
            np.float32)
    return _to_int16(mono)


class _Resampler:
    """Mono float blocks at `rate` -> at TARGET_RATE, continuing across blocks."""

    def __init__(self, rate: int) -> None:
        self._stream = (None if rate == TARGET_RATE else
                        soxr.ResampleStream(rate, TARGET_RATE, 1, dtype="float32",
                                            quality=_RESAMPLE_QUALITY))

    def block(self, mono: Floats) -> Floats:
        if self._stream is None or len(mono) == 0:
            return mono
        return np.asarray(self._stream.resample_chunk(mono, last=False), np.float32)

    def end(self) -> Floats:
        """What the resampler still holds once the input is over."""
        if self._stream is None:
            return np.zeros(0, np.float32)
        return np.asarray(self._stream.resample_chunk(np.zeros(0, np.float32), last=True),
                          np.float32)


def _open(path: Path) -> BinaryIO:
    """The file open for reading, or a WavError saying why it cannot be."""
    if path.is_dir():
        raise WavError(f"{path} is a folder, not a WAV file: give the path of a .wav recording")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise WavError(f"{path}: no such file; check the path of the WAV recording") from None
    except OSError as exc:
        raise WavError(f"cannot read {path}: {exc.strerror or exc}") from None


class WavReader:
    """An open WAV file whose header was checked, read as 16 kHz mono int16 blocks."""

    def __init__(self, path: Path, block_bytes: int = BLOCK_BYTES) -> None:
        self.path = Path(path)
        self.block_bytes = block_bytes
        """Audio bytes read and decoded at a time (rounded down to whole frames)."""
        self._stream = _open(self.path)
        try:
            self.layout: WavLayout = read_layout(self._stream, self.path)
        except OSError as exc:
            self._stream.close()
            raise WavError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            self._stream.close()
            raise

    @property
    def format(self) -> WavFormat:
        return self.layout.format

    @property
    def duration(self) -> float | None:
        """Length of the audio (seconds); None when the file's end is unknown (a pipe)."""
        if self.layout.data_bytes is None:
            return None
        return self.layout.data_bytes // self.format.frame_bytes / self.format.rate

    def blocks(self) -> Iterator[Pcm]:
        """The audio, 16 kHz mono, a block at a time (empty blocks left out)."""
        resampler = _Resampler(self.format.rate)
        try:
            if self._stream.seekable():  # from the start again on a second reading
                self._stream.seek(self.layout.data_start)
            for raw in self._raw_blocks():
                pcm = self._convert(raw, resampler)
                if len(pcm):
                    yield pcm
        except OSError as exc:
            raise WavError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        with np.errstate(over="ignore", invalid="ignore"):
            tail = _to_int16(resampler.end())
        if len(tail):
            yield tail

    def _convert(self, raw: bytes, resampler: _Resampler) -> Pcm:
        # huge or non-finite floats in a damaged file overflow on the way: no warnings,
        # _to_int16 makes them full scale or silence
        with np.errstate(over="ignore", invalid="ignore"):
            mono = _mix_down(_decode_samples(raw, self.format), self.format.channels)
            return _to_int16(resampler.block(mono))

    def _raw_blocks(self) -> Iterator[bytes]:
        """Whole frames of audio bytes, at most `block_bytes` at a time, up to the data's
        end or the file's, whichever comes first (a cut last frame is dropped)."""
        frame = self.format.frame_bytes
        step = max(frame, self.block_bytes // frame * frame)
        left = self.layout.data_bytes
        carry = b""
        while left is None or left > 0:
            piece = self._stream.read(step if left is None else min(step, left))
            if not piece:
                break
            if left is not None:
                left -= len(piece)
            data = carry + piece
            whole = len(data) // frame * frame
            carry = data[whole:]
            if whole:
                yield data[:whole]
        if carry:
            _LOGGER.debug("%s: the audio ends mid-sample; %d bytes left out", self.path,
                          len(carry))

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_wav(path: Path, block_bytes: int = BLOCK_BYTES) -> WavReader:
    """Open a WAV file (8/16/24/32-bit PCM or 32/64-bit float, 1-16 channels, 8-192 kHz) and
    check its header. Raises WavError (a CoachError) saying what is wrong and what to do."""
    return WavReader(Path(path), block_bytes)


def read_wav(path: Path) -> Pcm:
    """A whole WAV file as 16 kHz mono int16, in memory: for short files (tests, voices);
    stream long ones with open_wav. Raises WavError as open_wav does."""
    with open_wav(path) as reader:
        blocks = list(reader.blocks())
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


def rechunk(blocks: Iterable[Pcm], chunk_samples: int) -> Iterator[Pcm]:
    """Blocks of any length -> consecutive chunks of `chunk_samples` (the last may be
    shorter), each its own array so none keeps a whole block alive."""
    if chunk_samples < 1:
        raise ValueError("chunk_samples must be positive")
    pending = np.zeros(0, np.int16)
    for block in blocks:
        pending = np.concatenate([pending, block]) if len(pending) else block
        whole = len(pending) // chunk_samples * chunk_samples
        for begin in range(0, whole, chunk_samples):
            yield pending[begin : begin + chunk_samples].copy()
        pending = pending[whole:].copy()
    if len(pending):
        yield pending


def iter_chunks(pcm: Pcm, chunk_samples: int) -> Iterator[Pcm]:
    """Consecutive chunks of `chunk_samples` (the last one may be shorter)."""
    if chunk_samples < 1:
        raise ValueError("chunk_samples must be positive")
    for begin in range(0, len(pcm), chunk_samples):
        yield pcm[begin : begin + chunk_samples]


class WavSource:
    """A WAV file as a stream of 16 kHz mono int16 chunks; the file is the microphone.
    The header is checked on construction; the audio is read as it is iterated."""

    sample_rate = TARGET_RATE

    def __init__(self, path: Path, chunk_seconds: float = 0.1) -> None:
        self.path = Path(path)
        self.chunk_samples = max(1, round(chunk_seconds * TARGET_RATE))
        with open_wav(self.path) as reader:
            self._duration = reader.duration

    @property
    def duration(self) -> float | None:
        """Length of the audio (seconds); None when unknown (a pipe)."""
        return self._duration

    def __iter__(self) -> Iterator[Pcm]:
        with open_wav(self.path) as reader:
            yield from rechunk(reader.blocks(), self.chunk_samples)
