"""A CTranslate2 model's weights stored as int8, made once, so loading never widens them.

Asked for int8, CTranslate2 reads a float16 model.bin whole and quantizes it in memory: for a
moment it holds the float16 file, a float32 copy of the largest matrix and the int8 result
together, more than twice what the model needs afterwards. A model.bin whose matrices are
already int8 loads as it is. This module writes that copy, variable by variable, with the
runtime's own rule (one scale per row: 127 over the row's largest magnitude, rounded to the
nearest), so decoding gives the same tokens and scores as quantizing at load.

The file format is CTranslate2's model.bin (versions 2 to 6): a header, then for each variable
its name, shape, type and bytes, then aliases. A model in any other form is used as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

__all__ = [
    "FORMAT_VERSION", "Int8Error", "discard", "int8_copy", "quantize_rows", "write_int8_model",
]

_LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = "1"
"""Bumped when the copy is written differently, so an old copy is made again."""
_KNOWN_BINARY_VERSIONS = range(2, 7)
_MODEL_FILE = "model.bin"
_ROWS_PER_BLOCK = 4096
"""Rows quantized at a time: the largest matrix is never widened to float32 whole."""

# CTranslate2's type ids, in its order; bfloat16 (5) has no numpy type and is copied as bytes.
_TYPES: dict[int, np.dtype[np.generic]] = {
    0: np.dtype(np.float32), 1: np.dtype(np.int8), 2: np.dtype(np.int16),
    3: np.dtype(np.int32), 4: np.dtype(np.float16),
}
_FLOAT32, _INT8 = 0, 1
_FLOAT16 = 4


class Int8Error(Exception):
    """The model file is not one this module can rewrite (the caller keeps the original)."""


@dataclass(frozen=True)
class _Variable:
    name: str
    shape: tuple[int, ...]
    type_id: int
    size: int
    offset: int
    """Where its bytes start in the file."""

    @property
    def quantized_like_the_runtime(self) -> bool:
        """Matrices of linear and embedding layers; the runtime keeps convolutions in float."""
        return (self.name.endswith("/weight") and len(self.shape) == 2
                and self.type_id in (_FLOAT32, _FLOAT16))


def quantize_rows(
    rows: npt.NDArray[np.floating],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 rows and their scales: each row times 127 over its largest magnitude, rounded."""
    wide = rows.astype(np.float32)
    amax = np.amax(np.abs(wide), axis=1)
    amax[amax == 0] = 127.0  # an all-zero row stays zero with a scale of 1
    scale = (np.float32(127.0) / amax).astype(np.float32)
    quantized = np.rint(wide * scale[:, None]).astype(np.int8)
    return quantized, scale


def write_int8_model(source: Path, target: Path) -> int:
    """Write `source` (a model.bin) to `target` with its matrices as int8; the count rewritten.

    Raises Int8Error when `source` is not a model.bin this module knows, OSError on I/O.
    """
    quantized: set[str] = set()
    with source.open("rb") as reading, target.open("wb") as writing:
        version = _read_u32(reading)
        if version not in _KNOWN_BINARY_VERSIONS:
            raise Int8Error(f"{source}: model.bin version {version} is not one this coach knows")
        _write_u32(writing, version)
        _write_string(writing, _read_string(reading))  # the spec's name
        _write_u32(writing, _read_u32(reading))  # its revision
        count = _read_u32(reading)
        variables = [*_variables_of(reading, count)]
        aliases_at = reading.tell()
        scales = sum(1 for variable in variables if variable.quantized_like_the_runtime)
        _write_u32(writing, count + scales)
        for variable in variables:
            reading.seek(variable.offset)
            if variable.quantized_like_the_runtime:
                _write_quantized(reading, writing, variable)
                quantized.add(variable.name)
            else:
                _write_variable_header(writing, variable.name, variable.shape, variable.type_id,
                                       variable.size)
                _copy_bytes(reading, writing, variable.size)
        reading.seek(aliases_at)
        aliases = [(_read_string(reading), _read_string(reading))
                   for _ in range(_read_u32(reading))]
        aliases += [(f"{alias}_scale", f"{name}_scale") for alias, name in aliases
                    if name in quantized]
        _write_u32(writing, len(aliases))
        for alias, name in aliases:
            _write_string(writing, alias)
            _write_string(writing, name)
        if reading.read(1):
            raise Int8Error(f"{source}: bytes after the aliases; not a model.bin this coach knows")
    return len(quantized)


