"""The speech-model catalog: which models exist, where to get them, which one is the default.

Layers, as in the content loader: `Catalog.from_file(path) -> from_yaml(stream) ->
from_dict(data)`; `load_catalog()` finds the shipped catalog. No speech library is imported:
a model is a folder of files.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

import yaml

from coach.store.errors import CatalogError, ModelError

__all__ = [
    "APP_NAME",
    "CATALOG_FILE_NAME",
    "Catalog",
    "Engine",
    "ModelEntry",
    "Source",
    "catalog_search_paths",
    "load_catalog",
]

_LOGGER = logging.getLogger(__name__)

CATALOG_FILE_NAME = "catalog.yaml"
APP_NAME = "coach"
"""Names the per-user config and data folders, and the install's share folder."""

class Engine(str, Enum):
    """Which recogniser a model is for."""

    VOSK = "vosk"
    WHISPER = "whisper"


class Source(str, Enum):
    """How a model gets onto the machine."""

    DOWNLOAD = "download"
    """Fetched from `url` by `coach models download`."""
    PIP = "pip"
    """Installed as a Python package (a dependency of coach or of its tests)."""


@dataclass(frozen=True)
class ModelEntry:
    """One row of the catalog."""

    name: str
    """What users type; for downloads also the folder the model is installed in."""
    language: str
    engine: Engine
    license: str
    source: Source
    description: str = ""
    url: str | None = None
    """Archive to download (zip or tar.gz)."""
    size: int | None = None
    """Archive size (bytes)."""
    sha256: str | None = None
    """Archive SHA-256, lowercase hex."""
    unpacked_size: int | None = None
    """Most bytes the archive may unpack to, all files together; an archive that unpacks to
    more is refused while unpacking. Optional: without it a general cap applies."""
    folder: str | None = None
    """The archive's single top-level folder."""
    package: str | None = None
    """PyPI distribution name of a pip model."""
    module: str | None = None
    """Import name of a pip model's package."""
    subdir: str | None = None
    """Model folder inside a pip model's package."""

    @property
    def archive_name(self) -> str:
        """File name of the downloaded archive."""
        if self.url is None:
            return f"{self.name}.zip"
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def install_folder(self) -> str:
        """The folder name the model is installed under: the archive's folder, else the name."""
        return self.folder or self.name


