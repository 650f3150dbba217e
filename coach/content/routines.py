"""Routine files: one routine per file, its exercises and their cues, checked field by field."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from coach.content.fields import Fields, as_text, expect_mapping
from coach.content.limits import LIMITS
from coach.content.model import Cue, Exercise, Routine, Side, SourcePos
from coach.content.report import Report, and_list, did_you_mean, fmt
from coach.content.yamlpos import YamlMap

__all__ = ["DEFAULT_REST", "parse_routine"]

DEFAULT_REST = 0.0
"""Rest after an exercise when neither the routine nor the exercise sets one (seconds)."""

_ROUTINE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ROUTINE_KEYS = ("id", "name", "aliases", "description", "rest", "intro", "outro", "exercises")
_EXERCISE_KEYS = ("name", "seconds", "reps", "tempo", "sides", "how", "cues", "rest")
_CUE_KEYS = ("at", "say")


# Schema (one routine per file):
#   id: warm-up              required; lowercase letters, digits and dashes; unique per folder
#   name: Dynamic warm-up    required; spoken title
#   aliases: [warm up]       optional; other spoken names
#   description: text        optional; one line for `coach list`
#   rest: 15                 optional; default rest after each exercise (seconds, >= 0)
#   intro: text              optional; said before the first exercise
#   outro: text              optional; said at the end
#   exercises: [...]         required; at least one (schema above _parse_exercise)
def parse_routine(data: YamlMap, report: Report) -> Routine:
    fields = Fields(data, report, "a routine", _ROUTINE_KEYS, ("id", "name", "exercises"))
    routine_id = fields.text("id")
    if routine_id:
        _check_routine_id(routine_id, fields.pos("id"), report)
    default_rest = _rest(fields)
    exercises = _parse_exercises(fields, DEFAULT_REST if default_rest is None else default_rest)
    _check_length(exercises, fields)
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


def _check_routine_id(routine_id: str, pos: SourcePos, report: Report) -> None:
    if _ROUTINE_ID.fullmatch(routine_id):
        return
    suggestion = re.sub(r"[^a-z0-9]+", "-", routine_id.lower()).strip("-")
    report.error(
        pos,
        f"routine id '{routine_id}' must be lowercase letters, digits and dashes",
        f"e.g. '{suggestion}'" if suggestion else "e.g. 'warm-up'",
    )


def _rest(fields: Fields) -> float | None:
    return fields.number("rest", zero_ok=True, at_most=LIMITS.rest_seconds, unit=" s")


def _check_length(exercises: tuple[Exercise, ...], fields: Fields) -> None:
    """The whole routine, each side and every rest counted, within `LIMITS.routine_seconds`."""
    total = sum(
        exercise.seconds * max(1, len(exercise.sides)) + exercise.rest_after
        for exercise in exercises
    )
    if total > LIMITS.routine_seconds:
        fields.report.error(
            fields.pos("exercises"),
            f"the routine lasts {fmt(round(total / 60))} minutes; "
            f"at most {fmt(LIMITS.routine_seconds / 60)} are allowed",
            "split it into several routines",
        )


def _parse_exercises(fields: Fields, default_rest: float) -> tuple[Exercise, ...]:
    items = fields.list(
        "exercises", empty_hint="a routine needs at least one exercise",
        at_most=LIMITS.exercises,
    )
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
    item: Any, pos: SourcePos, report: Report, default_rest: float
) -> Exercise | None:
    data = expect_mapping(
        item, pos, report, "each exercise", "a mapping",
        "e.g. '- name: plank' with 'seconds: 30' under it",
    )
    if data is None:
        return None
    fields = Fields(data, report, "an exercise", _EXERCISE_KEYS, ("name",))
    seconds, reps, tempo = _parse_timing(fields)
    rest = _rest(fields)
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


def _parse_timing(fields: Fields) -> tuple[float | None, int | None, float | None]:
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
        reps = fields.whole_number("reps", at_most=LIMITS.reps)
        tempo = fields.number("tempo", zero_ok=False, at_most=LIMITS.tempo_seconds, unit=" s")
        if reps is None or tempo is None:
            return nothing
        if reps * tempo > LIMITS.exercise_seconds:
            fields.report.error(
                fields.key_pos("reps"),
                f"{reps} reps at {fmt(tempo)} s each last {fmt(reps * tempo)} s; "
                f"an exercise lasts at most {fmt(LIMITS.exercise_seconds)} s",
                "fewer reps, or split it into sets",
            )
            return nothing
        return reps * tempo, reps, tempo
    if has_seconds:
        seconds = fields.number(
            "seconds", zero_ok=False, at_most=LIMITS.exercise_seconds, unit=" s"
        )
        return seconds, None, None
    fields.report.error(
        fields.data.pos, "missing required key 'seconds' (or 'reps' with 'tempo')",
        "e.g. 'seconds: 30', or 'reps: 8' and 'tempo: 4'",
    )
    return nothing


def _parse_sides(fields: Fields) -> tuple[Side, ...]:
    items = fields.list("sides", hint="e.g. sides: [left, right]")
    if items is None:
        return ()
    sides: list[Side] = []
    valid = [side.value for side in Side]
    for index, value in enumerate(items):
        pos = items.item_pos(index)
        if value not in valid:
            nearest = did_you_mean(str(value).lower(), valid)
            suffix = f"; did you mean '{nearest}'?" if nearest else ""
            fields.report.error(pos, f"unknown side '{value}'{suffix}",
                                f"sides are {and_list(valid)}")
        elif Side(value) in sides:
            fields.report.error(pos, f"side '{value}' is listed twice")
        else:
            sides.append(Side(value))
    return tuple(sides)


def _parse_cues(fields: Fields, length: float | None) -> tuple[Cue, ...]:
    items = fields.list("cues", at_most=LIMITS.cues)
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
def _parse_cue(item: Any, pos: SourcePos, report: Report, length: float | None) -> Cue | None:
    if isinstance(item, str):
        return Cue(as_text(item, pos, "a cue", report))
    data = expect_mapping(
        item, pos, report, "a cue", "text or a mapping with 'at' and 'say'",
        "e.g. '- Keep your back flat.' or '- {at: 30, say: Breathe out.}'",
    )
    if data is None:
        return None
    fields = Fields(data, report, "a timed cue", _CUE_KEYS, _CUE_KEYS)
    at = fields.number("at", zero_ok=True)
    if at is not None and length is not None and at >= length:
        report.error(
            fields.pos("at"),
            f"cue at {fmt(at)} s is beyond the end of the exercise ({fmt(length)} s)",
            "'at' counts seconds from the start of the exercise (of each side)",
        )
    return Cue(fields.text("say"), at)

