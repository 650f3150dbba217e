"""recognizer.yaml: the words the speech engines use, loaded into a frozen `RecognizerWords`.

Junk transcripts, Whisper's prompt topic, PocketSphinx's filler words and the words that tell
an English Vosk model are data, validated like the rest of the content: every problem is a
`ContentError` at its file, line and column.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from coach.content.errors import ContentError, ContentFileError
from coach.content.folders import RECOGNIZER_FILE
from coach.content.model import SourcePos
from coach.content.reading import read_content_bytes
from coach.content.yamlpos import YamlList, YamlMap, load_yaml, yaml_error_to_content_error

__all__ = [
    "RECOGNIZER_FILE",
    "RecognizerWords",
    "check_recognizer_words",
    "default_recognizer_words",
    "load_recognizer_words",
    "recognizer_words_from_yaml",
]


_WORD = re.compile(r"[a-z0-9_']+")
_TEXT = re.compile(r"[a-z0-9_']+( [a-z0-9_']+)*")
_QUOTE_HINT = "put it in quotes to make it text"


@dataclass(frozen=True)
class RecognizerWords:
    """The words the speech engines use (see routines/recognizer.yaml)."""

    junk_transcripts: frozenset[str]
    """Texts a decoder is known to invent on noise or silence (normalised)."""
    prompt_topic: str
    """Said after the command phrases in Whisper's prompt; empty for none."""
    filler_words: tuple[str, ...]
    """Common words that may absorb out-of-grammar speech in PocketSphinx, in order."""
    english_markers: tuple[str, ...]
    """Words every English Vosk model knows."""


@dataclass(frozen=True)
class _ListSpec:
    key: str
    pattern: re.Pattern[str]
    form: str
    """What an item must look like, for the hint."""


_LISTS = (
    _ListSpec("junk_transcripts", _TEXT, "lowercase words without punctuation"),
    _ListSpec("filler_words", _WORD, "one lowercase word"),
    _ListSpec("english_markers", _WORD, "one lowercase word"),
)
_KEYS = ("junk_transcripts", "prompt_topic", "filler_words", "english_markers")


def load_recognizer_words(path: Path) -> RecognizerWords:
    """Read a recognizer.yaml; raises ContentFileError listing every problem in it."""
    return recognizer_words_from_yaml(read_content_bytes(Path(path)), path)


def recognizer_words_from_yaml(stream: str | bytes | IO[str], path: Path) -> RecognizerWords:
    """Parse recognizer.yaml text; `path` labels positions in errors."""
    try:
        data = load_yaml(stream, path)
    except yaml.YAMLError as exc:
        raise ContentFileError([yaml_error_to_content_error(exc, path)]) from exc
    problems: list[ContentError] = []
    words = _parse(data, path, problems)
    if words is None or problems:
        raise ContentFileError(problems)
    return words


def check_recognizer_words(path: Path) -> list[ContentError]:
    """Every problem in a recognizer.yaml, for `coach check` (empty: valid)."""
    try:
        load_recognizer_words(path)
    except ContentFileError as exc:
        return list(exc.errors)
    return []


@functools.cache
def default_recognizer_words() -> RecognizerWords:
    """The shipped routines/recognizer.yaml, read once."""
    from coach.content.loader import default_routine_dir  # the loader imports this module

    return load_recognizer_words(default_routine_dir() / RECOGNIZER_FILE)


def _parse(data: Any, path: Path, problems: list[ContentError]) -> RecognizerWords | None:
    if not isinstance(data, YamlMap):
        where = data.pos if isinstance(data, YamlList) else SourcePos(path, 1, 1)
        problems.append(ContentError.at(where, f"{RECOGNIZER_FILE} must be a mapping",
                                        f"keys: {', '.join(_KEYS)}"))
        return None
    for key in data:
        if key not in _KEYS:
            problems.append(ContentError.at(data.key_pos(key), f"unknown key {key!r}",
                                            f"keys: {', '.join(_KEYS)}"))
    for key in _KEYS:
        if key not in data:
            problems.append(ContentError.at(data.pos, f"missing key {key!r}"))
    lists = {spec.key: _word_list(data, spec, problems) for spec in _LISTS}
    topic = _topic(data, problems)
    return RecognizerWords(
        junk_transcripts=frozenset(lists["junk_transcripts"]),
        prompt_topic=topic,
        filler_words=lists["filler_words"],
        english_markers=lists["english_markers"],
    )


def _word_list(data: YamlMap, spec: _ListSpec, problems: list[ContentError]) -> tuple[str, ...]:
    if spec.key not in data:
        return ()
    items = data[spec.key]
    if not isinstance(items, YamlList) or not items:
        problems.append(ContentError.at(data.value_pos(spec.key),
                                        f"{spec.key} must be a list of words", spec.form))
        return ()
    found: dict[str, None] = {}
    for index, item in enumerate(items):
        pos = items.item_pos(index)
        if not isinstance(item, str):
            problems.append(ContentError.at(pos, f"{spec.key}: {item!r} is not text",
                                            _QUOTE_HINT))
        elif not spec.pattern.fullmatch(item):
            problems.append(ContentError.at(pos, f"{spec.key}: {item!r} is not {spec.form}"))
        elif item in found:
            problems.append(ContentError.at(pos, f"{spec.key}: {item!r} is listed twice"))
        else:
            found[item] = None
    return tuple(found)


def _topic(data: YamlMap, problems: list[ContentError]) -> str:
    topic = data.get("prompt_topic", "")
    if not isinstance(topic, str):
        problems.append(ContentError.at(data.value_pos("prompt_topic"),
                                        "prompt_topic must be text (empty for none)", _QUOTE_HINT))
        return ""
    return " ".join(topic.split())
