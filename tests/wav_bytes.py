"""WAV files as bytes, made at test time: valid ones in every encoding the reader takes,
and the pieces to damage them with."""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["FORMAT_FLOAT", "FORMAT_PCM", "chunk", "riff", "tone_bytes", "wav_bytes"]

FORMAT_PCM = 1
FORMAT_FLOAT = 3


def chunk(chunk_id: bytes, body: bytes, size: int | None = None) -> bytes:
    """A RIFF chunk; `size` overrides the size its header claims."""
    claimed = len(body) if size is None else size
    return chunk_id + struct.pack("<I", claimed) + body + (b"\0" if len(body) & 1 else b"")


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_body(tag: int = FORMAT_PCM, channels: int = 1, rate: int = 16000,
             bits: int = 16) -> bytes:
    frame = channels * bits // 8
    # byte rate and block align as a writer would put them, wrapped to their fields' width
    return struct.pack("<HHIIHH", tag, channels, rate, rate * frame % 2**32, frame % 2**16,
                       bits)


def wav_bytes(tag: int = FORMAT_PCM, channels: int = 1, rate: int = 16000, bits: int = 16,
              data: bytes = b"\0\0" * 1600, data_size: int | None = None) -> bytes:
    """A WAV file whose header says these things, holding `data` (whatever it claims)."""
    return riff(chunk(b"fmt ", fmt_body(tag, channels, rate, bits)),
                chunk(b"data", data, data_size))


def tone_bytes(tag: int, bits: int, channels: int, frames: int, seed: int = 0) -> bytes:
    """`frames` frames of random audio in this encoding (full scale, as a recording)."""
    rng = np.random.default_rng(seed)
    samples = rng.uniform(-0.9, 0.9, frames * channels)
    if tag == FORMAT_FLOAT:
        return bytes(samples.astype("<f4" if bits == 32 else "<f8").tobytes())
    if bits == 8:
        return bytes(np.rint(samples * 127 + 128).astype(np.uint8).tobytes())
    as_int = np.rint(samples * (2 ** (bits - 1) - 1)).astype("<i4")
    if bits == 24:
        return bytes(as_int.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return bytes(as_int.astype("<i2" if bits == 16 else "<i4").tobytes())
