"""Unpacking zip and tar archives without letting one write outside its folder or fill the disk.

Each format only describes its entries (`_Member`: name, kind, declared sizes, how to open it);
one set of rules decides for both: no absolute paths or `..`, no links or devices, no
encrypted entries or duplicates, and nothing over `ExtractLimits` (see archive_limits).

Two kinds of failure leave this module: `ArchiveError` when the archive is at fault (unsafe,
too big, damaged: every error the decompressors raise becomes one), and `OSError` when the
destination is (full, read-only), for the caller to word in terms of the models folder.
"""

from __future__ import annotations

import errno
import lzma
import shutil
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from coach.store.archive_limits import ExtractLimits, UnpackBudget
from coach.store.errors import ArchiveError

__all__ = ["DAMAGED_HINT", "ExtractLimits", "extract_archive"]

_CHUNK = 1 << 16
DAMAGED_HINT = "download it again"
"""What to do about a damaged archive, when no catalog name is known."""

_READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,  # also CRC mismatches and overlapping entries
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,  # truncated compressed stream
    zlib.error,
    lzma.LZMAError,
    OSError,  # gzip.BadGzipFile, bz2's "Invalid data stream"; writes are sorted out first
    ValueError,  # includes UnicodeDecodeError of a mangled name
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # an entry zipfile thinks is encrypted
    struct.error,
    OverflowError,
)
"""What the standard library raises on damaged archive data. Write failures never reach this
net: `_writing` turns them into `_DestinationFailure` first."""


class _DestinationFailure(Exception):
    """An OSError while creating files under the destination, carried past `_READ_ERRORS`."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Kind(Enum):
    FILE = "file"
    DIR = "dir"
    OTHER = "other"
    """A link, device, FIFO...: never unpacked."""


@dataclass(frozen=True)
class _Member:
    """One archive entry, whatever the format."""

    name: str
    kind: _Kind
    size: int
    """Unpacked size the archive declares (bytes); the real size is counted while writing."""
    open: Callable[[], IO[bytes] | None]
    compressed: int | None = None
    """Packed size (bytes) of a zip entry; None for tar, compressed as one stream."""
    encrypted: bool = False


def extract_archive(
    archive: Path,
    dest: Path,
    limits: ExtractLimits | None = None,
    *,
    redownload: str = DAMAGED_HINT,
) -> None:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into the existing folder `dest`.

    Refused with ArchiveError: absolute paths, `..`, links, devices, encrypted zip entries,
    duplicates, anything over `limits`, and damaged data (the message ends with `redownload`,
    what to do). A destination that cannot take the files raises OSError. Either way, whatever
    was unpacked stays inside `dest` for the caller to delete.
    """
    budget = UnpackBudget(limits or ExtractLimits(), archive.stat().st_size)
    try:
        _extract_any(archive, dest, budget, redownload)
    except _DestinationFailure as failure:
        raise failure.error from None


def _extract_any(archive: Path, dest: Path, budget: UnpackBudget, redownload: str) -> None:
    if zipfile.is_zipfile(archive):
        fmt, extract = "zip", _extract_zip
    elif _is_tar(archive):
        fmt, extract = "tar archive", _extract_tar
    else:
        raise ArchiveError(f"{archive.name} is not a zip or tar archive; {redownload}")
    try:
        extract(archive, dest, budget)
    except ArchiveError as exc:  # a refusal: say which archive
        raise ArchiveError(f"{archive.name}: {exc}") from exc
    except _READ_ERRORS as exc:
        raise ArchiveError(
            f"{archive.name}: damaged {fmt} ({_one_line(exc)}); {redownload}"
        ) from exc


def _is_tar(archive: Path) -> bool:
    try:
        return tarfile.is_tarfile(archive)
    except _READ_ERRORS:
        return False


def _one_line(exc: BaseException) -> str:
    return _short(" ".join(str(exc).split()) or type(exc).__name__)


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def _extract_zip(archive: Path, dest: Path, budget: UnpackBudget) -> None:
    with zipfile.ZipFile(archive) as bundle:
        infos = bundle.infolist()
        declared_total = sum(info.file_size for info in infos)
        budget.check_listing(len(infos), declared_total)
        _check_room(dest, declared_total)
        for info in infos:
            _unpack(_zip_member(bundle, info), dest, budget)


