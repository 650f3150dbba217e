"""A content file's YAML as a positioned top-level mapping, or the problem why not."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import yaml

from coach.content.errors import ContentError, ContentFileError
from coach.content.limits import LIMITS
from coach.content.model import SourcePos
from coach.content.report import Report, describe
from coach.content.yamlpos import YamlList, YamlMap, load_yaml, yaml_error_to_content_error

__all__ = ["marked_mapping", "parse_mapping", "read_content_bytes", "read_mapping", "stream_path"]


def stream_path(stream: str | IO[str], path: Path | None) -> Path:
    """The path errors are reported against: `path`, the stream's name, or `<string>`."""
    return path if path is not None else Path(getattr(stream, "name", "<string>"))


def read_content_bytes(path: Path) -> bytes:
    """A content file's bytes; ContentFileError when it is not a file of a sane size.

    Only regular files are opened: a FIFO or a device named .yaml would block or never end.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise _unreadable(path, "not a regular file (a folder, pipe or device)",
                              "give a YAML file")
        with path.open("rb") as stream:
            raw = stream.read(LIMITS.file_bytes + 1)
    except OSError as exc:
        raise _unreadable(path, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(raw) > LIMITS.file_bytes:
        raise _unreadable(path, f"the file is larger than {LIMITS.file_bytes // 1000} KB",
                          "split it into smaller files, one routine per file")
    return raw


def _unreadable(path: Path, message: str, hint: str = "") -> ContentFileError:
    return ContentFileError([ContentError.whole_file(path, message, hint)])


def read_mapping(path: Path, report: Report, what: str, keys: str) -> YamlMap | None:
    """The file's top-level mapping; None after reporting why it is unusable."""
    try:
        raw = read_content_bytes(path)
    except ContentFileError as exc:
        for problem in exc.errors:
            report.add(problem)
        return None
    return parse_mapping(raw, path, report, what, keys)


def parse_mapping(
    stream: str | bytes | IO[str], path: Path, report: Report, what: str, keys: str
) -> YamlMap | None:
    """YAML text's top-level mapping; None after reporting why it is unusable."""
    try:
        data = load_yaml(stream, path)
    except yaml.YAMLError as exc:
        report.add(yaml_error_to_content_error(exc, path))
        return None
    return _top_mapping(data, path, report, what, keys)


def _top_mapping(data: Any, path: Path, report: Report, what: str, keys: str) -> YamlMap | None:
    if data is None:
        report.add(ContentError.whole_file(path, "the file is empty", f"{what} needs {keys}"))
        return None
    if not isinstance(data, YamlMap):
        pos = data.pos if isinstance(data, YamlList) else SourcePos(path, 1, 1)
        report.error(pos, f"{what} must be a mapping of keys ({keys}), got {describe(data)}")
        return None
    return data


def marked_mapping(data: Mapping[str, Any], path: Path | None) -> Any:
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
