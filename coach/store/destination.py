"""The models folder (`--dest`): whether a model can be written there, and why not.

Every refusal is a `DestinationError` naming the folder and saying what to do, so a bad
`--dest` never surfaces as a bare OSError.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from coach.store.errors import DestinationError

__all__ = ["NO_SPACE", "check_free_space", "destination_error", "make_models_dir"]

_KERNEL_FILESYSTEMS = (Path("/proc"), Path("/sys"))
"""Folders whose files are the kernel's: writing there fails in odd ways, or worse, works."""

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
"""errno values of a full disk or an exhausted quota."""
_WHAT_TO_DO = "choose a folder you can write to (--dest DIR)"


def make_models_dir(models_dir: Path, folder: Path | None = None) -> None:
    """Create the models folder (or `folder` inside it) with its parents, or say why not."""
    kernel = _kernel_filesystem(models_dir)
    if kernel is not None:
        raise DestinationError(
            f"cannot use {models_dir} as the models folder (it is inside {kernel}, which "
            f"belongs to the kernel); {_WHAT_TO_DO}"
        )
    try:
        (folder or models_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise destination_error(models_dir, exc) from exc
    if not os.access(models_dir, os.W_OK | os.X_OK):
        raise DestinationError(
            f"cannot use {models_dir} as the models folder (not writable); {_WHAT_TO_DO}"
        )


def check_free_space(models_dir: Path, needed: int, what: str) -> None:
    """Refuse before writing when `needed` bytes of `what` cannot fit in `models_dir`."""
    try:
        free = shutil.disk_usage(models_dir).free
    except OSError:
        return  # no answer from the filesystem: the write itself will tell
    if needed > free:
        raise DestinationError(
            f"not enough space in {models_dir} for {what}: it needs {needed:,} bytes, "
            f"{free:,} are free; free some space or choose another folder (--dest DIR)"
        )


def destination_error(models_dir: Path, exc: OSError) -> DestinationError:
    """The one-line error for an OSError met while creating or writing in `models_dir`."""
    if exc.errno in NO_SPACE:
        detail = "" if exc.strerror == os.strerror(exc.errno) else f" ({exc.strerror})"
        return DestinationError(
            f"no space left in {models_dir}{detail}; free some space or choose another "
            "folder (--dest DIR). Nothing was installed"
        )
    if isinstance(exc, FileExistsError | NotADirectoryError):
        reason = "a file is in the way"
    else:
        reason = exc.strerror or str(exc)
    return DestinationError(f"cannot use {models_dir} as the models folder ({reason}); "
                            f"{_WHAT_TO_DO}")


def _kernel_filesystem(models_dir: Path) -> Path | None:
    # Resolve first: `--dest /proc/self/cwd/..` or a symlink into /sys is the same place.
    try:
        resolved = models_dir.resolve()
    except (OSError, RuntimeError):  # a symlink loop: mkdir will say so
        return None
    return next((root for root in _KERNEL_FILESYSTEMS if resolved.is_relative_to(root)), None)
