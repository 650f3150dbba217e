"""Load routines, FAQ, commands and phrases from YAML, checking everything a user could get wrong.

Layers, as in hassil: `load_*(path)` reads a file, `*_from_yaml(stream)` parses YAML with
positions, `*_from_dict(data)` builds the frozen model. Every problem in a file is collected
(not just the first) as a `ContentError` with file, line and column; a file with errors raises
`ContentFileError`. `load_content` loads whole folders, skips broken files and keeps the rest.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import site
import string
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml

from coach.content.errors import ContentError, ContentFileError, Severity
from coach.content.model import (
    CommandSet,
    Content,
    Cue,
    Exercise,
    FaqEntry,
    IntentSpec,
    Routine,
    Side,
    SourcePos,
)
from coach.content.yamlpos import YamlList, YamlMap, load_yaml, yaml_error_to_content_error

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

_T = TypeVar("_T")

FAQ_FILE = "faq.yaml"
COMMANDS_FILE = "commands.yaml"
PHRASES_FILE = "phrases.yaml"
_SPECIAL_FILES = frozenset({FAQ_FILE, COMMANDS_FILE, PHRASES_FILE})
_YAML_GLOB = "*.yaml"

ROUTINE_SLOT = "routine"
"""The slot whose values are routine ids; filled from every routine's id, name and aliases."""

DEFAULT_REST = 0.0
"""Rest after an exercise when neither the routine nor the exercise sets one (seconds)."""

MAX_ANSWER_SENTENCES = 2
"""A short FAQ answer is spoken mid-workout: longer ones belong in `details`."""

_ROUTINE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FAQ_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_SLOT_REFERENCE = re.compile(r"\{([^{}:]*)(?::[^{}]*)?\}")
_BRACKET_PAIRS = {")": "(", "]": "[", "}": "{"}

_ROUTINE_KEYS = ("id", "name", "aliases", "description", "rest", "intro", "outro", "exercises")
_EXERCISE_KEYS = ("name", "seconds", "reps", "tempo", "sides", "how", "cues", "rest")
_CUE_KEYS = ("at", "say")
_FAQ_KEYS = ("entries",)
_FAQ_ENTRY_KEYS = ("id", "questions", "answer", "details")
_COMMANDS_KEYS = ("fillers", "slots", "intents")

_TEMPLATE_SYNTAX = "alternatives are (a | b), optional words [like this], slots {name}"
_QUOTE_HINT = "put it in quotes to make it text"


# --------------------------------------------------------------------------- public: files


def default_routine_dir() -> Path:
    """The bundled content folder: the repository's `routines/`, or where pip installed it."""
    candidates = (
        Path(__file__).resolve().parents[2] / "routines",
        Path(sys.prefix) / "share" / "coach" / "routines",
        Path(site.getuserbase()) / "share" / "coach" / "routines",
    )
    for folder in candidates:
        if folder.is_dir() and any(folder.glob(_YAML_GLOB)):
            return folder
    return candidates[0]


def load_routine(path: Path, *, warnings: list[ContentError] | None = None) -> Routine:
    """Read one routine file; raises ContentFileError listing every problem in it.

    Warnings (problems that don't stop the file loading) go to `warnings`, or to the log.
    """
    report = _Report()
    routine = _routine_from_path(path, report)
    return report.finish(routine, warnings)


def load_faq(path: Path, *, warnings: list[ContentError] | None = None) -> tuple[FaqEntry, ...]:
    """Read faq.yaml; raises ContentFileError listing every problem in it."""
    report = _Report()
    data = _read_mapping(path, report, "faq.yaml", "entries")
    entries = None if data is None else _parse_faq(data, report)
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
    report = _Report()
    data = _read_mapping(path, report, "commands.yaml", "fillers, slots, intents")
    commands = None if data is None else _parse_commands(data, report, routines)
    commands = report.finish(commands, warnings)
    return with_routine_slot(commands, routines.values())


def load_phrases(path: Path, *, warnings: list[ContentError] | None = None) -> dict[str, str]:
    """Read phrases.yaml (key -> text); raises ContentFileError listing every problem in it."""
    report = _Report()
    data = _read_mapping(path, report, "phrases.yaml", "phrase keys")
    phrases = None if data is None else _parse_phrases(data, report)
    return report.finish(phrases, warnings)


# --------------------------------------------------------------------------- public: YAML text


def routine_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> Routine:
    """Parse a routine from YAML text; `path` labels positions in errors."""
    report = _Report()
    data = _parse_mapping(stream, _label(stream, path), report, "a routine", "id, name, exercises")
    routine = None if data is None else _parse_routine(data, report)
    return report.finish(routine, warnings)


def faq_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> tuple[FaqEntry, ...]:
    """Parse faq.yaml text."""
    report = _Report()
    data = _parse_mapping(stream, _label(stream, path), report, "faq.yaml", "entries")
    entries = None if data is None else _parse_faq(data, report)
    return report.finish(entries, warnings)


