"""Finding the Vosk model to use: flag, environment, settings file, then the usual folders.

No speech library is imported: a model is a folder of files, recognised by its core files.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from coach.store.catalog import APP_NAME, Catalog, Engine, ModelEntry, Source, load_catalog
from coach.store.errors import ModelError

__all__ = [
    "ENV_VAR",
    "Located",
    "ModelPlaces",
    "find_vosk_model",
    "install_hint",
    "installed_path",
    "is_vosk_model_dir",
    "locate_vosk_model",
    "pip_model_path",
    "read_settings_model",
]

ENV_VAR = "COACH_VOSK_MODEL"
"""Environment variable naming the Vosk model (a folder or a catalog name)."""

SETTINGS_KEY = "vosk_model"
"""The settings-file key naming the Vosk model."""

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
        candidate = folder / default.install_folder
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
    nested = path / catalog.default_entry.install_folder
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
        candidate = folder / entry.install_folder
        if is_vosk_model_dir(candidate):
            return candidate
    return None


def install_hint(entry: ModelEntry) -> str:
    """How to get `entry`, in one clause."""
    if entry.source is Source.PIP:
        return f"pip install {entry.package}"
    return f"run `coach models download {entry.name}`"