def _check_room(dest: Path, needed: int) -> None:
    """Refuse before writing when the declared sizes cannot fit; writes are still watched."""
    try:
        free = shutil.disk_usage(dest).free
    except OSError:
        return
    if needed > free:
        error = OSError(errno.ENOSPC, f"the model needs {needed:,} bytes, {free:,} are free")
        raise _DestinationFailure(error)


def _zip_member(bundle: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Member:
    mode = stat.S_IFMT(info.external_attr >> 16)
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = _Kind.OTHER
    else:
        kind = _Kind.DIR if info.is_dir() else _Kind.FILE
    return _Member(
        name=info.filename,
        kind=kind,
        size=info.file_size,
        open=lambda: bundle.open(info),
        compressed=info.compress_size,
        encrypted=bool(info.flag_bits & 0x1),
    )


def _extract_tar(archive: Path, dest: Path, budget: UnpackBudget) -> None:
    with tarfile.open(archive, "r:*") as bundle:
        for member in bundle:
            _unpack(_tar_member(bundle, member), dest, budget)


def _tar_member(bundle: tarfile.TarFile, member: tarfile.TarInfo) -> _Member:
    if member.isdir():
        kind = _Kind.DIR
    elif member.isreg():
        kind = _Kind.FILE
    else:
        kind = _Kind.OTHER
    return _Member(member.name, kind, member.size, lambda: bundle.extractfile(member))


def _unpack(member: _Member, dest: Path, budget: UnpackBudget) -> None:
    """Apply every safety rule to one entry, then create it under `dest`."""
    budget.count_entry()
    parts = _safe_parts(member.name)
    if member.kind is _Kind.OTHER:
        raise ArchiveError(f"link or special file in archive: {member.name!r}")
    if member.encrypted:
        raise ArchiveError(f"encrypted entry in archive: {member.name!r}")
    if not parts:
        return
    target = _target(dest, parts)
    if member.kind is _Kind.DIR:
        with _writing(member.name):
            target.mkdir(parents=True, exist_ok=True)
        return
    budget.check_declared(member.name, member.size, member.compressed)
    source = member.open()
    if source is None:
        raise ArchiveError(f"unreadable entry in archive: {member.name!r}")
    with source:
        _write_member(source, target, member, budget)


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path components of an archive member, or ArchiveError if it could escape."""
    if not name or "\x00" in name or "\\" in name:
        raise ArchiveError(f"unsafe path in archive: {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise ArchiveError(f"absolute path in archive: {name!r}")
    parts = tuple(part for part in path.parts if part not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"path escapes the target folder: {name!r}")
    return parts


def _target(dest: Path, parts: tuple[str, ...]) -> Path:
    target = dest.joinpath(*parts)
    # Belt and braces: nothing we create is a link, but check the resolved path anyway.
    if not target.resolve().is_relative_to(dest.resolve()):
        raise ArchiveError(f"path escapes the target folder: {'/'.join(parts)!r}")
    return target


def _write_member(source: IO[bytes], target: Path, member: _Member,
                  budget: UnpackBudget) -> None:
    # Reads and writes are kept apart: a read error is the archive's damage, a write error
    # the destination's, and only `_writing` may decide which an OSError is.
    with _writing(member.name):
        target.parent.mkdir(parents=True, exist_ok=True)
        out: BinaryIO = target.open("xb")
    try:
        written = 0
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            written += len(chunk)
            budget.add_bytes(member.name, written, len(chunk), member.size, member.compressed)
            with _writing(member.name):
                out.write(chunk)
    finally:
        with _writing(member.name):
            out.close()


@contextmanager
def _writing(name: str) -> Iterator[None]:
    """Sort an OSError from creating entry `name`: the archive's fault or the destination's."""
    try:
        yield
    except FileExistsError as exc:
        raise ArchiveError(f"duplicate entry in archive: {name!r}") from exc
    except (NotADirectoryError, IsADirectoryError) as exc:
        raise ArchiveError(f"entry is both a file and a folder in archive: {name!r}") from exc
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ArchiveError(f"path too long in archive: {_short(name)!r}") from exc
        raise _DestinationFailure(exc) from exc
