"""Speech-model catalog, lookup and verification.

No speech library is imported here: a model is a folder of files, and this module only finds,
describes and checks such folders. Downloading and installing live in `coach.store.download`.

Layers, as in the content loader: `Catalog.from_file(path) -> from_yaml(stream) ->
from_dict(data)`; `load_catalog()` finds the shipped catalog.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import sysconfig
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any

import yaml

__all__ = [
    "CATALOG_FILE_NAME",
    "ENV_VAR",
    "MANIFEST_NAME",
    "Catalog",
    "CatalogError",
    "Engine",
    "Located",
    "ModelEntry",
    "ModelError",
    "ModelPlaces",
    "Source",
    "VerifyReport",
    "catalog_search_paths",
    "file_sha256",
    "find_vosk_model",
    "install_hint",
    "installed_path",
    "is_vosk_model_dir",
    "load_catalog",
    "locate_vosk_model",
    "pip_model_path",
    "read_settings_model",
    "verify_installed",
    "verify_model_dir",
    "verify_pip_model",
    "write_manifest",
]

_LOGGER = logging.getLogger(__name__)

ENV_VAR = "COACH_VOSK_MODEL"
"""Environment variable naming the Vosk model (a folder or a catalog name)."""

CATALOG_FILE_NAME = "catalog.yaml"
MANIFEST_NAME = ".coach-manifest.json"
"""Written into each model folder at install time: every file with its size and SHA-256."""

SETTINGS_KEY = "vosk_model"
APP_NAME = "coach"
_HASH_CHUNK = 1 << 20


class ModelError(Exception):
    """A model problem explained for the user (bad path, missing model, bad catalog)."""


class CatalogError(ModelError):
    """The catalog file is missing or malformed."""


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


def is_vosk_model_dir(path: Path) -> bool:
    """True when `path` holds a Kaldi/Vosk model: acoustic model, config and a decoding graph."""
    if not (path / "am" / "final.mdl").is_file():
        return False
    if not (path / "conf" / "model.conf").is_file():
        return False
    graph = path / "graph"
    return (graph / "HCLG.fst").is_file() or (graph / "HCLr.fst").is_file()


@dataclass(frozen=True)
class ModelPlaces:
    """Folders where models are looked for, and the settings files that may name one."""

    local_dir: Path
    """`./models` of the working directory (a source checkout keeps models there)."""
    user_dir: Path
    """Per-user data folder; `coach models download` installs here by default."""
    settings_files: tuple[Path, ...] = ()
    """Read in order; the first one with a `vosk_model` key wins."""

    @classmethod
    def default(cls, cwd: Path | None = None) -> ModelPlaces:
        import platformdirs  # only for the real machine's folders; tests pass their own

        config_dir = Path(platformdirs.user_config_dir(APP_NAME))
        return cls(
            local_dir=(cwd or Path.cwd()) / "models",
            user_dir=Path(platformdirs.user_data_dir(APP_NAME)) / "models",
            settings_files=(config_dir / "settings.toml", config_dir / "settings.yaml"),
        )

    @property
    def install_dirs(self) -> tuple[Path, ...]:
        return (self.local_dir, self.user_dir)


@dataclass(frozen=True)
class Located:
    """A model folder and the reason it was chosen."""

    path: Path
    origin: str
    """e.g. "--model", "COACH_VOSK_MODEL", "settings file ...", "./models", "user data folder"."""


def read_settings_model(settings_files: Iterable[Path]) -> tuple[str, Path] | None:
    """The `vosk_model` value of the first settings file that has one, with that file."""
    for path in settings_files:
        if not path.is_file():
            continue
        value = _settings_value(path)
        if value:
            return value, path
    return None


def _settings_value(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
        data = _parse_toml(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ModelError(f"cannot read settings file {path}: {exc}") from exc
    if not isinstance(data, dict):
        return None
    value = data.get(SETTINGS_KEY)
    if value is not None and not isinstance(value, str):
        raise ModelError(f"{path}: '{SETTINGS_KEY}' must be a string (a folder or model name)")
    return value


def _parse_toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    raise ValueError("TOML settings need Python 3.11+; use settings.yaml instead")


def locate_vosk_model(
    flag: Path | str | None,
    env: Mapping[str, str],
    places: ModelPlaces,
    catalog: Catalog,
) -> Located | None:
    """Find the Vosk model to use, or None when there is none.

    Order: `flag`, env COACH_VOSK_MODEL, settings file, `./models/<default>`, user data folder.
    The first three name a model explicitly, so a wrong value raises ModelError instead of
    silently falling through to another model. Each may be a folder (the model itself, or a
    folder holding the default model) or the name of a catalog entry.
    """
    if flag is not None and str(flag):
        return Located(_resolve_named(str(flag), "--model", Path.cwd(), places, catalog), "--model")
    env_value = env.get(ENV_VAR, "").strip()
    if env_value:
        return Located(_resolve_named(env_value, ENV_VAR, Path.cwd(), places, catalog), ENV_VAR)
    from_settings = read_settings_model(places.settings_files)
    if from_settings is not None:
        value, settings_path = from_settings
        origin = f"settings file {settings_path}"
        path = _resolve_named(value, origin, settings_path.parent, places, catalog)
        return Located(path, origin)
    default = catalog.default_entry
    for folder, origin in ((places.local_dir, "./models"), (places.user_dir, "user data folder")):
        candidate = folder / _install_folder(default)
        if is_vosk_model_dir(candidate):
            return Located(candidate, origin)
    return None


def find_vosk_model(
    flag: Path | str | None,
    env: Mapping[str, str] | None = None,
    places: ModelPlaces | None = None,
    catalog: Catalog | None = None,
) -> Path | None:
    """The Vosk model folder to use (see `locate_vosk_model`), or None.

    Defaults: `os.environ`, the real user folders and the shipped catalog.
    """
    located = locate_vosk_model(
        flag,
        os.environ if env is None else env,
        places or ModelPlaces.default(),
        catalog or load_catalog(),
    )
    return None if located is None else located.path


def _resolve_named(
    value: str, origin: str, base: Path, places: ModelPlaces, catalog: Catalog
) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        return _model_in_folder(path, origin, catalog)
    entry = catalog.find(value)
    if entry is not None:
        return _installed_named_entry(entry, origin, places)
    raise ModelError(f"{origin}: {value!r} is neither a folder nor a known model name")


def _model_in_folder(path: Path, origin: str, catalog: Catalog) -> Path:
    if is_vosk_model_dir(path):
        return path
    nested = path / _install_folder(catalog.default_entry)
    if is_vosk_model_dir(nested):
        return nested
    raise ModelError(
        f"{origin}: {path} is not a Vosk model folder (needs am/final.mdl, conf/model.conf "
        "and graph/HCLG.fst or graph/HCLr.fst)"
    )


def _installed_named_entry(entry: ModelEntry, origin: str, places: ModelPlaces) -> Path:
    if entry.engine is not Engine.VOSK:
        raise ModelError(f"{origin}: {entry.name} is a {entry.engine.value} model, not Vosk")
    path = installed_path(entry, places)
    if path is None:
        raise ModelError(f"{origin}: {entry.name} is not installed; {install_hint(entry)}")
    return path


def _install_folder(entry: ModelEntry) -> str:
    return entry.folder or entry.name


def pip_model_path(entry: ModelEntry) -> Path | None:
    """The model folder inside an installed pip package, found without importing it."""
    if entry.module is None:
        return None
    try:
        spec = importlib.util.find_spec(entry.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / entry.subdir if entry.subdir else folder
    return path if path.is_dir() else None


def installed_path(entry: ModelEntry, places: ModelPlaces) -> Path | None:
    """Where `entry` is installed, or None. Downloads: `./models` first, then the user folder."""
    if entry.source is Source.PIP:
        return pip_model_path(entry)
    for folder in places.install_dirs:
        candidate = folder / _install_folder(entry)
        if is_vosk_model_dir(candidate):
            return candidate
    return None


def install_hint(entry: ModelEntry) -> str:
    """How to get `entry`, in one clause."""
    if entry.source is Source.PIP:
        return f"pip install {entry.package}"
    return f"run `coach models download {entry.name}`"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, lowercase hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _model_files(model_dir: Path) -> Iterator[Path]:
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and path.name != MANIFEST_NAME:
            yield path


def write_manifest(model_dir: Path, name: str, source: str, archive_sha256: str | None) -> Path:
    """Record every file of a freshly installed model so `verify` can check it later."""
    files = {
        path.relative_to(model_dir).as_posix(): {
            "size": path.stat().st_size,
            "sha256": file_sha256(path),
        }
        for path in _model_files(model_dir)
    }
    manifest = {
        "name": name,
        "source": source,
        "archive_sha256": archive_sha256,
        "files": files,
    }
    target = model_dir / MANIFEST_NAME
    target.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True)
class VerifyReport:
    """Result of checking an installed model against its manifest (or pip's RECORD)."""

    path: Path
    checked: int
    """Files compared."""
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    """Files present but not in the manifest (reported, not an error)."""
    has_manifest: bool = True
    """False when there is nothing to compare against (a model unpacked by hand)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


def verify_model_dir(model_dir: Path) -> VerifyReport:
    """Compare a model folder with the manifest written when it was installed."""
    manifest_path = model_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        structure = "structure OK" if is_vosk_model_dir(model_dir) else "not a Vosk model"
        note = f"no manifest ({structure}); files were not installed by coach, cannot verify"
        missing = () if is_vosk_model_dir(model_dir) else ("am/final.mdl or conf or graph",)
        return VerifyReport(model_dir, 0, missing=missing, has_manifest=False, notes=(note,))
    expected = _read_manifest_files(manifest_path)
    return _compare(model_dir, expected, file_sha256)


def _read_manifest_files(manifest_path: Path) -> dict[str, tuple[int, str]]:
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        return {
            name: (int(info["size"]), str(info["sha256"]))
            for name, info in data["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"{manifest_path}: unreadable manifest ({exc})") from exc


def _compare(
    model_dir: Path,
    expected: Mapping[str, tuple[int, str]],
    digest_of: Callable[[Path], str],
) -> VerifyReport:
    missing: list[str] = []
    changed: list[str] = []
    for name, (size, digest) in sorted(expected.items()):
        path = model_dir / name
        if not path.is_file():
            missing.append(name)
        elif path.stat().st_size != size or digest_of(path) != digest:
            changed.append(name)
    present = {path.relative_to(model_dir).as_posix() for path in _model_files(model_dir)}
    extra = tuple(sorted(present - set(expected)))
    return VerifyReport(model_dir, len(expected), tuple(missing), tuple(changed), extra)


def verify_pip_model(entry: ModelEntry) -> VerifyReport:
    """Check a pip-installed model against the hashes pip recorded in the package's RECORD."""
    model_dir = pip_model_path(entry)
    if model_dir is None or entry.package is None:
        raise ModelError(f"{entry.name} is not installed; {install_hint(entry)}")
    expected: dict[str, tuple[int, str]] = {}
    for record in importlib.metadata.distribution(entry.package).files or ():
        if record.hash is None or record.hash.mode != "sha256" or record.size is None:
            continue
        absolute = Path(str(record.locate())).resolve()
        if absolute.is_relative_to(model_dir.resolve()):
            name = absolute.relative_to(model_dir.resolve()).as_posix()
            expected[name] = (record.size, record.hash.value)
    if not expected:
        note = "pip recorded no hashes for this package; cannot verify"
        return VerifyReport(model_dir, 0, has_manifest=False, notes=(note,))
    return _compare(model_dir, expected, _record_digest)


def _record_digest(path: Path) -> str:
    # pip's RECORD stores urlsafe base64 without padding, not hex.
    raw = bytes.fromhex(file_sha256(path))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verify_installed(entry: ModelEntry, places: ModelPlaces) -> VerifyReport:
    """Verify wherever `entry` is installed; ModelError when it is not installed."""
    if entry.source is Source.PIP:
        return verify_pip_model(entry)
    path = installed_path(entry, places)
    if path is None:
        raise ModelError(f"{entry.name} is not installed; {install_hint(entry)}")
    return verify_model_dir(path)
