"""commands.yaml: fillers, slot values and intents; merging several files; routine names.

Schema (commands.yaml):
  fillers: [um, please, coach]       optional; words dropped before matching
  carriers:                          optional; words any command may come wrapped in,
    before: ["(can | could) you"]    hassil-style templates without slots (coach.core.
    after: ["real quick"]            carriers): frames in front, tails behind, and the
    asides: ["i need"]               start of a reason after a whole command
  slots:                             optional; slot name -> {spoken: canonical}
    routine:
      legs: squat                    `routine` values must be routine ids (else a warning
                                     and the value is dropped); names and aliases are added
  intents:                           optional; name -> templates (schema in content.intents)
    pause: [pause, "(hold | wait) [on]"]
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from coach.content.fields import Fields, as_text, expect_mapping
from coach.content.intent_specs import check_template, parse_intents
from coach.content.model import CommandSet, IntentSpec, Routine, SourcePos
from coach.content.report import Report, did_you_mean
from coach.content.yamlpos import YamlMap

__all__ = ["ROUTINE_SLOT", "merge_commands", "parse_commands", "with_routine_slot"]

_LOGGER = logging.getLogger("coach.content.loader")  # one name for every content message

ROUTINE_SLOT = "routine"
"""The slot whose values are routine ids; filled from every routine's id, name and aliases."""

_REQUIRED_GROUP = re.compile(r"\(([^()\[\]]*)\)")
"""An innermost (a | b) group: one of its alternatives must be said."""
_COMMANDS_KEYS = ("fillers", "carriers", "slots", "intents")
_CARRIER_KEYS = ("before", "after", "asides")


def parse_commands(
    data: YamlMap, report: Report, routines: Mapping[str, Routine]
) -> CommandSet:
    """The CommandSet of one commands.yaml (routine names not yet added to the slot)."""
    fields = Fields(data, report, "commands.yaml", _COMMANDS_KEYS)
    fillers = tuple(filler.lower() for filler in fields.text_list("fillers"))
    slots = _parse_slots(fields, routines)
    intents = parse_intents(fields, {*slots, ROUTINE_SLOT})
    before, after, asides = _parse_carriers(fields)
    _check_fillers_unused(intents, fillers, data, report)
    return CommandSet(intents=intents, slots=slots, fillers=fillers, carriers_before=before,
                      carriers_after=after, carriers_asides=asides)


def _check_fillers_unused(
    intents: Sequence[IntentSpec], fillers: Sequence[str], data: YamlMap, report: Report
) -> None:
    """A filler is dropped before matching, so one written as a required alternative makes
    that alternative say nothing ("(ouch | argh) my back" would match a bare "my back")."""
    dropped = set(fillers)
    mapping = data.get("intents")
    for intent in intents:
        for template in intent.templates:
            alternatives = (alternative.strip().lower()
                            for group in _REQUIRED_GROUP.findall(template)
                            for alternative in group.split("|"))
            for word in alternatives:
                if word in dropped and isinstance(mapping, YamlMap) and intent.name in mapping:
                    report.error(mapping.key_pos(intent.name),
                                 f"'{word}' is a filler, so the alternative '{word}' in template "
                                 f"'{template}' says nothing",
                                 "take it out of fillers, or out of the template")


def _parse_carriers(fields: Fields) -> tuple[tuple[str, ...], ...]:
    """The before, after and asides templates under `carriers`; each checked like an
    intent's templates, and a slot in one is an error (a carrier carries no value)."""
    mapping = fields.mapping("carriers", hint="e.g. carriers: {before: ['(can | could) you']}")
    if mapping is None:
        return ((), (), ())
    inner = Fields(mapping, fields.report, "carriers", _CARRIER_KEYS)
    kinds: list[tuple[str, ...]] = []
    for kind in _CARRIER_KEYS:
        items = inner.list(kind, hint=f"e.g. {kind}: [first template, second]")
        templates: list[str] = []
        for index, item in enumerate(items or ()):
            pos = items.item_pos(index) if items is not None else inner.pos(kind)
            text = as_text(item, pos, f"each item of carriers '{kind}'", fields.report)
            if text and check_template(text, pos, fields.report, set()):
                templates.append(text.lower())
        kinds.append(tuple(dict.fromkeys(templates)))
    return tuple(kinds)


