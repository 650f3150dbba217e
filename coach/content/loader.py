"""Load routines, FAQ, commands and phrases from YAML, checking everything a user could get wrong.

Layers, as in hassil: `load_*(path)` reads a file, `*_from_yaml(stream)` parses YAML with
positions, `*_from_dict(data)` builds the frozen model. Every problem in a file is collected
(not just the first) as a `ContentError` with file, line and column; a file with errors raises
`ContentFileError`. `load_content` loads whole folders, skips broken files and keeps the rest.
The checks of each kind of file live in their own module (routines, faq, commands, phrases).
"""

from __future__ import annotations

import logging
import site
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

from coach.content.commands import (
    ROUTINE_SLOT,
    merge_commands,
    parse_commands,
    with_routine_slot,
)
from coach.content.errors import ContentError
from coach.content.faq import parse_faq
from coach.content.folders import (
    COMMANDS_FILE,
    FAQ_FILE,
    PHRASES_FILE,
    YAML_GLOB,
    group_by_folder,
    list_folder,
    load_routine_group,
    quiet_routines,
    routine_and_id_pos,
    try_load,
)
from coach.content.lexicon import check_lexicon
from coach.content.model import CommandSet, Content, FaqEntry, Routine
from coach.content.phrases import parse_phrases
from coach.content.reading import marked_mapping, parse_mapping, read_mapping, stream_path
from coach.content.recognizer import check_recognizer_words
from coach.content.report import Report
from coach.content.routines import parse_routine

__all__ = [
    "COMMANDS_FILE",
    "FAQ_FILE",
    "PHRASES_FILE",
    "ROUTINE_SLOT",
    "check_paths",
    "commands_from_dict",
    "commands_from_yaml",
    "default_routine_dir",
    "faq_from_dict",
    "faq_from_yaml",
    "load_commands",
    "load_content",
    "load_faq",
    "load_phrases",
    "load_routine",
    "phrases_from_dict",
    "phrases_from_yaml",
    "routine_from_dict",
    "routine_from_yaml",
    "with_routine_slot",
]

_LOGGER = logging.getLogger(__name__)


# --------------------------------------------------------------------------- public: files


def default_routine_dir() -> Path:
    """The bundled content folder: the repository's `routines/`, or where pip installed it."""
    candidates = (
        Path(__file__).resolve().parents[2] / "routines",
        Path(sys.prefix) / "share" / "coach" / "routines",
        Path(site.getuserbase()) / "share" / "coach" / "routines",
    )
    for folder in candidates:
        if folder.is_dir() and any(folder.glob(YAML_GLOB)):
            return folder
    return candidates[0]


def load_routine(path: Path, *, warnings: list[ContentError] | None = None) -> Routine:
    """Read one routine file; raises ContentFileError listing every problem in it.

    Warnings (problems that don't stop the file loading) go to `warnings`, or to the log.
    """
    report = Report()
    routine = _routine_from_path(path, report)
    return report.finish(routine, warnings)


def load_faq(path: Path, *, warnings: list[ContentError] | None = None) -> tuple[FaqEntry, ...]:
    """Read faq.yaml; raises ContentFileError listing every problem in it."""
    report = Report()
    data = read_mapping(path, report, "faq.yaml", "entries")
    entries = None if data is None else parse_faq(data, report)
    return report.finish(entries, warnings)


def load_commands(
    path: Path,
    routines: Mapping[str, Routine],
    *,
    warnings: list[ContentError] | None = None,
) -> CommandSet:
    """Read commands.yaml and add every routine's spoken names to the `routine` slot.

    Raises ContentFileError listing every problem in the file.
    """
    report = Report()
    data = read_mapping(path, report, "commands.yaml", "fillers, slots, intents")
    commands = None if data is None else parse_commands(data, report, routines)
    commands = report.finish(commands, warnings)
    return with_routine_slot(commands, routines.values())


def load_phrases(path: Path, *, warnings: list[ContentError] | None = None) -> dict[str, str]:
    """Read phrases.yaml (key -> text); raises ContentFileError listing every problem in it."""
    report = Report()
    data = read_mapping(path, report, "phrases.yaml", "phrase keys")
    phrases = None if data is None else parse_phrases(data, report)
    return report.finish(phrases, warnings)


# --------------------------------------------------------------------------- public: YAML text


def routine_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> Routine:
    """Parse a routine from YAML text; `path` labels positions in errors."""
    report = Report()
    where = stream_path(stream, path)
    data = parse_mapping(stream, where, report, "a routine", "id, name, exercises")
    routine = None if data is None else parse_routine(data, report)
    return report.finish(routine, warnings)


def faq_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> tuple[FaqEntry, ...]:
    """Parse faq.yaml text."""
    report = Report()
    data = parse_mapping(stream, stream_path(stream, path), report, "faq.yaml", "entries")
    entries = None if data is None else parse_faq(data, report)
    return report.finish(entries, warnings)


