"""A WAV file's header, read from an open file and checked before any audio is read.

Every claim the header makes (encoding, channels, rate, where the audio is and how long it
is) is checked against what this reader takes, against sane bounds and against the file's
real size, so a damaged or hostile header is one clear WavError, never a hang or a huge
allocation. Only the header is read here; the audio is streamed by wavsource.
"""

from __future__ import annotations

import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from coach.errors import CoachError

__all__ = [
    "CONVERT_HINT",
    "MAX_CHANNELS",
    "MAX_RATE",
    "MIN_RATE",
    "WavError",
    "WavFormat",
    "WavFormatError",
    "WavLayout",
    "read_layout",
]

_LOGGER = logging.getLogger(__name__)

MIN_RATE = 8_000
"""Lowest sample rate taken (hertz): telephone audio, the narrowest band speech comes in;
a header claiming less is damaged, and a tiny rate would make resampling to 16 kHz blow
every second of the file up into hours of output."""
MAX_RATE = 192_000
"""Highest sample rate taken (hertz): the highest rate studio recorders write."""
MAX_CHANNELS = 16
"""Most channels taken: beyond surround mixes (7.1.4) and 8- or 16-microphone arrays."""

FORMAT_PCM = 1
FORMAT_FLOAT = 3
_FORMAT_EXTENSIBLE = 0xFFFE
_SUPPORTED_BITS = {FORMAT_PCM: (8, 16, 24, 32), FORMAT_FLOAT: (32, 64)}
_UNKNOWN_LENGTH = 0xFFFF_FFFF
"""The data size streaming writers (ffmpeg to a pipe) put in: "up to the end of the file"."""
_MAX_CHUNKS_BEFORE_DATA = 100
"""Chunks skipped looking for the audio (real files have a handful: fmt, fact, LIST, bext,
JUNK); a file of endless tiny chunks is damaged, and would take long to walk."""
_FORMAT_READ_LIMIT = 64
"""Bytes of the format chunk read (its fields end at 40); a larger claimed size is skipped."""

CONVERT_HINT = ("give a 16-bit PCM WAV, e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 OUTPUT.wav` "
                "or `sox INPUT -r 16000 -c 1 -b 16 OUTPUT.wav`")
"""What to do with a file this reader does not take."""
_AGAIN_HINT = "record or convert it again"


class WavError(CoachError):
    """A WAV file could not be read; the message says what is wrong and what to do."""


class WavFormatError(WavError, ValueError):
    """The file is not a WAV file this reader understands."""


@dataclass(frozen=True)
class WavFormat:
    """How the samples are encoded, as the header says and this reader takes."""

    tag: int
    """FORMAT_PCM (integers) or FORMAT_FLOAT (the sub-format of an extensible header)."""
    channels: int
    rate: int
    """Sample rate (hertz)."""
    bits: int
    """Bits per sample of one channel."""

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample on every channel."""
        return self.channels * self.bits // 8


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV file's audio is and how it is encoded."""

    format: WavFormat
    data_start: int
    """Offset of the first audio byte in the file."""
    data_bytes: int | None
    """Audio bytes to read, within the file; None: up to its end (a pipe, or unknown)."""


def read_layout(stream: BinaryIO, path: Path) -> WavLayout:
    """The checked layout of the WAV file open in `stream`, positioned at its first audio
    byte; a WavError with what is wrong and what to do when the file cannot be taken."""
    _check_riff(stream.read(12), path)
    fmt: WavFormat | None = None
    position = 12
    for _ in range(_MAX_CHUNKS_BEFORE_DATA):
        header = stream.read(8)
        if len(header) < 8:
            break
        chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
        position += 8
        if chunk_id == b"data":
            if fmt is None:
                raise WavFormatError(f"{path}: the WAV data comes before its format; "
                                     f"{CONVERT_HINT}")
            return WavLayout(fmt, position, _data_bytes(stream, path, position, size))
        if chunk_id == b"fmt ":
            body = stream.read(min(size, _FORMAT_READ_LIMIT))
            fmt = _parse_format(body, path)
            _skip(stream, size + (size & 1) - len(body))
        else:
            _skip(stream, size + (size & 1))  # chunks are word-aligned
        position += size + (size & 1)
    else:
        raise WavFormatError(f"{path}: more than {_MAX_CHUNKS_BEFORE_DATA} chunks before the "
                             f"audio, so the file is damaged; {_AGAIN_HINT}")
    raise WavFormatError(f"{path}: the WAV file holds no audio data (it may be truncated); "
                         f"{_AGAIN_HINT}")


