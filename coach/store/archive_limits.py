"""How much an archive may unpack to, and the running count that holds it to that while unpacking.

Headers can lie, so every limit is checked twice: on what the archive declares, before a byte
is written, and on the bytes that actually come out, as they come out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from coach.store.errors import ArchiveError

__all__ = ["ExtractLimits", "UnpackBudget"]


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on what an archive may unpack to, against zip bombs and junk archives."""

    max_total_bytes: int = 8 * 1024**3
    """Sum of all unpacked files (bytes), when the catalog declares no smaller size; the
    largest Vosk models unpack to about 4 GB."""
    max_file_bytes: int = 4 * 1024**3
    """Any one unpacked file (bytes)."""
    max_files: int = 20_000
    """Number of entries (files and folders)."""
    # Why a ratio: a bomb is a long run of one byte, which deflate packs to its ceiling of
    # about 1000:1 (bzip2 and xz go far beyond), while model files (network weights, FSTs)
    # are dense binary that packs only a few times smaller. So 100:1 leaves real models wide
    # headroom and still stops a bomb after its first megabytes, whatever its headers say.
    max_ratio: int = 100
    """Most unpacked bytes per packed byte, for each zip entry and for the whole archive."""
    ratio_floor_bytes: int = 1024**2
    """Output up to this size (bytes) is never refused for its ratio: a small text file of
    repeated lines may pack 100:1, and cannot fill a disk."""

    total_source: str = "coach's general cap"
    """Where `max_total_bytes` comes from, for messages."""

    def within(self, total_bytes: int | None, source: str) -> ExtractLimits:
        """These limits, with the total lowered to `total_bytes` (a catalog's declared size,
        named by `source`)."""
        if total_bytes is None or total_bytes >= self.max_total_bytes:
            return self
        return replace(self, max_total_bytes=total_bytes, total_source=source)


class UnpackBudget:
    """Running totals of one extraction, checked against its limits after every chunk."""

    def __init__(self, limits: ExtractLimits, archive_bytes: int) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes
        """Size of the archive file: the whole archive's ratio is measured against it."""
        self.entries = 0
        self.total = 0

    def check_listing(self, count: int, declared_total: int) -> None:
        """Cheap rejection from a format's table of contents, before anything is written."""
        if count > self.limits.max_files:
            raise ArchiveError(f"archive has more than {self.limits.max_files:,} entries")
        if declared_total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"archive unpacks to {declared_total:,} bytes, more than the "
                f"{self.limits.max_total_bytes:,} of {self.limits.total_source}"
            )
        self._check_ratio("the archive", declared_total, self.archive_bytes)

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise ArchiveError(f"archive has more than {self.limits.max_files:,} entries")

    def check_declared(self, name: str, size: int, compressed: int | None) -> None:
        """One entry's header, before it is unpacked; `compressed` is None for tar."""
        if size > self.limits.max_file_bytes:
            raise ArchiveError(f"{name}: {size:,} bytes is over the per-file limit")
        if compressed is not None:
            self._check_ratio(repr(name), size, compressed)

    def add_bytes(self, name: str, written: int, chunk: int, declared: int,
                  compressed: int | None) -> None:
        """`chunk` more bytes came out of entry `name`, `written` so far in all."""
        self.total += chunk
        if written > declared:
            raise ArchiveError(
                f"{name}: more bytes come out than the {declared:,} its header declares"
            )
        if written > self.limits.max_file_bytes:
            raise ArchiveError(
                f"{name}: unpacks to more than {self.limits.max_file_bytes:,} bytes"
            )
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"archive unpacks to more than {self.limits.max_total_bytes:,} bytes, "
                f"the size of {self.limits.total_source}"
            )
        if compressed is not None:
            self._check_ratio(repr(name), written, compressed)
        self._check_ratio("the archive", self.total, self.archive_bytes)

    def _check_ratio(self, what: str, unpacked: int, packed: int) -> None:
        allowed = max(self.limits.ratio_floor_bytes, self.limits.max_ratio * packed)
        if unpacked > allowed:
            raise ArchiveError(
                f"{what} unpacks to more than {self.limits.max_ratio} times its packed size; "
                "refused as a likely zip bomb"
            )
