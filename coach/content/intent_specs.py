"""The `intents` of commands.yaml: each intent's templates and what it may do.

Schema (one entry of `intents`), either a plain list of templates (every flag off):
  pause: [pause, "(hold | wait) [on]"]
or a mapping:
  stop:
    templates: [stop, "end [the] workout"]   required; at least one hassil-style template
    barge_in: true                           optional; may interrupt the coach while it speaks
    destructive: true                        optional; loses the user's place
    not_alone_over_coach: [end, enough]      optional; words or phrases meaning this intent
                                             that never act alone over the coach's voice
    shown_as: "stop the workout"             optional; how a screen names it ({slot} fields
                                             allowed); without it, its name in words
    open_slot: routine                       optional; a slot of its templates whose unknown
                                             values still make the intent ("start the yoga
                                             routine"): the coach says what it has instead
                                             of "say that again"
The name must be one of `IntentName`: nothing would carry out any other.
"""

from __future__ import annotations

import re
from typing import Any

from coach.content.fields import Fields, as_text
from coach.content.model import IntentName, IntentSpec, SourcePos
from coach.content.report import Report, describe, did_you_mean
from coach.content.yamlpos import YamlList, YamlMap

__all__ = ["check_template", "parse_intents"]

_INTENT_KEYS = (
    "templates", "barge_in", "destructive", "not_alone_over_coach", "shown_as", "open_slot",
)
_KNOWN_INTENTS = tuple(name.value for name in IntentName)
_SLOT_REFERENCE = re.compile(r"\{([^{}:]*)(?::[^{}]*)?\}")
_BRACKET_PAIRS = {")": "(", "]": "[", "}": "{"}
_TEMPLATE_SYNTAX = "alternatives are (a | b), optional words [like this], slots {name}"


def parse_intents(fields: Fields, known_slots: set[str]) -> tuple[IntentSpec, ...]:
    """The intents under `intents`; unknown intent names are reported and left out."""
    mapping = fields.mapping("intents", hint="e.g. intents: {pause: [pause, hold on]}")
    if mapping is None:
        return ()
    intents = (
        _parse_intent(name, value, mapping, fields.report, known_slots)
        for name, value in mapping.items()
    )
    return tuple(intent for intent in intents if intent is not None)


def _parse_intent(
    name: Any, value: Any, mapping: YamlMap, report: Report, known_slots: set[str]
) -> IntentSpec | None:
    intent = as_text(name, mapping.key_pos(name), "an intent name", report)
    known = _check_name(intent, mapping.key_pos(name), report) if intent else False
    if isinstance(value, YamlMap):
        spec = _parse_intent_mapping(intent, value, report, known_slots)
    else:
        templates = _parse_templates(name, value, mapping.value_pos(name), report, known_slots)
        spec = None if templates is None else IntentSpec(intent, templates)
    return spec if known else None


def _check_name(intent: str, pos: SourcePos, report: Report) -> bool:
    """Whether the program knows the intent; an error if not (nothing would carry it out)."""
    if intent in _KNOWN_INTENTS:
        return True
    nearest = did_you_mean(intent, _KNOWN_INTENTS)
    suffix = f"; did you mean '{nearest}'?" if nearest else ""
    report.error(pos, f"unknown intent '{intent}'{suffix}",
                f"the coach acts on {', '.join(_KNOWN_INTENTS)}")
    return False


def _parse_intent_mapping(
    intent: str, data: YamlMap, report: Report, known_slots: set[str]
) -> IntentSpec | None:
    fields = Fields(data, report, f"intent '{intent}'", _INTENT_KEYS, ("templates",))
    templates = None
    if fields.has("templates"):
        templates = _parse_templates(intent, data["templates"], fields.pos("templates"), report,
                                     known_slots)
    barge_in = fields.flag("barge_in", hint="true: it may interrupt the coach while it speaks")
    destructive = fields.flag("destructive", hint="true: it loses the user's place")
    words = _parse_lone_words(fields)
    shown_as = fields.text("shown_as", hint="e.g. shown_as: \"what's next\"")
    if shown_as:
        for slot in _SLOT_REFERENCE.findall(shown_as):
            if slot not in known_slots:
                fields.report.error(fields.pos("shown_as"),
                                    f"shown_as of intent '{intent}' names an unknown slot "
                                    f"'{slot}'", f"known slots: {', '.join(sorted(known_slots))}")
                shown_as = ""
    open_slot = fields.text("open_slot", hint="e.g. open_slot: routine")
    if open_slot and not any(open_slot in _SLOT_REFERENCE.findall(t) for t in templates or ()):
        fields.report.error(fields.pos("open_slot"),
                            f"open_slot '{open_slot}' is not a slot of intent '{intent}'s "
                            "templates", "name a {slot} its templates use")
        open_slot = ""
    if templates is None:
        return None
    return IntentSpec(intent, templates, barge_in, destructive, words, shown_as, open_slot)


def _parse_lone_words(fields: Fields) -> tuple[str, ...]:
    items = fields.list("not_alone_over_coach", hint="e.g. not_alone_over_coach: [end, enough]")
    if items is None:
        return ()
    words: list[str] = []
    for index, item in enumerate(items):
        pos = items.item_pos(index)
        text = as_text(item, pos, "each item of 'not_alone_over_coach'", fields.report)
        if text:
            words.append(text.lower())
    return tuple(dict.fromkeys(words))


def _parse_templates(
    name: Any, templates: Any, pos: SourcePos, report: Report, known_slots: set[str]
) -> tuple[str, ...] | None:
    hint = f"e.g. {name}: [first way to say it, second way]"
    if not isinstance(templates, YamlList) or not templates:
        got = "no templates" if not templates else f"{describe(templates)}, not a list"
        report.error(pos, f"intent '{name}' needs a list of at least one template; got {got}",
                     hint)
        return None
    texts: list[str] = []
    for index, template in enumerate(templates):
        item_pos = templates.item_pos(index)
        text = as_text(template, item_pos, f"a template of intent '{name}'", report)
        if text:
            check_template(text, item_pos, report, known_slots)
            texts.append(text)
    return tuple(texts)


def check_template(template: str, pos: SourcePos, report: Report, slots: set[str]) -> bool:
    """Report bad bracket syntax (an error: False) and unknown slots (a warning; with no
    slots known at all, an error: False)."""
    problem = _bracket_problem(template)
    if problem is not None:
        report.error(pos, f"{problem} in template '{template}'", _TEMPLATE_SYNTAX)
        return False
    for match in _SLOT_REFERENCE.finditer(template):
        slot = match.group(1).strip()
        if not slots:
            report.error(pos, f"template '{template}' uses slot '{slot}' where none is allowed",
                         "carriers are plain words: (a | b) and [optional] only")
            return False
        if slot not in slots:
            report.warn(pos, f"template '{template}' uses unknown slot '{slot}'",
                        f"slots: {', '.join(sorted(slots))}")
    return True


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