def _check_riff(head: bytes, path: Path) -> None:
    if head[:4] == b"RIFF" and len(head) < 12:
        raise WavFormatError(f"{path}: the WAV header is cut short (the file is truncated); "
                             f"{_AGAIN_HINT}")
    if head[:4] == b"RF64":
        raise WavFormatError(f"{path} is an RF64 WAV (for files over 4 GB), which this reader "
                             f"does not take; cut it shorter, then {CONVERT_HINT}")
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavFormatError(f"{path} is not a WAV file ({_describe_start(head)}); "
                             f"{CONVERT_HINT}")


_KNOWN_STARTS = {b"ID3": "an MP3", b"\xff\xfb": "an MP3", b"fLaC": "a FLAC file",
                 b"OggS": "an Ogg file", b"FORM": "an AIFF file", b"\x1a\x45\xdf\xa3":
                 "a WebM or Matroska file"}


def _describe_start(head: bytes) -> str:
    """What the first bytes say the file is, for the user: its text, or its kind."""
    if not head:
        return "it is empty"
    for magic, kind in _KNOWN_STARTS.items():
        if head.startswith(magic):
            return f"it looks like {kind}"
    if head[4:8] == b"ftyp":
        return "it looks like an MP4 or M4A file"
    text = head.decode("ascii", errors="replace")
    if text.isprintable():
        return f"it starts with {text!r}"
    return f"it starts with the bytes {head[:8].hex(' ')}"


def _parse_format(body: bytes, path: Path) -> WavFormat:
    if len(body) < 16:
        raise WavFormatError(f"{path}: the WAV header is cut short (the file is truncated); "
                             f"{_AGAIN_HINT}")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _FORMAT_EXTENSIBLE and len(body) >= 26:
        (tag,) = struct.unpack_from("<H", body, 24)  # first two bytes of the sub-format GUID
    problem = _channels_problem(channels) or _rate_problem(rate)
    if problem:
        said = f"{channels} channel{'' if channels == 1 else 's'} at {rate} Hz"
        raise WavFormatError(f"{path}: the WAV header says {said}, but {problem}, so the "
                             f"header is damaged or the file is not a recording; {CONVERT_HINT}")
    if bits not in _SUPPORTED_BITS.get(tag, ()):
        raise WavFormatError(
            f"{path}: unsupported WAV encoding (format tag {tag:#x}, {bits}-bit samples); "
            f"this reader takes 8/16/24/32-bit PCM and 32/64-bit float: {CONVERT_HINT}")
    return WavFormat(tag, channels, rate, bits)


def _channels_problem(channels: int) -> str:
    if channels < 1:
        return "audio has at least 1 channel"
    if channels > MAX_CHANNELS:
        return f"this reader takes at most {MAX_CHANNELS}"
    return ""


def _rate_problem(rate: int) -> str:
    if rate < MIN_RATE:
        return f"speech needs at least {MIN_RATE} Hz"
    if rate > MAX_RATE:
        return f"no recorder goes beyond {MAX_RATE} Hz"
    return ""


def _data_bytes(stream: BinaryIO, path: Path, start: int, declared: int) -> int | None:
    """The audio bytes to read: what the header says, cut to what the file holds."""
    size = _file_size(stream)
    if size is None:
        return None if declared == _UNKNOWN_LENGTH else declared
    present = max(0, size - start)
    if declared > present and declared != _UNKNOWN_LENGTH:
        _LOGGER.warning("%s: the WAV header promises %d bytes of audio but the file holds %d "
                        "(it is truncated); reading what is there", path, declared, present)
    return min(declared, present)


def _file_size(stream: BinaryIO) -> int | None:
    """The size of a regular file; None for a pipe or a device, whose end is unknown."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _skip(stream: BinaryIO, count: int) -> None:
    """Move `count` bytes on: a seek in a file, reads (bounded by its end) in a pipe."""
    if count <= 0:
        return
    if stream.seekable():
        stream.seek(count, os.SEEK_CUR)
        return
    while count > 0:
        piece = stream.read(min(count, 1 << 16))
        if not piece:
            return
        count -= len(piece)
