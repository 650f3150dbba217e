"""Content folders: which file is which kind, and the routines of one folder with unique ids."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from coach.content.errors import ContentError, ContentFileError
from coach.content.limits import LIMITS
from coach.content.model import Routine, SourcePos
from coach.content.reading import read_mapping
from coach.content.report import Report
from coach.content.routines import parse_routine

__all__ = [
    "COMMANDS_FILE",
    "FAQ_FILE",
    "PHRASES_FILE",
    "YAML_GLOB",
    "ContentFiles",
    "classify",
    "group_by_folder",
    "list_folder",
    "load_routine_group",
    "quiet_routines",
    "routine_and_id_pos",
    "try_load",
    "yaml_files",
]

_LOGGER = logging.getLogger("coach.content.loader")  # one name for every content message

_T = TypeVar("_T")

FAQ_FILE = "faq.yaml"
COMMANDS_FILE = "commands.yaml"
PHRASES_FILE = "phrases.yaml"
LEXICON_FILE = "lexicon.yaml"
RECOGNIZER_FILE = "recognizer.yaml"
_SPECIAL_FILES = frozenset({FAQ_FILE, COMMANDS_FILE, PHRASES_FILE, LEXICON_FILE, RECOGNIZER_FILE})
YAML_GLOB = "*.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
"""Both spellings users write; `faq.yml` is the FAQ as much as `faq.yaml` is."""


@dataclass(frozen=True)
class ContentFiles:
    """The content files of one folder, by kind."""

    routines: tuple[Path, ...] = ()
    faq: Path | None = None
    commands: Path | None = None
    phrases: Path | None = None
    lexicon: Path | None = None
    recognizer: Path | None = None


def classify(paths: Iterable[Path]) -> ContentFiles:
    """Sort files by kind: the special names, and every other file is a routine."""
    routines: list[Path] = []
    special: dict[str, Path] = {}
    for path in sorted(paths):
        name = path.stem + ".yaml"
        if name in _SPECIAL_FILES and name not in special:
            special[name] = path
        else:
            routines.append(path)
    return ContentFiles(
        routines=tuple(routines),
        faq=special.get(FAQ_FILE),
        commands=special.get(COMMANDS_FILE),
        phrases=special.get(PHRASES_FILE),
        lexicon=special.get(LEXICON_FILE),
        recognizer=special.get(RECOGNIZER_FILE),
    )


def yaml_files(folder: Path, problems: list[ContentError] | None = None) -> list[Path]:
    """The folder's YAML files, hidden ones left out, at most `LIMITS.files_per_folder`.

    Files past the limit are left out and reported to `problems`.
    """
    found = sorted(
        path for path in folder.iterdir()
        if path.suffix in YAML_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )
    limit = LIMITS.files_per_folder
    if len(found) > limit and problems is not None:
        problems.append(ContentError.whole_file(
            folder, f"more than {limit} YAML files: read the first {limit}, "
            f"left out {found[limit].name} and the {len(found) - limit - 1} after it",
            "split them over several folders",
        ))
    return found[:limit]


def list_folder(folder: Path, problems: list[ContentError]) -> ContentFiles | None:
    """The content files of a folder; None (and a problem) when it is not a folder."""
    if folder.is_dir():
        return classify(yaml_files(folder, problems))
    message = "not a folder" if folder.exists() else "no such folder"
    problems.append(ContentError.whole_file(folder, message, "give a folder of YAML files"))
    return None


def group_by_folder(
    paths: Sequence[Path], problems: list[ContentError]
) -> dict[Path, ContentFiles]:
    """Files to check, grouped by the folder they are in (duplicate ids are per folder)."""
    by_folder: dict[Path, dict[Path, None]] = {}
    for path in paths:
        if path.is_dir():
            by_folder.setdefault(path, {}).update(dict.fromkeys(yaml_files(path, problems)))
        elif path.exists():  # a pipe or device is refused when read, with its reason
            by_folder.setdefault(path.parent, {})[path] = None
        else:
            problems.append(ContentError.whole_file(path, "no such file or folder"))
    return {folder: classify(files) for folder, files in by_folder.items()}


def try_load(
    load: Callable[..., _T], path: Path | None, problems: list[ContentError]
) -> _T | None:
    """Run a `load_*` function; a broken file becomes problems and None."""
    if path is None:
        return None
    warnings: list[ContentError] = []
    try:
        value = load(path, warnings=warnings)
    except ContentFileError as exc:
        _LOGGER.warning("skipped %s: %d problem(s)", path, len(exc.errors))
        problems.extend(exc.errors)
        return None
    problems.extend(warnings)
    return value


def load_routine_group(paths: Sequence[Path], problems: list[ContentError]) -> dict[str, Routine]:
    """Routines of one folder; a second file with an id already seen is an error."""
    loaded: dict[str, Routine] = {}
    id_positions: dict[str, SourcePos] = {}
    for path in paths:
        report = Report()
        found = routine_and_id_pos(path, report)
        if found is not None and not report.failed:
            routine, id_pos = found
            if routine.id in id_positions:
                first = f"first used at {id_positions[routine.id]}"
                report.error(id_pos, f"duplicate routine id '{routine.id}'", first)
            else:
                loaded[routine.id] = routine
                id_positions[routine.id] = id_pos
        problems.extend(report.problems)
    return loaded


def quiet_routines(folder: Path) -> dict[str, Routine]:
    """Routines of a folder that load cleanly; problems are someone else's to report."""
    if not folder.is_dir():
        return {}
    return load_routine_group(classify(yaml_files(folder)).routines, [])


def routine_and_id_pos(path: Path, report: Report) -> tuple[Routine, SourcePos] | None:
    """A routine file's routine and where its id was written; None if unreadable."""
    data = read_mapping(path, report, "a routine file", "id, name, exercises")
    if data is None:
        return None
    return parse_routine(data, report), data.value_pos("id")
