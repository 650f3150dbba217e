"""Reading the settings file (TOML) onto the settings tree: each table names a branch, each key
a knob, and anything unknown or of the wrong type is an error that names the file and the key."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from coach.errors import CoachError

__all__ = ["SettingsFileError", "apply_overrides", "read_settings_file"]

_T = TypeVar("_T")

PASSED_THROUGH = frozenset({"vosk_model"})
"""Top-level keys read elsewhere (the model lookup reads `vosk_model`)."""


class SettingsFileError(CoachError):
    """The settings file cannot be used; the message names the file and the key."""


def read_settings_file(path: Path) -> dict[str, Any]:
    """The file's tables as nested dicts; an empty dict when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsFileError(f"{path}: cannot read the settings file ({exc})") from exc
    try:
        import tomllib
    except ModuleNotFoundError as exc:  # Python 3.10
        raise SettingsFileError(f"{path}: reading TOML needs Python 3.11 or newer") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsFileError(f"{path}: {exc} (the file must be TOML)") from exc


def apply_overrides(tree: _T, data: Mapping[str, Any], source: Path) -> _T:
    """`tree` (a frozen dataclass) with the values of `data` in place of its defaults."""
    return _apply(tree, data, source, prefix="")


def _apply(node: _T, data: Mapping[str, Any], source: Path, prefix: str) -> _T:
    fields = {field.name: field for field in dataclasses.fields(node)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(type(node))
    changes: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if not prefix and key in PASSED_THROUGH:
            continue
        if key not in fields:
            raise SettingsFileError(f"{source}: unknown setting '{name}'{_hint(key, fields)}")
        current = getattr(node, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise SettingsFileError(f"{source}: '{name}' must be a table ([{name}])")
            changes[key] = _apply(current, value, source, prefix=f"{name}.")
        else:
            changes[key] = _convert(value, hints[key], source, name)
    return dataclasses.replace(node, **changes)  # type: ignore[type-var]


def _convert(value: Any, hint: Any, source: Path, name: str) -> Any:
    """`value` as the field's type: TOML has int, float, str, bool and arrays."""
    allowed = _allowed_types(hint)
    if isinstance(value, bool) and bool not in allowed:
        raise SettingsFileError(f"{source}: '{name}' must be {_names(allowed)}, not true/false")
    if isinstance(value, int) and not isinstance(value, bool) and float in allowed \
            and int not in allowed:
        return float(value)
    if isinstance(value, list) and tuple in allowed:
        return tuple(value)
    if isinstance(value, str) and Path in allowed:
        return Path(value).expanduser()
    if not isinstance(value, tuple(allowed)):
        raise SettingsFileError(f"{source}: '{name}' must be {_names(allowed)}, "
                                f"got {type(value).__name__}")
    return value


def _allowed_types(hint: Any) -> set[type]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return {t for arg in typing.get_args(hint) for t in _allowed_types(arg)}
    if hint is None or hint is type(None):
        return set()
    if origin is not None:
        return {origin}
    return {hint} if isinstance(hint, type) else {object}


def _names(allowed: set[type]) -> str:
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
             tuple: "a list", Path: "a path"}
    return " or ".join(sorted(words.get(t, t.__name__) for t in allowed))


def _hint(key: str, fields: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
