"""phrases.yaml: what the coach says outside routines, key -> str.format template."""

from __future__ import annotations

import string

from coach.content.fields import as_text
from coach.content.report import Report
from coach.content.yamlpos import YamlMap

__all__ = ["parse_phrases"]


# Schema (phrases.yaml): a flat mapping
#   paused: Paused. Say resume when you're ready.    key -> text, with {fields} for str.format
#   rest: Rest {seconds} seconds.
def parse_phrases(data: YamlMap, report: Report) -> dict[str, str]:
    phrases: dict[str, str] = {}
    flat_hint = "phrases.yaml is a flat list of 'key: text' lines"
    for key, value in data.items():
        name = as_text(key, data.key_pos(key), "a phrase key", report)
        text = as_text(value, data.value_pos(key), f"phrase '{key}'", report, flat_hint)
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
