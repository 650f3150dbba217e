"""Typed reading of YAML values: each reader returns the value, or reports why not."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from coach.content.limits import LIMITS
from coach.content.model import SourcePos
from coach.content.report import Report, and_list, describe, did_you_mean, fmt
from coach.content.yamlpos import YamlList, YamlMap

__all__ = ["Fields", "as_number", "as_text", "as_whole_number", "expect_mapping"]

_QUOTE_HINT = "put it in quotes to make it text"


def as_text(value: Any, pos: SourcePos, label: str, report: Report, hint: str = "") -> str:
    """The value as spoken text (whitespace collapsed), or "" after reporting why not."""
    if not isinstance(value, str):
        scalar = isinstance(value, (bool, int, float))
        report.error(pos, f"{label} must be text, got {describe(value)}",
                     _QUOTE_HINT if scalar else hint)
        return ""
    text = " ".join(value.split())
    if not text:
        report.error(pos, f"{label} is empty", hint or "write something or remove it")
    elif any(not char.isprintable() for char in text):
        report.error(pos, f"{label} holds a control character", "write plain text")
        return ""
    elif len(text) > LIMITS.text_chars:
        report.error(pos, f"{label} is longer than {LIMITS.text_chars} characters",
                     "the coach says it in one breath: keep it to a few sentences")
        return ""
    return text


def as_number(
    value: Any, pos: SourcePos, label: str, report: Report, *, zero_ok: bool,
    at_most: float = math.inf, unit: str = "",
) -> float | None:
    """A finite number (> 0, or >= 0 when zero_ok; <= at_most), or None after reporting why not.

    `unit` ("s", "reps") follows the numbers in the message.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = "write a plain number of seconds, e.g. 30" if isinstance(value, str) else ""
        report.error(pos, f"{label} must be a number, got {describe(value)}", hint)
        return None
    number = float(value)
    if not math.isfinite(number):
        report.error(pos, f"{label} must be a finite number, got {fmt(number)}")
    elif number < 0 or (number == 0 and not zero_ok):
        bound = "cannot be negative" if zero_ok else "must be more than 0"
        report.error(pos, f"{label} {bound}, got {fmt(number)}")
    elif number > at_most:
        report.error(pos, f"{label} must be at most {fmt(at_most)}{unit}, got {fmt(number)}{unit}")
    else:
        return number
    return None


def as_whole_number(
    value: Any, pos: SourcePos, label: str, report: Report, *, at_most: float = math.inf
) -> int | None:
    """A whole number above 0 (and <= at_most), or None after reporting why not."""
    number = as_number(value, pos, label, report, zero_ok=False, at_most=at_most)
    if number is None:
        return None
    if not number.is_integer():
        report.error(pos, f"{label} must be a whole number, got {fmt(number)}")
        return None
    return int(number)


def expect_mapping(
    value: Any, pos: SourcePos, report: Report, label: str, expected: str, hint: str
) -> YamlMap | None:
    """The value if it is a mapping, else None after reporting what was expected."""
    if isinstance(value, YamlMap):
        return value
    report.error(pos, f"{label} must be {expected}, got {describe(value)}", hint)
    return None


class Fields:
    """Typed access to one YAML mapping; reports unknown and missing keys on creation."""

    def __init__(
        self,
        data: YamlMap,
        report: Report,
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
            nearest = did_you_mean(str(key), allowed)
            if nearest is not None:
                message += f"; did you mean '{nearest}'?"
            self.report.error(self.data.key_pos(key), message,
                              f"{self.what} has {and_list(allowed)}")

    def _check_required(self, required: Sequence[str]) -> None:
        for key in required:
            if key not in self.data:
                self.report.error(
                    self.data.pos, f"missing required key '{key}'",
                    f"{self.what} needs {and_list(required)}",
                )
            elif self.data[key] is None:
                self.report.error(self.pos(key), f"'{key}' has no value")

    def has(self, key: str) -> bool:
        """True when the key is there with a value (an empty `key:` counts as absent)."""
        return self.data.get(key) is not None

    def pos(self, key: str) -> SourcePos:
        """Where the value of `key` was written."""
        return self.data.value_pos(key)

    def key_pos(self, key: str) -> SourcePos:
        """Where `key` itself was written."""
        return self.data.key_pos(key)

    def text(self, key: str, hint: str = "") -> str:
        """The text under `key`; "" when absent or wrong (reported)."""
        if not self.has(key):
            return ""
        return as_text(self.data[key], self.pos(key), f"'{key}'", self.report, hint)

    def number(
        self, key: str, *, zero_ok: bool, at_most: float = math.inf, unit: str = ""
    ) -> float | None:
        """The number under `key`; None when absent or wrong (reported)."""
        if not self.has(key):
            return None
        return as_number(self.data[key], self.pos(key), f"'{key}'", self.report,
                         zero_ok=zero_ok, at_most=at_most, unit=unit)

    def whole_number(self, key: str, *, at_most: float = math.inf) -> int | None:
        """The whole number under `key`; None when absent or wrong (reported)."""
        if not self.has(key):
            return None
        return as_whole_number(self.data[key], self.pos(key), f"'{key}'", self.report,
                               at_most=at_most)

    def flag(self, key: str, *, hint: str = "") -> bool:
        """The yes/no value under `key`; False when absent or wrong (reported)."""
        if not self.has(key):
            return False
        value = self.data[key]
        if isinstance(value, bool):
            return value
        self.report.error(self.pos(key), f"'{key}' must be true or false, got {describe(value)}",
                          hint or f"e.g. {key}: true")
        return False

    def mapping(self, key: str, hint: str = "") -> YamlMap | None:
        """The mapping under `key`; None when absent or wrong (reported)."""
        if not self.has(key):
            return None
        return expect_mapping(self.data[key], self.pos(key), self.report, f"'{key}'",
                              "a mapping", hint)

    def list(
        self, key: str, *, hint: str = "", empty_hint: str = "", at_most: int = LIMITS.list_items
    ) -> YamlList | None:
        """The list under `key`; when `empty_hint` is given, an empty list is an error."""
        if not self.has(key):
            return None
        value = self.data[key]
        if not isinstance(value, YamlList):
            hint = hint or "write one item per line, each starting with '- '"
            self.report.error(self.pos(key), f"'{key}' must be a list, got {describe(value)}",
                              hint)
            return None
        if not value and empty_hint:
            self.report.error(self.pos(key), f"'{key}' is empty", empty_hint)
        if len(value) > at_most:
            self.report.error(self.pos(key), f"'{key}' has more than {at_most} items",
                              f"it has {len(value)}")
            return None
        return value

    def text_list(self, key: str, *, empty_hint: str = "") -> tuple[str, ...]:
        """The texts of the list under `key`; wrong items are reported and left out."""
        items = self.list(key, hint=f"e.g. {key}: [first, second]", empty_hint=empty_hint)
        if items is None:
            return ()
        texts = (
            as_text(item, items.item_pos(index), f"each item of '{key}'", self.report)
            for index, item in enumerate(items)
        )
        return tuple(text for text in texts if text)
