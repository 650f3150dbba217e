"""The English words text matching treats specially, loaded from routines/lexicon.yaml.

Stopwords, question words, word families and the other word classes live in data so a new
rule is an edit to a validated YAML file, not to code. `load_lexicon` reports every problem
in the file as a `ContentError` with file, line and column; `shipped_lexicon` is the bundled
file, read on first use and kept.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from coach.content.errors import ContentError, ContentFileError
from coach.content.folders import LEXICON_FILE
from coach.content.model import SourcePos
from coach.content.reading import read_content_bytes
from coach.content.yamlpos import YamlList, YamlMap, load_yaml, yaml_error_to_content_error

__all__ = ["LEXICON_FILE", "Lexicon", "NumberWords", "SoundRules", "check_lexicon",
           "load_lexicon", "shipped_lexicon"]


_T = TypeVar("_T")

_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = re.compile(r"[a-z]+")
_DIGRAPH = re.compile(r"[a-z]{2}")
_CLASS_LETTER = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[a-z]")
_PHRASE = re.compile(r"[a-z0-9]+( [a-z0-9]+)*")
_WORD_HINT = "lowercase letters and digits only, as matching sees words: \"dont\", not \"Don't\""
_QUOTE_HINT = "put it in quotes: YAML reads unquoted no/yes/on/off as true/false"


@dataclass(frozen=True)
class NumberWords:
    """How numbers are spelt out."""

    ones: tuple[str, ...]
    """The words for 0 to 19, in order."""
    tens: tuple[str, ...]
    """The words for 20, 30, ... 90, in order."""
    hundred: str
    """Said after the number of hundreds."""
    thousand: str
    """Said after the number of thousands."""


@dataclass(frozen=True)
class SoundRules:
    """How spelling folds into a rough key of sound, for recovering misheard words."""

    digraphs: tuple[tuple[str, str], ...]
    """Letter pairs and the sound that replaces them, applied in this order."""
    classes: Mapping[str, frozenset[str]]
    """Class letter (uppercase) -> the consonants a recogniser confuses with each other."""
    silent: frozenset[str]
    """Letters that are dropped once they have split the vowels around them."""

    @cached_property
    def table(self) -> dict[int, str]:
        """`str.translate` table: each consonant to its class letter, silent letters to "_"."""
        folded = {letter: head for head, letters in self.classes.items() for letter in letters}
        folded.update(dict.fromkeys(self.silent, "_"))
        return str.maketrans(folded)


@dataclass(frozen=True)
class Lexicon:
    """Classes of English words, each with the one rule text matching applies to it."""

    question_starters: frozenset[str]
    """First words that make a sentence a question or a request to be told something."""
    question_anywhere: frozenset[str]
    """Words that make a sentence a question wherever they are ("why")."""
    stopwords: frozenset[str]
    """Words that carry no topic; FAQ matching ignores them."""
    frame_words: frozenset[str]
    """Content words that frame a question without naming its topic."""
    families: Mapping[str, frozenset[str]]
    """Family head -> words read as that head ("hurts" -> "pain")."""
    compounds: Mapping[tuple[str, str], tuple[str, ...]]
    """Word pairs replaced by other words ("work out" -> "workout")."""
    negations: frozenset[str]
    """Words that negate the word after them."""
    negated: Mapping[str, str]
    """Family head of a negated word -> the topic word the sentence gains (pain -> prevent)."""
    dangling: frozenset[str]
    """Function words dropped from the end of a command ("resume the")."""
    leading: frozenset[str]
    """Conjunctions dropped from the start of a command ("and resume")."""
    endings: tuple[str, ...]
    """Word endings the light stemmer strips, tried in this order."""
    numbers: NumberWords
    """How numbers are spelt out."""
    sound: SoundRules
    """How spelling folds into sound keys."""

    @cached_property
    def family_of(self) -> Mapping[str, str]:
        """Word -> the head of its family."""
        return {word: head for head, words in self.families.items() for word in words}


def load_lexicon(path: Path) -> Lexicon:
    """Read a lexicon file; raises ContentFileError listing every problem in it."""
    reader = _Reader()
    if (lexicon := reader.read(path)) is None or reader.problems:
        raise ContentFileError(reader.problems)
    return lexicon


def check_lexicon(path: Path) -> list[ContentError]:
    """Every problem in a lexicon file (empty when it is fine), for `coach check`."""
    reader = _Reader()
    reader.read(path)
    return reader.problems


@cache
def shipped_lexicon() -> Lexicon:
    """The bundled routines/lexicon.yaml, read on the first call and kept."""
    from coach.content import default_routine_dir  # the package owns where content lives

    return load_lexicon(default_routine_dir() / LEXICON_FILE)


# --------------------------------------------------------------------------- parsing

_KEYS = (
    "question_starters", "question_anywhere", "stopwords", "frame_words", "families",
    "compounds", "negations", "negated", "dangling", "leading", "endings", "numbers", "sound",
)
_NUMBER_KEYS = ("ones", "tens", "hundred", "thousand")
_SOUND_KEYS = ("digraphs", "classes", "silent")


def _describe(value: Any) -> str:
    """How a wrong value is named in a message: "text 'Don't'", "a list"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value:g}"
    if isinstance(value, str):
        return f"text '{value}'"
    return "a mapping" if isinstance(value, Mapping) else "a list"


