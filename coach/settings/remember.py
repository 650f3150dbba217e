"""Remembering a choice in the settings file: one key set, the rest of the file (comments,
order, other tables) kept as the user wrote it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from coach.settings.file import SettingsFileError

__all__ = ["remember"]


def remember(path: Path, table: str, key: str, value: str) -> bool:
    """Set `[table] key = value` in the settings file at `path` (made if missing); False when
    it already said so."""
    import tomlkit

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise SettingsFileError(f"{path}: cannot update the settings file ({exc})") from exc
    section = document.get(table)
    if section is None:
        section = tomlkit.table()
        document[table] = section
    if section.get(key) == value:
        return False
    section[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", delete=False) as out:
            out.write(tomlkit.dumps(document))
        os.replace(out.name, path)  # whole, or not at all
    except OSError as exc:
        raise SettingsFileError(f"{path}: cannot write the settings file ({exc})") from exc
    return True