def int8_copy(model_dir: Path, cache_dir: Path) -> Path:
    """The folder of `model_dir`'s int8 copy in `cache_dir`, written on first use.

    `model_dir` itself when it holds no float matrix, or when no copy can be made (a read-only
    cache, an unknown format): the runtime then quantizes at load, using more memory for a
    moment.
    """
    source = model_dir / _MODEL_FILE
    try:
        stat = source.stat()
    except OSError:
        return model_dir
    identity = f"{FORMAT_VERSION}|{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    folder = cache_dir / f"int8-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
    if (folder / _MODEL_FILE).is_file():
        return folder
    partial = cache_dir / f"{folder.name}.{os.getpid()}.partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for item in model_dir.iterdir():
            if item.is_file() and item.name != _MODEL_FILE:
                shutil.copyfile(item, partial / item.name)
        rewritten = write_int8_model(source, partial / _MODEL_FILE)
        if not rewritten:  # already int8: nothing to gain from a copy
            shutil.rmtree(partial, ignore_errors=True)
            return model_dir
        partial.replace(folder)
    except (OSError, Int8Error, ValueError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        if (folder / _MODEL_FILE).is_file():  # another coach wrote it first
            return folder
        _LOGGER.warning("Keeping %s as it is (no int8 copy: %s)", model_dir, error)
        return model_dir
    _LOGGER.info("Wrote the int8 copy of %s (%d matrices) to %s", model_dir, rewritten, folder)
    return folder


def discard(copy: Path) -> None:
    """Remove an int8 copy the runtime refused, so the next start writes it again."""
    with contextlib.suppress(OSError):
        shutil.rmtree(copy)


def _write_quantized(reading: BinaryIO, writing: BinaryIO, variable: _Variable) -> None:
    rows, columns = variable.shape
    source_type = _TYPES[variable.type_id]
    if variable.size != rows * columns * source_type.itemsize:
        raise Int8Error(f"{variable.name}: {variable.size} bytes for shape {variable.shape}")
    _write_variable_header(writing, variable.name, variable.shape, _INT8, rows * columns)
    scales: list[npt.NDArray[np.float32]] = []
    for first in range(0, rows, _ROWS_PER_BLOCK):
        count = min(_ROWS_PER_BLOCK, rows - first)
        block = np.frombuffer(_read_exactly(reading, count * columns * source_type.itemsize),
                              dtype=source_type).reshape(count, columns)
        quantized, scale = quantize_rows(block)
        writing.write(quantized.tobytes())
        scales.append(scale)
    scale_bytes = np.concatenate(scales).astype("<f4").tobytes()
    _write_variable_header(writing, f"{variable.name}_scale", (rows,), _FLOAT32, len(scale_bytes))
    writing.write(scale_bytes)


def _variables_of(reading: BinaryIO, count: int) -> Iterator[_Variable]:
    for _ in range(count):
        name = _read_string(reading)
        rank = _read_exactly(reading, 1)[0]
        shape = struct.unpack(f"<{rank}I", _read_exactly(reading, 4 * rank))
        type_id = _read_exactly(reading, 1)[0]
        size = _read_u32(reading)
        if type_id not in _TYPES and type_id != 5:
            raise Int8Error(f"{name}: unknown type id {type_id}")
        offset = reading.tell()
        reading.seek(size, os.SEEK_CUR)
        yield _Variable(name, tuple(int(d) for d in shape), type_id, size, offset)


def _write_variable_header(writing: BinaryIO, name: str, shape: tuple[int, ...], type_id: int,
                           size: int) -> None:
    _write_string(writing, name)
    writing.write(struct.pack("<B", len(shape)))
    writing.write(struct.pack(f"<{len(shape)}I", *shape))
    writing.write(struct.pack("<B", type_id))
    _write_u32(writing, size)


def _copy_bytes(reading: BinaryIO, writing: BinaryIO, size: int) -> None:
    left = size
    while left:
        chunk = _read_exactly(reading, min(left, 1 << 20))
        writing.write(chunk)
        left -= len(chunk)


def _read_exactly(reading: BinaryIO, size: int) -> bytes:
    data = reading.read(size)
    if len(data) != size:
        raise Int8Error("the model file ends early")
    return data


def _read_u32(reading: BinaryIO) -> int:
    value: int = struct.unpack("<I", _read_exactly(reading, 4))[0]
    return value


def _write_u32(writing: BinaryIO, value: int) -> None:
    writing.write(struct.pack("<I", value))


def _read_string(reading: BinaryIO) -> str:
    length: int = struct.unpack("<H", _read_exactly(reading, 2))[0]
    return _read_exactly(reading, length)[:-1].decode("utf-8")


def _write_string(writing: BinaryIO, text: str) -> None:
    data = text.encode("utf-8")
    writing.write(struct.pack("<H", len(data) + 1))
    writing.write(data + b"\0")