class _Reader:
    """Builds a Lexicon from YAML, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[ContentError] = []

    def error(self, pos: SourcePos, message: str, hint: str = "") -> None:
        self.problems.append(ContentError.at(pos, message, hint))

    def read(self, path: Path) -> Lexicon | None:
        try:
            data = load_yaml(read_content_bytes(path), path)
        except ContentFileError as exc:
            self.problems.extend(exc.errors)
            return None
        except yaml.YAMLError as exc:
            self.problems.append(yaml_error_to_content_error(exc, path))
            return None
        if data is None:
            self.problems.append(ContentError.whole_file(path, "the file is empty",
                                                         f"a lexicon needs {', '.join(_KEYS)}"))
            return None
        top = self.mapping(data, SourcePos(path, 1, 1), "the lexicon", _KEYS)
        return None if top is None else self.lexicon(top)

    def lexicon(self, top: YamlMap) -> Lexicon:
        families = self.families(top)
        return Lexicon(
            question_starters=frozenset(self.words(top, "question_starters")),
            question_anywhere=frozenset(self.words(top, "question_anywhere")),
            stopwords=frozenset(self.words(top, "stopwords")),
            frame_words=frozenset(self.words(top, "frame_words")),
            families=families,
            compounds=self.compounds(top),
            negations=frozenset(self.words(top, "negations")),
            negated=self.negated(top, families),
            dangling=frozenset(self.words(top, "dangling")),
            leading=frozenset(self.words(top, "leading")),
            endings=self.words(top, "endings"),
            numbers=self.numbers(top),
            sound=self.sound(top),
        )

    def mapping(
        self, value: Any, pos: SourcePos, what: str, keys: tuple[str, ...] | None = None
    ) -> YamlMap | None:
        """`value` as a mapping; with `keys`, exactly those keys (unknown and missing reported)."""
        if not isinstance(value, YamlMap):
            self.error(pos, f"{what} must be a mapping, got {_describe(value)}")
            return None
        if keys is None:
            return value
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                guess = f"; did you mean '{close[0]}'?" if close else ""
                self.error(value.key_pos(key), f"unknown key '{key}'{guess}",
                           f"{what} has {', '.join(keys)}")
        for key in keys:
            if key not in value:
                self.error(value.pos, f"missing key '{key}'", f"{what} needs {', '.join(keys)}")
        return value

    def items(self, value: Any, pos: SourcePos, label: str) -> list[tuple[Any, SourcePos]]:
        """The items of a YAML list with their positions; [] (reported) if it is not a list."""
        if not isinstance(value, YamlList):
            self.error(pos, f"{label} must be a list, got {_describe(value)}",
                       "e.g. [first, second]")
            return []
        return [(item, value.item_pos(index)) for index, item in enumerate(value)]

    def text(self, value: Any, pos: SourcePos, label: str, pattern: re.Pattern[str],
             hint: str) -> str | None:
        """`value` if it is text matching `pattern`, else None after reporting why not."""
        if not isinstance(value, str):
            scalar_hint = _QUOTE_HINT if isinstance(value, bool) else hint
            self.error(pos, f"{label} must be text, got {_describe(value)}", scalar_hint)
            return None
        if not value.strip():
            self.error(pos, f"{label} is empty", "write a word or remove the item")
            return None
        if pattern.fullmatch(value) is None:
            self.error(pos, f"{label} '{value}' is not allowed", hint)
            return None
        return value

    def word(self, value: Any, pos: SourcePos, label: str) -> str | None:
        return self.text(value, pos, label, _WORD, _WORD_HINT)

    def listed(self, value: Any, pos: SourcePos, label: str) -> dict[str, SourcePos]:
        """The words of a YAML list, in order, each once, with where it was first written."""
        found: dict[str, SourcePos] = {}
        for item, item_pos in self.items(value, pos, label):
            word = self.word(item, item_pos, f"each word of {label}")
            if word is not None and word in found:
                self.error(item_pos, f"'{word}' is listed twice in {label}", "remove one")
            elif word is not None:
                found[word] = item_pos
        return found

    def words(self, data: YamlMap, key: str) -> tuple[str, ...]:
        """The words listed under `key`, in order; () if it is absent."""
        if key not in data:
            return ()
        return tuple(self.listed(data[key], data.value_pos(key), f"'{key}'"))

    def entries(
        self, data: YamlMap, key: str, build: Callable[[Any, SourcePos, Any, SourcePos], _T | None]
    ) -> list[_T]:
        """`build(key, key position, value, value position)` for each entry of a mapping."""
        if key not in data:
            return []
        value = self.mapping(data[key], data.value_pos(key), f"'{key}'")
        if value is None:
            return []
        built = (build(name, value.key_pos(name), value[name], value.value_pos(name))
                 for name in value)
        return [item for item in built if item is not None]

    def families(self, top: YamlMap) -> Mapping[str, frozenset[str]]:
        owner: dict[str, str] = {}

        def family(head: Any, head_pos: SourcePos, value: Any, pos: SourcePos
                   ) -> tuple[str, frozenset[str]] | None:
            name = self.word(head, head_pos, "a family's head")
            if name is None:
                return None
            listed = self.listed(value, pos, f"family '{name}'")
            for word, word_pos in listed.items():
                if word in owner:
                    self.error(word_pos, f"'{word}' is in two families, '{owner[word]}' and "
                               f"'{name}'", "a word may belong to one family only")
                owner.setdefault(word, name)
            if listed and name not in listed:
                self.error(head_pos, f"family '{name}' does not list its head '{name}'",
                           "put the head first in its own list")
            return name, frozenset(listed)

        return MappingProxyType(dict(self.entries(top, "families", family)))

    def compounds(self, top: YamlMap) -> Mapping[tuple[str, str], tuple[str, ...]]:
        def compound(pair: Any, pair_pos: SourcePos, value: Any, pos: SourcePos
                     ) -> tuple[tuple[str, str], tuple[str, ...]] | None:
            first_second = self.phrase(pair, pair_pos, "a compound")
            words = self.phrase(value, pos, f"the words for '{pair}'")
            if first_second is None or words is None:
                return None
            if len(first_second) != 2:
                self.error(pair_pos, f"compound '{pair}' must be two words",
                           "e.g. work out: workout")
                return None
            return (first_second[0], first_second[1]), words

        return MappingProxyType(dict(self.entries(top, "compounds", compound)))

    def phrase(self, value: Any, pos: SourcePos, label: str) -> tuple[str, ...] | None:
        text = self.text(value, pos, label, _PHRASE,
                         "words of lowercase letters and digits, one space between them")
        return None if text is None else tuple(text.split())

    def negated(self, top: YamlMap, families: Mapping[str, frozenset[str]]) -> Mapping[str, str]:
        def rule(head: Any, head_pos: SourcePos, value: Any, pos: SourcePos
                 ) -> tuple[str, str] | None:
            name = self.word(head, head_pos, "a negated family")
            gained = self.word(value, pos, f"the word a negated '{head}' adds")
            if name is not None and name not in families:
                self.error(head_pos, f"'{name}' is not a family",
                           f"families are {', '.join(families)}")
                return None
            return None if name is None or gained is None else (name, gained)

        return MappingProxyType(dict(self.entries(top, "negated", rule)))

    def numbers(self, top: YamlMap) -> NumberWords:
        section = self.section(top, "numbers", _NUMBER_KEYS)
        ones = self.counted(section, "ones", 20, "the words for 0 to 19")
        tens = self.counted(section, "tens", 8, "the words for 20, 30, ... 90")
        return NumberWords(ones, tens, self.named(section, "hundred"),
                           self.named(section, "thousand"))

    def named(self, section: YamlMap, key: str) -> str:
        """The one word under `key`, or "" (reported) when it is not one."""
        if key not in section:
            return ""
        return self.word(section[key], section.value_pos(key), f"'{key}'") or ""

    def counted(self, section: YamlMap, key: str, count: int, what: str) -> tuple[str, ...]:
        words = self.words(section, key)
        if key in section and len(words) != count:
            self.error(section.value_pos(key), f"'{key}' must list {count} words, got "
                       f"{len(words)}", what)
        return words

    def sound(self, top: YamlMap) -> SoundRules:
        section = self.section(top, "sound", _SOUND_KEYS)
        silent = ({} if "silent" not in section else
                  self.letters(section["silent"], section.value_pos("silent"), "'silent'"))
        seen = dict.fromkeys(silent, "'silent'")

        def digraph(pair: Any, pair_pos: SourcePos, value: Any, pos: SourcePos
                    ) -> tuple[str, str] | None:
            two = self.text(pair, pair_pos, "a digraph", _DIGRAPH, "two lowercase letters")
            sound = "" if value == "" else self.text(
                value, pos, f"the sound of '{pair}'", _LETTERS, "lowercase letters, or \"\"")
            return None if two is None or sound is None else (two, sound)

        def sound_class(head: Any, head_pos: SourcePos, value: Any, pos: SourcePos
                        ) -> tuple[str, frozenset[str]] | None:
            name = self.text(head, head_pos, "a sound class", _CLASS_LETTER,
                             "one uppercase letter")
            members = self.letters(value, pos, f"class '{head}'")
            for member, member_pos in members.items():
                if member in seen:
                    self.error(member_pos, f"'{member}' is already in {seen[member]}",
                               "a letter belongs to one class")
                seen.setdefault(member, f"class '{head}'")
            return None if name is None else (name, frozenset(members))

        return SoundRules(
            digraphs=tuple(self.entries(section, "digraphs", digraph)),
            classes=MappingProxyType(dict(self.entries(section, "classes", sound_class))),
            silent=frozenset(silent),
        )

    def letters(self, value: Any, pos: SourcePos, label: str) -> dict[str, SourcePos]:
        """Single lowercase letters of a YAML list, with where each was written."""
        found: dict[str, SourcePos] = {}
        for item, item_pos in self.items(value, pos, label):
            if self.text(item, item_pos, "a letter", _LETTER, "one lowercase letter"):
                found.setdefault(item, item_pos)
        return found

    def section(self, top: YamlMap, key: str, keys: tuple[str, ...]) -> YamlMap:
        """The mapping under `key` with exactly `keys`; an empty one if it is not usable."""
        empty = YamlMap(top.value_pos(key))
        if key not in top:
            return empty
        return self.mapping(top[key], top.value_pos(key), f"'{key}'", keys) or empty