def _parse_slots(fields: Fields, routines: Mapping[str, Routine]) -> dict[str, dict[str, str]]:
    mapping = fields.mapping("slots", hint="e.g. slots: {routine: {legs: squat}}")
    if mapping is None:
        return {}
    slots: dict[str, dict[str, str]] = {}
    for name, values in mapping.items():
        slot = as_text(name, mapping.key_pos(name), "a slot name", fields.report)
        inner = expect_mapping(
            values, mapping.value_pos(name), fields.report, f"slot '{name}'",
            "a mapping of spoken words to values", "e.g. 'warm up: warm-up'",
        )
        if slot and inner is not None:
            slots[slot] = _parse_slot_values(slot, inner, fields.report, routines)
    return slots


def _parse_slot_values(
    slot: str, values: YamlMap, report: Report, routines: Mapping[str, Routine]
) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for spoken, canonical in values.items():
        label = f"a spoken value of slot '{slot}'"
        spoken_text = as_text(spoken, values.key_pos(spoken), label, report).lower()
        value = as_text(canonical, values.value_pos(spoken), f"the value of '{spoken}'", report)
        if not spoken_text or not value:
            continue
        if slot == ROUTINE_SLOT and value not in routines:
            _warn_unknown_routine(value, slot, values.value_pos(spoken), report, routines)
            continue
        parsed[spoken_text] = value
    return parsed


def _warn_unknown_routine(
    value: str, slot: str, pos: SourcePos, report: Report, routines: Mapping[str, Routine]
) -> None:
    known = ", ".join(sorted(routines)) or "none"
    nearest = did_you_mean(value, routines)
    report.warn(
        pos,
        f"unknown routine '{value}' in slot '{slot}'; known: {known}",
        f"did you mean '{nearest}'?" if nearest else "use the id of a routine file",
    )


def merge_commands(sets: Sequence[CommandSet]) -> CommandSet:
    """Several commands files as one: templates, flags and words add up; later slot values
    win."""
    intents: dict[str, IntentSpec] = {}
    slots: dict[str, dict[str, str]] = {}
    fillers: dict[str, None] = {}
    carriers: tuple[dict[str, None], ...] = ({}, {}, {})
    for commands in sets:
        for intent in commands.intents:
            known = intents.get(intent.name)
            intents[intent.name] = intent if known is None else _merge_intent(known, intent)
        for name, values in commands.slots.items():
            slots.setdefault(name, {}).update(values)
        fillers.update(dict.fromkeys(commands.fillers))
        kinds = (commands.carriers_before, commands.carriers_after, commands.carriers_asides)
        for merged, templates in zip(carriers, kinds, strict=True):
            merged.update(dict.fromkeys(templates))
    before, after, asides = (tuple(merged) for merged in carriers)
    return CommandSet(tuple(intents.values()), slots, tuple(fillers), before, after, asides)


def _merge_intent(first: IntentSpec, second: IntentSpec) -> IntentSpec:
    return IntentSpec(
        name=first.name,
        templates=(*first.templates, *(t for t in second.templates if t not in first.templates)),
        barge_in=first.barge_in or second.barge_in,
        destructive=first.destructive or second.destructive,
        not_alone_over_coach=tuple(
            dict.fromkeys([*first.not_alone_over_coach, *second.not_alone_over_coach])
        ),
        shown_as=second.shown_as or first.shown_as,  # a user's file may rename it
        open_slot=second.open_slot or first.open_slot,
    )


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


def _spoken_forms(routine: Routine) -> list[str]:
    """Lowercased id, name and aliases, each also with dashes as spaces (recognisers drop them)."""
    forms: dict[str, None] = {}
    for text in (routine.id, routine.name, *routine.aliases):
        spoken = " ".join(text.lower().split())
        forms.update(dict.fromkeys([spoken, " ".join(spoken.replace("-", " ").split())]))
    return [form for form in forms if form]
