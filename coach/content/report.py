"""Problems found while reading one content file, and the wording of their messages.

Every check adds to a `Report` instead of raising, so a user sees every problem of a file
at once; `Report.finish` turns them into `ContentFileError` or hands on the warnings.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from coach.content.errors import ContentError, ContentFileError, Severity
from coach.content.model import SourcePos

__all__ = ["Report", "and_list", "describe", "did_you_mean", "fmt"]

_LOGGER = logging.getLogger("coach.content.loader")  # one name for every content message

_T = TypeVar("_T")


class Report:
    """Problems found while reading one file: all of them, not just the first."""

    def __init__(self) -> None:
        self._problems: list[ContentError] = []

    @property
    def problems(self) -> list[ContentError]:
        """In file order, whatever order the checks ran in; each said once (an alias repeats
        the same node, and its problem with it)."""
        unique = dict.fromkeys(self._problems)
        return sorted(unique, key=lambda problem: (problem.line, problem.column))

    def error(self, pos: SourcePos, message: str, hint: str = "") -> None:
        """A problem that makes the file unusable."""
        self._problems.append(ContentError.at(pos, message, hint))

    def warn(self, pos: SourcePos, message: str, hint: str = "") -> None:
        """A problem the file still loads with (the offending item may be dropped)."""
        self._problems.append(ContentError.at(pos, message, hint, Severity.WARNING))

    def add(self, problem: ContentError) -> None:
        """A problem built elsewhere (a YAML syntax error, an unreadable file)."""
        self._problems.append(problem)

    @property
    def failed(self) -> bool:
        """True when any problem is an error, not a warning."""
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


def describe(value: Any) -> str:
    """How a wrong value is named in a message: "text 'forty'", "number 3", "a list"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {fmt(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text '{shown}'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value}"


def fmt(number: float) -> str:
    """A number as a message shows it: 30, not 30.0; 1000000000, not 1e+09."""
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:g}"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to a misspelt `word`, or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def and_list(words: Sequence[str]) -> str:
    """Quoted words joined for a message: "'a', 'b' and 'c'"."""
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