def commands_from_yaml(
    stream: str | IO[str],
    routines: Mapping[str, Routine],
    path: Path | None = None,
    *,
    warnings: list[ContentError] | None = None,
) -> CommandSet:
    """Parse commands.yaml text (without adding routine names to the `routine` slot)."""
    report = Report()
    label = stream_path(stream, path)
    data = parse_mapping(stream, label, report, "commands.yaml", "fillers, slots, intents")
    commands = None if data is None else parse_commands(data, report, routines)
    return report.finish(commands, warnings)


def phrases_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> dict[str, str]:
    """Parse phrases.yaml text."""
    report = Report()
    data = parse_mapping(stream, stream_path(stream, path), report, "phrases.yaml", "phrase keys")
    phrases = None if data is None else parse_phrases(data, report)
    return report.finish(phrases, warnings)


# --------------------------------------------------------------------------- public: dicts


def routine_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> Routine:
    """Build a Routine from already-parsed data (positions are approximate for plain dicts)."""
    report = Report()
    routine = parse_routine(marked_mapping(data, path), report)
    return report.finish(routine, warnings)


def faq_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> tuple[FaqEntry, ...]:
    """Build FAQ entries from already-parsed data."""
    report = Report()
    entries = parse_faq(marked_mapping(data, path), report)
    return report.finish(entries, warnings)


def commands_from_dict(
    data: Mapping[str, Any],
    routines: Mapping[str, Routine],
    path: Path | None = None,
    *,
    warnings: list[ContentError] | None = None,
) -> CommandSet:
    """Build a CommandSet from already-parsed data."""
    report = Report()
    commands = parse_commands(marked_mapping(data, path), report, routines)
    return report.finish(commands, warnings)


def phrases_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> dict[str, str]:
    """Build the phrase table from already-parsed data."""
    report = Report()
    phrases = parse_phrases(marked_mapping(data, path), report)
    return report.finish(phrases, warnings)


# --------------------------------------------------------------------------- public: folders


def load_content(folders: Sequence[Path]) -> tuple[Content, list[ContentError]]:
    """Load every content folder in order; later (user) folders add to and override earlier ones.

    Routines with the same id, FAQ entries with the same id and phrases with the same key are
    replaced; commands files are merged. A file with errors is skipped and its errors returned;
    warnings are returned too but their files still load.
    """
    problems: list[ContentError] = []
    routines: dict[str, Routine] = {}
    faq: dict[str, FaqEntry] = {}
    phrases: dict[str, str] = {}
    command_files: list[Path] = []
    for folder in folders:
        files = list_folder(folder, problems)
        if files is None:
            continue
        for routine in load_routine_group(files.routines, problems).values():
            _add_routine(routines, routine)
        for entry in try_load(load_faq, files.faq, problems) or ():
            faq[entry.id] = entry
        phrases.update(try_load(load_phrases, files.phrases, problems) or {})
        command_files.extend([files.commands] if files.commands else [])
    commands = _load_command_files(command_files, routines, problems)
    content = Content(routines, tuple(faq.values()), commands, phrases)
    return content, problems


def check_paths(paths: Sequence[Path]) -> list[ContentError]:
    """Validate content files and folders for `coach check`: every problem found (empty = valid).

    Routine ids named in a commands.yaml are looked up among the bundled routines, the routines
    checked, and the routines next to that commands.yaml.
    """
    problems: list[ContentError] = []
    groups = group_by_folder(paths, problems)
    known = quiet_routines(default_routine_dir())
    for files in groups.values():
        known.update(load_routine_group(files.routines, problems))
    for folder, files in groups.items():
        try_load(load_faq, files.faq, problems)
        try_load(load_phrases, files.phrases, problems)
        if files.lexicon is not None:
            problems.extend(check_lexicon(files.lexicon))
        if files.recognizer is not None:
            problems.extend(check_recognizer_words(files.recognizer))
        if files.commands is not None:
            neighbours = {**quiet_routines(folder), **known}
            try_load(partial(load_commands, routines=neighbours), files.commands, problems)
    return problems


def _routine_from_path(path: Path, report: Report) -> Routine | None:
    found = routine_and_id_pos(path, report)
    return None if found is None else found[0]


def _add_routine(routines: dict[str, Routine], routine: Routine) -> None:
    previous = routines.get(routine.id)
    if previous is not None:
        _LOGGER.info(
            "routine %r from %s replaces the one from %s", routine.id, routine.source,
            previous.source,
        )
    routines[routine.id] = routine


def _load_command_files(
    paths: Sequence[Path], routines: Mapping[str, Routine], problems: list[ContentError]
) -> CommandSet:
    """Merge commands files in order: templates add up, later slot values win."""
    sets = [try_load(partial(load_commands, routines=routines), path, problems) for path in paths]
    merged = merge_commands([commands for commands in sets if commands is not None])
    return with_routine_slot(merged, routines.values())
