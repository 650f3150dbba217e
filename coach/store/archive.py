"""Unpacking zip and tar archives without letting one write outside its folder.

Each format only describes its entries (`_Member`: name, kind, declared size, how to open it);
one set of rules decides for both: no absolute paths or `..`, no links or devices, no
encrypted entries or duplicates, and nothing over `ExtractLimits`.
"""

from __future__ import annotations

import gzip
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import IO

from coach.store.errors import ArchiveError

__all__ = ["ExtractLimits", "extract_archive"]

_CHUNK = 1 << 16
_DAMAGED_HINT = "download it again"


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on what an archive may unpack to, against zip bombs and junk archives."""

    max_total_bytes: int = 8 * 1024**3
    """Sum of all unpacked files (bytes); the largest Vosk models unpack to about 4 GB."""
    max_file_bytes: int = 4 * 1024**3
    """Any one unpacked file (bytes)."""
    max_files: int = 20_000
    """Number of entries (files and folders)."""


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
    encrypted: bool = False


class _Budget:
    """Running totals checked against ExtractLimits while unpacking."""

    def __init__(self, limits: ExtractLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.total = 0

    def check_listing(self, count: int, declared_total: int) -> None:
        """Cheap rejection from a format's table of contents, before anything is written."""
        if count > self.limits.max_files:
            raise ArchiveError(f"archive has more than {self.limits.max_files:,} entries")
        if declared_total > self.limits.max_total_bytes:
            raise ArchiveError(f"archive unpacks to {declared_total:,} bytes, over the limit")

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise ArchiveError(f"archive has more than {self.limits.max_files:,} entries")

    def check_declared(self, name: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ArchiveError(f"{name}: {size:,} bytes is over the per-file limit")

    def add_bytes(self, name: str, file_bytes: int, size: int) -> None:
        self.total += size
        if file_bytes > self.limits.max_file_bytes:
            raise ArchiveError(
                f"{name}: unpacks to more than {self.limits.max_file_bytes:,} bytes"
            )
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"archive unpacks to more than {self.limits.max_total_bytes:,} bytes"
            )


def extract_archive(archive: Path, dest: Path, limits: ExtractLimits | None = None) -> None:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into the existing folder `dest`.

    Refused: absolute paths, `..`, links, devices, encrypted zip entries, duplicates, and
    anything over `limits`. On refusal, whatever was unpacked stays inside `dest` for the
    caller to delete.
    """
    budget = _Budget(limits or ExtractLimits())
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest, budget)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, dest, budget)
    else:
        raise ArchiveError(f"{archive.name} is not a zip or tar archive; {_DAMAGED_HINT}")


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
            budget.check_listing(len(infos), sum(info.file_size for info in infos))
            for info in infos:
                _unpack(_zip_member(bundle, info), dest, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{archive.name}: damaged zip ({exc}); {_DAMAGED_HINT}") from exc


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
        encrypted=bool(info.flag_bits & 0x1),
    )


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with tarfile.open(archive, "r:*") as bundle:
            for member in bundle:
                _unpack(_tar_member(bundle, member), dest, budget)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArchiveError(
            f"{archive.name}: damaged tar archive ({exc}); {_DAMAGED_HINT}"
        ) from exc


def _tar_member(bundle: tarfile.TarFile, member: tarfile.TarInfo) -> _Member:
    if member.isdir():
        kind = _Kind.DIR
    elif member.isreg():
        kind = _Kind.FILE
    else:
        kind = _Kind.OTHER
    return _Member(member.name, kind, member.size, lambda: bundle.extractfile(member))


def _unpack(member: _Member, dest: Path, budget: _Budget) -> None:
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
        target.mkdir(parents=True, exist_ok=True)
        return
    budget.check_declared(member.name, member.size)
    source = member.open()
    if source is None:
        raise ArchiveError(f"unreadable entry in archive: {member.name!r}")
    with source:
        _write_member(source, target, member.name, budget)


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


def _write_member(source: IO[bytes], target: Path, name: str, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with target.open("xb") as out:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                written += len(chunk)
                budget.add_bytes(name, written, len(chunk))
                out.write(chunk)
    except FileExistsError as exc:
        raise ArchiveError(f"duplicate entry in archive: {name!r}") from exc
