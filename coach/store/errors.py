"""The errors of the model store: each says what is wrong with a model and what to do."""

from __future__ import annotations

from coach.errors import CoachError

__all__ = [
    "ArchiveError",
    "CatalogError",
    "ChecksumError",
    "DestinationError",
    "DownloadError",
    "IncompleteDownloadError",
    "ModelError",
    "OfflineError",
]


class ModelError(CoachError):
    """A model problem explained for the user (bad path, missing model, bad catalog)."""


class CatalogError(ModelError):
    """The catalog file is missing or malformed."""


class DownloadError(ModelError):
    """A download or install failed; the message says what to do."""


class OfflineError(DownloadError):
    """The server could not be reached at all."""


class IncompleteDownloadError(DownloadError):
    """The connection ended early; the partial file is kept so the next run resumes."""


class ChecksumError(DownloadError):
    """The archive's size or SHA-256 differs from the catalog."""


class ArchiveError(DownloadError):
    """The archive is unsafe (paths outside the target, links, devices, too big), damaged, or
    holds no model."""


class DestinationError(DownloadError):
    """The models folder cannot take the model: not a folder, not writable, inside a kernel
    filesystem such as /proc, or out of space. The user must choose another (--dest DIR)."""

    exit_code = 2
    """A usage error: the folder given (or the default one) has to change, not the archive."""