def commands_from_yaml(
    stream: str | IO[str],
    routines: Mapping[str, Routine],
    path: Path | None = None,
    *,
    warnings: list[ContentError] | None = None,
) -> CommandSet:
    """Parse commands.yaml text (without adding routine names to the `routine` slot)."""
    report = _Report()
    label = _label(stream, path)
    data = _parse_mapping(stream, label, report, "commands.yaml", "fillers, slots, intents")
    commands = None if data is None else _parse_commands(data, report, routines)
    return report.finish(commands, warnings)


def phrases_from_yaml(
    stream: str | IO[str], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> dict[str, str]:
    """Parse phrases.yaml text."""
    report = _Report()
    data = _parse_mapping(stream, _label(stream, path), report, "phrases.yaml", "phrase keys")
    phrases = None if data is None else _parse_phrases(data, report)
    return report.finish(phrases, warnings)


# --------------------------------------------------------------------------- public: dicts


def routine_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> Routine:
    """Build a Routine from already-parsed data (positions are approximate for plain dicts)."""
    report = _Report()
    routine = _parse_routine(_marked_mapping(data, path), report)
    return report.finish(routine, warnings)


def faq_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> tuple[FaqEntry, ...]:
    """Build FAQ entries from already-parsed data."""
    report = _Report()
    entries = _parse_faq(_marked_mapping(data, path), report)
    return report.finish(entries, warnings)


def commands_from_dict(
    data: Mapping[str, Any],
    routines: Mapping[str, Routine],
    path: Path | None = None,
    *,
    warnings: list[ContentError] | None = None,
) -> CommandSet:
    """Build a CommandSet from already-parsed data."""
    report = _Report()
    commands = _parse_commands(_marked_mapping(data, path), report, routines)
    return report.finish(commands, warnings)


def phrases_from_dict(
    data: Mapping[str, Any], path: Path | None = None, *, warnings: list[ContentError] | None = None
) -> dict[str, str]:
    """Build the phrase table from already-parsed data."""
    report = _Report()
    phrases = _parse_phrases(_marked_mapping(data, path), report)
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
        files = _list_folder(folder, problems)
        if files is None:
            continue
        for routine in _load_routine_group(files.routines, problems).values():
            _add_routine(routines, routine)
        for entry in _try_load(load_faq, files.faq, problems) or ():
            faq[entry.id] = entry
        phrases.update(_try_load(load_phrases, files.phrases, problems) or {})
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
    groups = _group_by_folder(paths, problems)
    known = _quiet_routines(default_routine_dir())
    for files in groups.values():
        known.update(_load_routine_group(files.routines, problems))
    for folder, files in groups.items():
        _try_load(load_faq, files.faq, problems)
        _try_load(load_phrases, files.phrases, problems)
        if files.commands is not None:
            neighbours = {**_quiet_routines(folder), **known}
            _try_load(partial(load_commands, routines=neighbours), files.commands, problems)
    return problems


def with_routine_slot(commands: CommandSet, routines: Iterable[Routine]) -> CommandSet:
    """Add each routine's id, name and aliases (lowercased) to the `routine` slot.

    Values already in the slot (from commands.yaml) win over generated ones.
    """
    slot = dict(commands.slots.get(ROUTINE_SLOT, {}))
    for routine in routines:
        for spoken in _spoken_forms(routine):
            owner = slot.setdefault(spoken, routine.id)
            if owner != routine.id:
                _LOGGER.warning(
                    "%r names both routine %r and %r; it will start %r",
                    spoken, owner, routine.id, owner,
                )
    slots = {**commands.slots, ROUTINE_SLOT: slot}
    return replace(commands, slots=slots)


# --------------------------------------------------------------------------- problem collection


class _Report:
    """Problems found while reading one file: all of them, not just the first."""

    def __init__(self) -> None:
        self._problems: list[ContentError] = []

    @property
    def problems(self) -> list[ContentError]:
        """In file order, whatever order the checks ran in."""
        return sorted(self._problems, key=lambda problem: (problem.line, problem.column))

    def error(self, pos: SourcePos, message: str, hint: str = "") -> None:
        self._problems.append(ContentError.at(pos, message, hint))

    def warn(self, pos: SourcePos, message: str, hint: str = "") -> None:
        self._problems.append(ContentError.at(pos, message, hint, Severity.WARNING))

    def add(self, problem: ContentError) -> None:
        self._problems.append(problem)

    @property
    def failed(self) -> bool:
        return any(not problem.is_warning for problem in self._problems)

    def finish(self, value: _T | None, warnings: list[ContentError] | None) -> _T:
        """The value if the file is usable, else ContentFileError; warnings handed on."""
        if value is None or self.failed:
            raise ContentFileError(self.problems)
        if warnings is not None:
            warnings.extend(self.problems)
        else:
            for problem in self.problems:
                _LOGGER.warning("%s", problem)
        return value


# --------------------------------------------------------------------------- folders and files


@dataclass(frozen=True)
class _ContentFiles:
    """The content files of one folder, by kind."""

    routines: tuple[Path, ...] = ()
    faq: Path | None = None
    commands: Path | None = None
    phrases: Path | None = None


def _classify(paths: Iterable[Path]) -> _ContentFiles:
    routines: list[Path] = []
    special: dict[str, Path] = {}
    for path in sorted(paths):
        if path.name in _SPECIAL_FILES:
            special[path.name] = path
        else:
            routines.append(path)
    return _ContentFiles(
        routines=tuple(routines),
        faq=special.get(FAQ_FILE),
        commands=special.get(COMMANDS_FILE),
        phrases=special.get(PHRASES_FILE),
    )


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob(_YAML_GLOB) if p.is_file() and not p.name.startswith("."))