@dataclass(frozen=True)
class Catalog:
    """All known models and which Vosk model is the default."""

    entries: tuple[ModelEntry, ...]
    default: str
    origin: Path | None = None
    """The file it was read from, for messages."""

    def get(self, name: str) -> ModelEntry:
        """Return the entry called `name`, or raise ModelError listing the known names."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        known = ", ".join(entry.name for entry in self.entries)
        raise ModelError(f"unknown model {name!r}; known models: {known}")

    def find(self, name: str) -> ModelEntry | None:
        """Return the entry called `name`, or None."""
        return next((entry for entry in self.entries if entry.name == name), None)

    @property
    def default_entry(self) -> ModelEntry:
        return self.get(self.default)

    # Schema:
    # default: str                    # name of an entry with engine vosk and source download
    # models:
    #   - name: str
    #     language: str
    #     engine: vosk | whisper
    #     license: str
    #     source: download | pip
    #     description: str            # optional
    #     url, size, sha256, folder   # required when source is download
    #     unpacked_size: int          # optional, download only: bytes unpacked, at most
    #     package, module, subdir     # required when source is pip
    @classmethod
    def from_dict(cls, data: Any, origin: Path | None = None) -> Catalog:
        where = str(origin) if origin else "catalog"
        if not isinstance(data, dict):
            raise CatalogError(f"{where}: expected a mapping with 'default' and 'models'")
        raw_models = data.get("models")
        if not isinstance(raw_models, list) or not raw_models:
            raise CatalogError(f"{where}: 'models' must be a non-empty list")
        entries = tuple(_entry_from_dict(item, where, index) for index, item in
                        enumerate(raw_models))
        _check_unique_names(entries, where)
        default = data.get("default")
        catalog = cls(entries=entries, default=str(default), origin=origin)
        default_entry = catalog.find(str(default))
        if default_entry is None or default_entry.source is not Source.DOWNLOAD:
            raise CatalogError(f"{where}: 'default' must name a downloadable model")
        return catalog

    @classmethod
    def from_yaml(cls, stream: IO[str] | str, origin: Path | None = None) -> Catalog:
        try:
            data = yaml.safe_load(stream)
        except yaml.YAMLError as exc:
            raise CatalogError(f"{origin or 'catalog'}: invalid YAML: {exc}") from exc
        return cls.from_dict(data, origin)

    @classmethod
    def from_file(cls, path: Path) -> Catalog:
        try:
            with path.open(encoding="utf-8") as stream:
                return cls.from_yaml(stream, origin=path)
        except OSError as exc:
            raise CatalogError(f"cannot read model catalog {path}: {exc.strerror}") from exc


def _entry_from_dict(item: Any, where: str, index: int) -> ModelEntry:
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: models[{index}] must be a mapping")
    label = f"{where}: models[{index}] ({item.get('name', '?')})"
    try:
        entry = ModelEntry(
            name=_required_str(item, "name", label),
            language=_required_str(item, "language", label),
            engine=Engine(item.get("engine")),
            license=_required_str(item, "license", label),
            source=Source(item.get("source")),
            description=str(item.get("description", "")),
            url=_optional_str(item, "url"),
            size=_optional_int(item, "size", label),
            sha256=_optional_str(item, "sha256"),
            unpacked_size=_optional_int(item, "unpacked_size", label),
            folder=_optional_str(item, "folder"),
            package=_optional_str(item, "package"),
            module=_optional_str(item, "module"),
            subdir=_optional_str(item, "subdir"),
        )
    except ValueError as exc:
        raise CatalogError(f"{label}: {exc}") from exc
    _check_entry_complete(entry, label)
    return entry


def _required_str(item: Mapping[str, Any], key: str, label: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{label}: '{key}' must be a non-empty string")
    return value


def _optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None else str(value)


def _optional_int(item: Mapping[str, Any], key: str, label: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CatalogError(f"{label}: '{key}' must be a positive integer")
    return value


def _check_entry_complete(entry: ModelEntry, label: str) -> None:
    if entry.source is Source.DOWNLOAD:
        needed = ("url", "size", "sha256", "folder")
        missing = [key for key in needed if getattr(entry, key) is None]
        if entry.sha256 is not None and not _is_sha256_hex(entry.sha256):
            raise CatalogError(f"{label}: 'sha256' must be 64 lowercase hex digits")
    else:
        if entry.unpacked_size is not None:
            raise CatalogError(f"{label}: 'unpacked_size' is only for source download")
        missing = [key for key in ("package", "module") if getattr(entry, key) is None]
    if missing:
        raise CatalogError(f"{label}: missing {', '.join(missing)} for source {entry.source.value}")


def _is_sha256_hex(text: str) -> bool:
    return len(text) == 64 and all(char in "0123456789abcdef" for char in text)


def _check_unique_names(entries: Sequence[ModelEntry], where: str) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise CatalogError(f"{where}: model name {entry.name!r} appears twice")
        seen.add(entry.name)


def catalog_search_paths() -> list[Path]:
    """Where the shipped catalog may be: a source checkout, then the install's data folders."""
    checkout = Path(__file__).resolve().parents[2] / "models" / CATALOG_FILE_NAME
    data_dirs = [Path(sys.prefix), Path(sysconfig.get_path("data"))]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        data_dirs.append(Path(sysconfig.get_path("data", user_scheme)))
    installed = [base / "share" / APP_NAME / "models" / CATALOG_FILE_NAME for base in data_dirs]
    return _unique([checkout, *installed])


def _unique(paths: Iterable[Path]) -> list[Path]:
    result: list[Path] = []
    for path in paths:
        if path not in result:
            result.append(path)
    return result


def load_catalog(path: Path | None = None) -> Catalog:
    """Read the catalog at `path`, or the first one found in `catalog_search_paths()`."""
    if path is not None:
        return Catalog.from_file(path)
    candidates = catalog_search_paths()
    for candidate in candidates:
        if candidate.is_file():
            _LOGGER.debug("model catalog: %s", candidate)
            return Catalog.from_file(candidate)
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise CatalogError(f"model catalog not found (looked in {tried}); reinstall coach")
