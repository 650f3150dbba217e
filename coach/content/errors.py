"""Problems found in content files, with the file, line and column they point at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from coach.content.model import SourcePos
from coach.errors import CoachError

__all__ = ["ContentError", "ContentFileError", "Severity"]


class Severity(str, Enum):
    """How bad a problem is."""

    ERROR = "error"
    """The file cannot be used: it is skipped."""
    WARNING = "warning"
    """The file is still used (the offending item may be dropped); `coach check` still fails."""


@dataclass(frozen=True)
class ContentError:
    """One problem in a content file; `str()` gives `FILE:LINE:COL: message (hint)`."""

    path: Path
    """The file (or folder) with the problem."""
    line: int
    """1-based line number; 1 for problems with the whole file."""
    column: int
    """1-based column number; 1 for problems with the whole file."""
    message: str
    """What is wrong, e.g. "unknown key 'secs'; did you mean 'seconds'?"."""
    hint: str = ""
    """How to fix it, or what is allowed; may be empty."""
    severity: Severity = Severity.ERROR
    """ERROR: the file is skipped. WARNING: the file still loads."""

    @classmethod
    def at(
        cls,
        pos: SourcePos,
        message: str,
        hint: str = "",
        severity: Severity = Severity.ERROR,
    ) -> ContentError:
        """A problem at a position in a file."""
        return cls(pos.path, pos.line, pos.column, message, hint, severity)

    @classmethod
    def whole_file(cls, path: Path, message: str, hint: str = "") -> ContentError:
        """A problem with a file as a whole (missing, unreadable, empty)."""
        return cls(path, 1, 1, message, hint)

    @property
    def is_warning(self) -> bool:
        """True when the file is still used despite this problem."""
        return self.severity is Severity.WARNING

    def __str__(self) -> str:
        prefix = "warning: " if self.is_warning else ""
        text = f"{self.path}:{self.line}:{self.column}: {prefix}{self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ContentFileError(CoachError):
    """A content file could not be used; `errors` says every reason found in it."""

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors: tuple[ContentError, ...] = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))