def _list_folder(folder: Path, problems: list[ContentError]) -> _ContentFiles | None:
    if folder.is_dir():
        return _classify(_yaml_files(folder))
    message = "not a folder" if folder.exists() else "no such folder"
    problems.append(ContentError.whole_file(folder, message, "give a folder of YAML files"))
    return None


def _group_by_folder(
    paths: Sequence[Path], problems: list[ContentError]
) -> dict[Path, _ContentFiles]:
    """Files to check, grouped by the folder they are in (duplicate ids are per folder)."""
    by_folder: dict[Path, dict[Path, None]] = {}
    for path in paths:
        if path.is_dir():
            by_folder.setdefault(path, {}).update(dict.fromkeys(_yaml_files(path)))
        elif path.is_file():
            by_folder.setdefault(path.parent, {})[path] = None
        else:
            problems.append(ContentError.whole_file(path, "no such file or folder"))
    return {folder: _classify(files) for folder, files in by_folder.items()}


def _try_load(
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


def _load_routine_group(paths: Sequence[Path], problems: list[ContentError]) -> dict[str, Routine]:
    """Routines of one folder; a second file with an id already seen is an error."""
    loaded: dict[str, Routine] = {}
    id_positions: dict[str, SourcePos] = {}
    for path in paths:
        report = _Report()
        found = _routine_and_id_pos(path, report)
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


def _quiet_routines(folder: Path) -> dict[str, Routine]:
    """Routines of a folder that load cleanly; problems are someone else's to report."""
    if not folder.is_dir():
        return {}
    return _load_routine_group(_classify(_yaml_files(folder)).routines, [])


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
    sets = [_try_load(partial(load_commands, routines=routines), path, problems) for path in paths]
    merged = _merge_commands([commands for commands in sets if commands is not None])
    return with_routine_slot(merged, routines.values())


def _merge_commands(sets: Sequence[CommandSet]) -> CommandSet:
    intents: dict[str, list[str]] = {}
    slots: dict[str, dict[str, str]] = {}
    fillers: dict[str, None] = {}
    for commands in sets:
        for intent in commands.intents:
            templates = intents.setdefault(intent.name, [])
            templates.extend(t for t in intent.templates if t not in templates)
        for name, values in commands.slots.items():
            slots.setdefault(name, {}).update(values)
        fillers.update(dict.fromkeys(commands.fillers))
    specs = tuple(IntentSpec(name, tuple(templates)) for name, templates in intents.items())
    return CommandSet(specs, slots, tuple(fillers))


def _spoken_forms(routine: Routine) -> list[str]:
    """Lowercased id, name and aliases, each also with dashes as spaces (recognisers drop them)."""
    forms: dict[str, None] = {}
    for text in (routine.id, routine.name, *routine.aliases):
        spoken = " ".join(text.lower().split())
        forms.update(dict.fromkeys([spoken, " ".join(spoken.replace("-", " ").split())]))
    return [form for form in forms if form]


# --------------------------------------------------------------------------- reading YAML


def _label(stream: str | IO[str], path: Path | None) -> Path:
    return path if path is not None else Path(getattr(stream, "name", "<string>"))


def _read_mapping(path: Path, report: _Report, what: str, keys: str) -> YamlMap | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.add(ContentError.whole_file(path, f"cannot read the file: {exc.strerror or exc}"))
        return None
    return _parse_mapping(raw, path, report, what, keys)


def _parse_mapping(
    stream: str | bytes | IO[str], path: Path, report: _Report, what: str, keys: str
) -> YamlMap | None:
    try:
        data = load_yaml(stream, path)
    except yaml.YAMLError as exc:
        report.add(yaml_error_to_content_error(exc, path))
        return None
    return _top_mapping(data, path, report, what, keys)


def _top_mapping(data: Any, path: Path, report: _Report, what: str, keys: str) -> YamlMap | None:
    if data is None:
        report.add(ContentError.whole_file(path, "the file is empty", f"{what} needs {keys}"))
        return None
    if not isinstance(data, YamlMap):
        pos = data.pos if isinstance(data, YamlList) else SourcePos(path, 1, 1)
        report.error(pos, f"{what} must be a mapping of keys ({keys}), got {_describe(data)}")
        return None
    return data


def _marked_mapping(data: Mapping[str, Any], path: Path | None) -> Any:
    """Plain dicts and lists as YamlMap/YamlList, all positioned at the start of `path`."""
    return _mark(data, SourcePos(path or Path("<dict>"), 1, 1))


def _mark(value: Any, pos: SourcePos) -> Any:
    if isinstance(value, (YamlMap, YamlList)):
        return value
    if isinstance(value, Mapping):
        mapping = YamlMap(pos)
        for key, item in value.items():
            mapping.put(key, _mark(item, pos), pos, pos)
        return mapping
    if isinstance(value, (list, tuple)):
        sequence = YamlList(pos)
        for item in value:
            sequence.add(_mark(item, pos), pos)
        return sequence
    return value


def _routine_from_path(path: Path, report: _Report) -> Routine | None:
    found = _routine_and_id_pos(path, report)
    return None if found is None else found[0]


def _routine_and_id_pos(path: Path, report: _Report) -> tuple[Routine, SourcePos] | None:
    data = _read_mapping(path, report, "a routine file", "id, name, exercises")
    if data is None:
        return None
    return _parse_routine(data, report), data.value_pos("id")


# --------------------------------------------------------------------------- values


def _describe(value: Any) -> str:
    """How a wrong value is named in a message: "text 'forty'", "number 3", "a list"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {_fmt(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text '{shown}'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value}"


def _fmt(number: float) -> str:
    return f"{number:g}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _as_text(value: Any, pos: SourcePos, label: str, report: _Report, hint: str = "") -> str:
    """The value as spoken text (whitespace collapsed), or "" after reporting why not."""
    if not isinstance(value, str):
        scalar = isinstance(value, (bool, int, float))
        report.error(pos, f"{label} must be text, got {_describe(value)}",
                     _QUOTE_HINT if scalar else hint)
        return ""
    text = " ".join(value.split())
    if not text:
        report.error(pos, f"{label} is empty", hint or "write something or remove it")
    return text


def _as_number(
    value: Any, pos: SourcePos, label: str, report: _Report, *, zero_ok: bool
) -> float | None:
    """A finite number (> 0, or >= 0 when zero_ok), or None after reporting why not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = "write a plain number of seconds, e.g. 30" if isinstance(value, str) else ""
        report.error(pos, f"{label} must be a number, got {_describe(value)}", hint)
        return None
    number = float(value)
    if not math.isfinite(number):
        report.error(pos, f"{label} must be a finite number, got {_fmt(number)}")
    elif number < 0 or (number == 0 and not zero_ok):
        bound = "cannot be negative" if zero_ok else "must be more than 0"
        report.error(pos, f"{label} {bound}, got {_fmt(number)}")
    else:
        return number
    return None


def _as_whole_number(value: Any, pos: SourcePos, label: str, report: _Report) -> int | None:
    number = _as_number(value, pos, label, report, zero_ok=False)
    if number is None:
        return None
    if not number.is_integer():
        report.error(pos, f"{label} must be a whole number, got {_fmt(number)}")
        return None
    return int(number)


def _expect_mapping(
    value: Any, pos: SourcePos, report: _Report, label: str, expected: str, hint: str
) -> YamlMap | None:
    if isinstance(value, YamlMap):
        return value
    report.error(pos, f"{label} must be {expected}, got {_describe(value)}", hint)
    return None


class _Fields:
    """Typed access to one YAML mapping; reports unknown and missing keys on creation."""

    def __init__(
        self,
        data: YamlMap,
        report: _Report,
        what: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
    ) -> None:
        self.data = data
        self.report = report
        self.what = what
        self._check_unknown(allowed)
        self._check_required(required)

    def _check_unknown(self, allowed: Sequence[str]) -> None:
        for key in self.data:
            if key in allowed:
                continue
            message = f"unknown key '{key}'"
            nearest = _did_you_mean(str(key), allowed)
            if nearest is not None:
                message += f"; did you mean '{nearest}'?"
            self.report.error(self.data.key_pos(key), message, f"{self.what} has {_and(allowed)}")

    def _check_required(self, required: Sequence[str]) -> None:
        for key in required:
            if key not in self.data:
                self.report.error(
                    self.data.pos, f"missing required key '{key}'",
                    f"{self.what} needs {_and(required)}",
                )
            elif self.data[key] is None:
                self.report.error(self.pos(key), f"'{key}' has no value")

    def has(self, key: str) -> bool:
        """True when the key is there with a value (an empty `key:` counts as absent)."""
        return self.data.get(key) is not None

    def pos(self, key: str) -> SourcePos:
        return self.data.value_pos(key)

    def key_pos(self, key: str) -> SourcePos:
        return self.data.key_pos(key)

    def text(self, key: str, hint: str = "") -> str:
        if not self.has(key):
            return ""
        return _as_text(self.data[key], self.pos(key), f"'{key}'", self.report, hint)

    def number(self, key: str, *, zero_ok: bool) -> float | None:
        if not self.has(key):
            return None
        return _as_number(self.data[key], self.pos(key), f"'{key}'", self.report, zero_ok=zero_ok)

    def whole_number(self, key: str) -> int | None:
        if not self.has(key):
            return None
        return _as_whole_number(self.data[key], self.pos(key), f"'{key}'", self.report)

    def mapping(self, key: str, hint: str = "") -> YamlMap | None:
        if not self.has(key):
            return None
        return _expect_mapping(self.data[key], self.pos(key), self.report, f"'{key}'",
                               "a mapping", hint)

    def list(self, key: str, *, hint: str = "", empty_hint: str = "") -> YamlList | None:
        """The list under `key`; when `empty_hint` is given, an empty list is an error."""
        if not self.has(key):
            return None
        value = self.data[key]
        if not isinstance(value, YamlList):
            hint = hint or "write one item per line, each starting with '- '"
            self.report.error(self.pos(key), f"'{key}' must be a list, got {_describe(value)}",
                              hint)
            return None
        if not value and empty_hint:
            self.report.error(self.pos(key), f"'{key}' is empty", empty_hint)
        return value

    def text_list(self, key: str, *, empty_hint: str = "") -> tuple[str, ...]:
        items = self.list(key, hint=f"e.g. {key}: [first, second]", empty_hint=empty_hint)
        if items is None:
            return ()
        texts = (
            _as_text(item, items.item_pos(index), f"each item of '{key}'", self.report)
            for index, item in enumerate(items)
        )
        return tuple(text for text in texts if text)


def _and(words: Sequence[str]) -> str:
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# --------------------------------------------------------------------------- routines


# Schema (one routine per file):
#   id: warm-up              required; lowercase letters, digits and dashes; unique per folder
#   name: Dynamic warm-up    required; spoken title
#   aliases: [warm up]       optional; other spoken names
#   description: text        optional; one line for `coach list`
#   rest: 15                 optional; default rest after each exercise (seconds, >= 0)
#   intro: text              optional; said before the first exercise
#   outro: text              optional; said at the end
#   exercises: [...]         required; at least one (schema above _parse_exercise)
def _parse_routine(data: YamlMap, report: _Report) -> Routine:
    fields = _Fields(data, report, "a routine", _ROUTINE_KEYS, ("id", "name", "exercises"))
    routine_id = fields.text("id")
    if routine_id:
        _check_routine_id(routine_id, fields.pos("id"), report)
    default_rest = fields.number("rest", zero_ok=True)
    exercises = _parse_exercises(fields, DEFAULT_REST if default_rest is None else default_rest)
    return Routine(
        id=routine_id,
        name=fields.text("name"),
        aliases=fields.text_list("aliases"),
        intro=fields.text("intro"),
        outro=fields.text("outro"),
        exercises=exercises,
        description=fields.text("description"),
        source=data.pos.path,
    )


def _check_routine_id(routine_id: str, pos: SourcePos, report: _Report) -> None:
    if _ROUTINE_ID.fullmatch(routine_id):
        return
    suggestion = re.sub(r"[^a-z0-9]+", "-", routine_id.lower()).strip("-")
    report.error(
        pos,
        f"routine id '{routine_id}' must be lowercase letters, digits and dashes",
        f"e.g. '{suggestion}'" if suggestion else "e.g. 'warm-up'",
    )


def _parse_exercises(fields: _Fields, default_rest: float) -> tuple[Exercise, ...]:
    items = fields.list("exercises", empty_hint="a routine needs at least one exercise")
    if not items:
        return ()
    parsed = (
        _parse_exercise(item, items.item_pos(index), fields.report, default_rest)
        for index, item in enumerate(items)
    )
    exercises = [exercise for exercise in parsed if exercise is not None]
    if exercises:  # nothing to rest for after the last one
        exercises[-1] = replace(exercises[-1], rest_after=0.0)
    return tuple(exercises)


# Schema (one item of `exercises`):
#   name: leg swings         required; spoken name
#   seconds: 30              timed: working seconds per side (> 0) ...
#   reps: 8                  ... or counted: repetitions per side (whole number > 0)
#   tempo: 4                 with reps: seconds per repetition (> 0); seconds = reps * tempo
#   sides: [left, right]     optional; each side gets the full time, in this order
#   how: text                optional; set-up line spoken as it starts
#   cues: [...]              optional; text, or {at: seconds, say: text} (schema above _parse_cue)
#   rest: 20                 optional; rest after it (seconds, >= 0); overrides the routine's
def _parse_exercise(
    item: Any, pos: SourcePos, report: _Report, default_rest: float
) -> Exercise | None:
    data = _expect_mapping(
        item, pos, report, "each exercise", "a mapping",
        "e.g. '- name: plank' with 'seconds: 30' under it",
    )
    if data is None:
        return None
    fields = _Fields(data, report, "an exercise", _EXERCISE_KEYS, ("name",))
    seconds, reps, tempo = _parse_timing(fields)
    rest = fields.number("rest", zero_ok=True)
    # Built even when the timing is wrong, so every other field still gets checked.
    exercise = Exercise(
        name=fields.text("name"),
        seconds=seconds or 0.0,
        reps=reps,
        tempo=tempo,
        sides=_parse_sides(fields),
        how=fields.text("how"),
        cues=_parse_cues(fields, seconds),
        rest_after=default_rest if rest is None else rest,
    )
    return None if seconds is None else exercise


def _parse_timing(fields: _Fields) -> tuple[float | None, int | None, float | None]:
    """(seconds, reps, tempo): timed exercises have seconds only; counted ones all three."""
    has_seconds, has_reps, has_tempo = (fields.has(k) for k in ("seconds", "reps", "tempo"))
    nothing = (None, None, None)
    if has_seconds and has_reps:
        fields.report.error(
            fields.key_pos("reps"), "an exercise has either 'seconds' or 'reps', not both",
            "'seconds' for a timed exercise; 'reps' with 'tempo' for a counted one",
        )
        return nothing
    if has_reps and not has_tempo:
        fields.report.error(
            fields.key_pos("reps"), "'reps' needs 'tempo' (seconds per repetition)",
            "e.g. 'tempo: 4' for four seconds a rep",
        )
        return nothing
    if has_tempo and not has_reps:
        fields.report.error(fields.key_pos("tempo"), "'tempo' needs 'reps'", "e.g. 'reps: 8'")
        return nothing
    if has_reps:
        reps = fields.whole_number("reps")
        tempo = fields.number("tempo", zero_ok=False)
        return nothing if reps is None or tempo is None else (reps * tempo, reps, tempo)
    if has_seconds:
        return fields.number("seconds", zero_ok=False), None, None
    fields.report.error(
        fields.data.pos, "missing required key 'seconds' (or 'reps' with 'tempo')",
        "e.g. 'seconds: 30', or 'reps: 8' and 'tempo: 4'",
    )
    return nothing


def _parse_sides(fields: _Fields) -> tuple[Side, ...]:
    items = fields.list("sides", hint="e.g. sides: [left, right]")
    if items is None:
        return ()
    sides: list[Side] = []
    valid = [side.value for side in Side]
    for index, value in enumerate(items):
        pos = items.item_pos(index)
        if value not in valid:
            nearest = _did_you_mean(str(value).lower(), valid)
            suffix = f"; did you mean '{nearest}'?" if nearest else ""
            fields.report.error(pos, f"unknown side '{value}'{suffix}", f"sides are {_and(valid)}")
        elif Side(value) in sides:
            fields.report.error(pos, f"side '{value}' is listed twice")
        else:
            sides.append(Side(value))
    return tuple(sides)


def _parse_cues(fields: _Fields, length: float | None) -> tuple[Cue, ...]:
    items = fields.list("cues")
    if items is None:
        return ()
    cues = (
        _parse_cue(item, items.item_pos(index), fields.report, length)
        for index, item in enumerate(items)
    )
    return tuple(cue for cue in cues if cue is not None)


# Schema (one item of `cues`): plain text (placed by the player in a free gap), or
#   at: 30                   seconds into the exercise (into each side); 0 <= at < its length
#   say: text                what to say
def _parse_cue(item: Any, pos: SourcePos, report: _Report, length: float | None) -> Cue | None:
    if isinstance(item, str):
        return Cue(_as_text(item, pos, "a cue", report))
    data = _expect_mapping(
        item, pos, report, "a cue", "text or a mapping with 'at' and 'say'",
        "e.g. '- Keep your back flat.' or '- {at: 30, say: Breathe out.}'",
    )
    if data is None:
        return None
    fields = _Fields(data, report, "a timed cue", _CUE_KEYS, _CUE_KEYS)
    at = fields.number("at", zero_ok=True)
    if at is not None and length is not None and at >= length:
        report.error(
            fields.pos("at"),
            f"cue at {_fmt(at)} s is beyond the end of the exercise ({_fmt(length)} s)",
            "'at' counts seconds from the start of the exercise (of each side)",
        )
    return Cue(fields.text("say"), at)


# --------------------------------------------------------------------------- faq


# Schema (faq.yaml):
#   entries:
#     - id: squat-back-pain    required; lowercase letters, digits, dashes, underscores; unique
#       questions: [..]        required; at least one way to ask it
#       answer: text           required; short spoken answer, two sentences at most (warning)
#       details: text          required; the longer answer for "tell me more"
def _parse_faq(data: YamlMap, report: _Report) -> tuple[FaqEntry, ...]:
    fields = _Fields(data, report, "faq.yaml", _FAQ_KEYS, _FAQ_KEYS)
    items = fields.list("entries", empty_hint="add at least one entry")
    if items is None:
        return ()
    seen_ids: dict[str, SourcePos] = {}
    seen_questions: dict[str, str] = {}
    entries: list[FaqEntry] = []
    for index, item in enumerate(items):
        entry = _parse_faq_entry(item, items.item_pos(index), report, seen_ids, seen_questions)
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _parse_faq_entry(
    item: Any,
    pos: SourcePos,
    report: _Report,
    seen_ids: dict[str, SourcePos],
    seen_questions: dict[str, str],
) -> FaqEntry | None:
    data = _expect_mapping(
        item, pos, report, "each FAQ entry", "a mapping", "with id, questions, answer, details"
    )
    if data is None:
        return None
    fields = _Fields(data, report, "an FAQ entry", _FAQ_ENTRY_KEYS, _FAQ_ENTRY_KEYS)
    entry = FaqEntry(
        id=fields.text("id"),
        questions=fields.text_list("questions", empty_hint="give at least one way to ask it"),
        answer=fields.text("answer"),
        details=fields.text("details"),
    )
    _check_faq_id(entry.id, fields.pos("id"), report, seen_ids)
    _check_questions(fields, entry.id, seen_questions)
    _check_answer_length(entry.answer, fields.pos("answer"), report)
    return entry


def _check_faq_id(
    entry_id: str, pos: SourcePos, report: _Report, seen: dict[str, SourcePos]
) -> None:
    if not entry_id:
        return
    if not _FAQ_ID.fullmatch(entry_id):
        report.error(pos, f"FAQ id '{entry_id}' must be lowercase letters, digits, dashes or "
                          "underscores", "e.g. 'squat-back-pain'")
    elif entry_id in seen:
        report.error(pos, f"duplicate FAQ id '{entry_id}'", f"first used at {seen[entry_id]}")
    else:
        seen[entry_id] = pos


def _check_questions(fields: _Fields, entry_id: str, seen: dict[str, str]) -> None:
    """The same question in two entries makes the answer a coin toss: warn."""
    items = fields.data.get("questions")
    if not isinstance(items, YamlList):
        return
    for index, question in enumerate(items):
        if not isinstance(question, str):
            continue
        key = " ".join(question.lower().split())
        owner = seen.setdefault(key, entry_id)
        if owner != entry_id:
            fields.report.warn(items.item_pos(index),
                               f"question '{question}' is also asked in entry '{owner}'")


def _check_answer_length(answer: str, pos: SourcePos, report: _Report) -> None:
    sentences = len(_SENTENCE_END.findall(answer)) + (0 if _ends_sentence(answer) else 1)
    if answer and sentences > MAX_ANSWER_SENTENCES:
        report.warn(
            pos,
            f"the short answer has {sentences} sentences; keep it to {MAX_ANSWER_SENTENCES}",
            "move the rest to 'details'",
        )


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?"))


# --------------------------------------------------------------------------- commands


# Schema (commands.yaml):
#   fillers: [um, please, coach]       optional; words dropped before matching
#   slots:                             optional; slot name -> {spoken: canonical}
#     routine:
#       legs: squat                    `routine` values must be routine ids (else a warning
#                                      and the value is dropped); names and aliases are added
#   intents:                           optional; name -> at least one hassil-style template
#     pause: [pause, "(hold | wait) [on]"]
def _parse_commands(
    data: YamlMap, report: _Report, routines: Mapping[str, Routine]
) -> CommandSet:
    fields = _Fields(data, report, "commands.yaml", _COMMANDS_KEYS)
    fillers = tuple(filler.lower() for filler in fields.text_list("fillers"))
    slots = _parse_slots(fields, routines)
    intents = _parse_intents(fields, {*slots, ROUTINE_SLOT})
    return CommandSet(intents=intents, slots=slots, fillers=fillers)


def _parse_slots(fields: _Fields, routines: Mapping[str, Routine]) -> dict[str, dict[str, str]]:
    mapping = fields.mapping("slots", hint="e.g. slots: {routine: {legs: squat}}")
    if mapping is None:
        return {}
    slots: dict[str, dict[str, str]] = {}
    for name, values in mapping.items():
        slot = _as_text(name, mapping.key_pos(name), "a slot name", fields.report)
        inner = _expect_mapping(
            values, mapping.value_pos(name), fields.report, f"slot '{name}'",
            "a mapping of spoken words to values", "e.g. 'warm up: warm-up'",
        )
        if slot and inner is not None:
            slots[slot] = _parse_slot_values(slot, inner, fields.report, routines)
    return slots


def _parse_slot_values(
    slot: str, values: YamlMap, report: _Report, routines: Mapping[str, Routine]
) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for spoken, canonical in values.items():
        label = f"a spoken value of slot '{slot}'"
        spoken_text = _as_text(spoken, values.key_pos(spoken), label, report).lower()
        value = _as_text(canonical, values.value_pos(spoken), f"the value of '{spoken}'", report)
        if not spoken_text or not value:
            continue
        if slot == ROUTINE_SLOT and value not in routines:
            _warn_unknown_routine(value, slot, values.value_pos(spoken), report, routines)
            continue
        parsed[spoken_text] = value
    return parsed


def _warn_unknown_routine(
    value: str, slot: str, pos: SourcePos, report: _Report, routines: Mapping[str, Routine]
) -> None:
    known = ", ".join(sorted(routines)) or "none"
    nearest = _did_you_mean(value, routines)
    report.warn(
        pos,
        f"unknown routine '{value}' in slot '{slot}'; known: {known}",
        f"did you mean '{nearest}'?" if nearest else "use the id of a routine file",
    )


def _parse_intents(fields: _Fields, known_slots: set[str]) -> tuple[IntentSpec, ...]:
    mapping = fields.mapping("intents", hint="e.g. intents: {pause: [pause, hold on]}")
    if mapping is None:
        return ()
    intents = (
        _parse_intent(name, templates, mapping, fields.report, known_slots)
        for name, templates in mapping.items()
    )
    return tuple(intent for intent in intents if intent is not None)


def _parse_intent(
    name: Any, templates: Any, mapping: YamlMap, report: _Report, known_slots: set[str]
) -> IntentSpec | None:
    intent = _as_text(name, mapping.key_pos(name), "an intent name", report)
    pos = mapping.value_pos(name)
    hint = f"e.g. {name}: [first way to say it, second way]"
    if not isinstance(templates, YamlList) or not templates:
        got = "no templates" if not templates else f"{_describe(templates)}, not a list"
        report.error(pos, f"intent '{name}' needs a list of at least one template; got {got}",
                     hint)
        return None
    texts: list[str] = []
    for index, template in enumerate(templates):
        item_pos = templates.item_pos(index)
        text = _as_text(template, item_pos, f"a template of intent '{name}'", report)
        if text:
            _check_template(text, item_pos, report, known_slots)
            texts.append(text)
    return IntentSpec(intent, tuple(texts)) if intent else None


def _check_template(template: str, pos: SourcePos, report: _Report, slots: set[str]) -> None:
    problem = _bracket_problem(template)
    if problem is not None:
        report.error(pos, f"{problem} in template '{template}'", _TEMPLATE_SYNTAX)
        return
    for match in _SLOT_REFERENCE.finditer(template):
        slot = match.group(1).strip()
        if slot not in slots:
            report.warn(pos, f"template '{template}' uses unknown slot '{slot}'",
                        f"slots: {', '.join(sorted(slots))}")


def _bracket_problem(template: str) -> str | None:
    open_brackets: list[str] = []
    for char in template:
        if char in "([{":
            open_brackets.append(char)
        elif char in _BRACKET_PAIRS:
            if not open_brackets or open_brackets[-1] != _BRACKET_PAIRS[char]:
                return f"unmatched '{char}'"
            open_brackets.pop()
    return f"unclosed '{open_brackets[-1]}'" if open_brackets else None


# --------------------------------------------------------------------------- phrases


# Schema (phrases.yaml): a flat mapping
#   paused: Paused. Say resume when you're ready.    key -> text, with {fields} for str.format
#   rest: Rest {seconds} seconds.
def _parse_phrases(data: YamlMap, report: _Report) -> dict[str, str]:
    phrases: dict[str, str] = {}
    flat_hint = "phrases.yaml is a flat list of 'key: text' lines"
    for key, value in data.items():
        name = _as_text(key, data.key_pos(key), "a phrase key", report)
        text = _as_text(value, data.value_pos(key), f"phrase '{key}'", report, flat_hint)
        problem = _format_problem(text)
        if problem is not None:
            report.error(data.value_pos(key), f"phrase '{key}' is not a valid template: {problem}",
                         "write {name} for a value and {{ or }} for a brace")
        elif name and text:
            phrases[name] = text
    return phrases


def _format_problem(text: str) -> str | None:
    try:
        list(string.Formatter().parse(text))
    except ValueError as exc:
        return str(exc)
    return None
