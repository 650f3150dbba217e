"""Frozen dataclasses for everything the YAML files describe.

Nothing here reads files; `coach.content.loader` builds these objects and
checks them. Times are always seconds (float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

__all__ = [
    "CommandSet",
    "Content",
    "Cue",
    "Exercise",
    "FaqEntry",
    "GoingOnRule",
    "IntentName",
    "IntentSpec",
    "Routine",
    "Side",
    "SourcePos",
]


@dataclass(frozen=True)
class SourcePos:
    """Where a value was written, for error messages."""

    path: Path
    line: int
    """1-based line number."""
    column: int
    """1-based column number."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class Side(str, Enum):
    """A side of the body for unilateral exercises."""

    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Cue:
    """A form cue spoken during an exercise."""

    text: str
    """What the coach says."""
    at: float | None = None
    """Seconds into the exercise (into each side, for sided exercises).
    None: the player places it in a free gap."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a routine; timed, or counted in reps at a tempo."""

    name: str
    """Spoken name, e.g. "leg swings"."""
    seconds: float
    """Working time per side (seconds). For reps: reps * tempo."""
    reps: int | None = None
    """Repetitions per side, or None for a timed exercise."""
    tempo: float | None = None
    """Seconds per repetition, when reps is set."""
    sides: tuple[Side, ...] = ()
    """Empty for both sides at once; otherwise the order to do them in."""
    how: str = ""
    """Short set-up instruction spoken when the exercise starts."""
    cues: tuple[Cue, ...] = ()
    """Form cues inside the exercise."""
    rest_after: float = 0.0
    """Rest after this exercise (seconds); none after the last one."""

    @property
    def total_seconds(self) -> float:
        """Working time over all sides (seconds)."""
        return self.seconds * max(1, len(self.sides))


@dataclass(frozen=True)
class Routine:
    """A timed routine read from one YAML file."""

    id: str
    """Stable identifier, e.g. "warm-up" (the `routine` slot value)."""
    name: str
    """Spoken title, e.g. "Dynamic warm-up"."""
    aliases: tuple[str, ...]
    """Other ways to say it, e.g. "warm up", "warmup"."""
    intro: str
    """Said before the first exercise."""
    outro: str
    """Said when the routine is finished."""
    exercises: tuple[Exercise, ...]
    description: str = ""
    """One line for `coach list`."""
    source: Path | None = None
    """The YAML file it came from."""

    @property
    def total_seconds(self) -> float:
        """Working time plus rests (seconds), without intro and outro."""
        rests = sum(e.rest_after for e in self.exercises[:-1])
        return sum(e.total_seconds for e in self.exercises) + rests


@dataclass(frozen=True)
class GoingOnRule:
    """Which questions ask whether to go on (or stop) despite pain (match-form words)."""

    pain: frozenset[str]
    """Words naming the pain; a word family's head stands for every word of the family."""
    going_on: frozenset[str]
    """Words asking about going on or stopping ("keep", "through", "stop")."""
    unless_after: frozenset[str]
    """Words that, before the going-on word, make it a how/why question instead."""
    asking: tuple[tuple[str, ...], ...] = ()
    """Openings asking leave ("can i", "is it safe to"): followed by a `training` word, the
    question asks whether to train with the pain."""
    training: frozenset[str] = frozenset()
    """Words for training ("train", "squat", "lift")."""
    safe_asking: tuple[tuple[str, ...], ...] = ()
    """Openings asking whether something is safe ("is it safe to", "should i"): followed by
    a `going_on` phrase, or a `going_on` word that ends the question or comes before a
    `training` word, the question asks whether to go on or stop, pain named or not ("is it
    safe to go on", "should i stop")."""


@dataclass(frozen=True)
class FaqEntry:
    """One question the coach can answer, with the article as its source."""

    id: str
    questions: tuple[str, ...]
    """Several phrasings of the question."""
    answer: str
    """Short spoken answer: two sentences at most."""
    details: str
    """Longer answer for "tell me more"."""
    going_on: GoingOnRule | None = None
    """Set on the entry that answers every question about going on despite pain, whatever
    else matches: nothing may sound like permission to train through pain."""


class IntentName(str, Enum):
    """Every intent the program acts on; commands.yaml may only name these."""

    START_ROUTINE = "start_routine"
    PAUSE = "pause"
    RESUME = "resume"
    NEXT = "next"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    RESTART = "restart"
    TIME_LEFT = "time_left"
    WHATS_NEXT = "whats_next"
    STOP = "stop"
    HELP = "help"
    LIST_ROUTINES = "list_routines"
    FORM = "form"
    PAIN = "pain"
    MORE = "more"
    LOUDER = "louder"
    QUIETER = "quieter"
    SLOWER = "slower"
    FASTER = "faster"
    YES = "yes"
    """Yes to a question the coach asked ("Stop the workout?")."""
    NO = "no"
    """No to a question the coach asked."""
    QUESTION = "question"
    """A FAQ question; decided by the FAQ index, not by templates."""
    WORKOUTS_THIS_WEEK = "workouts_this_week"
    """How many workouts the log holds since Monday."""
    LAST_PAIN = "last_pain"
    """When the log last recorded a pain report."""


@dataclass(frozen=True)
class IntentSpec:
    """An intent, the templates that express it, and what it may do."""

    name: str
    templates: tuple[str, ...]
    """hassil-style templates: (a | b) alternatives, [optional] words, {slot} references."""
    barge_in: bool = False
    """May interrupt the coach while it speaks."""
    destructive: bool = False
    """Loses the user's place (e.g. stop, or starting another routine)."""
    not_alone_over_coach: tuple[str, ...] = ()
    """Lowercase words or short phrases that mean this intent but never act alone over the
    coach's voice: alone, they are more likely its own words misheard."""
    shown_as: str = ""
    """How a screen names it, with {slot} fields ("start the {routine}"); empty: its name
    in words."""
    open_slot: str = ""
    """A slot whose unknown values still make this intent: "start the yoga routine" is a
    start_routine the coach answers with what it has, not "say that again"; empty: none."""


@dataclass(frozen=True)
class CommandSet:
    """What `commands.yaml` holds: intents, slot lists and words to ignore."""

    intents: tuple[IntentSpec, ...]
    slots: dict[str, dict[str, str]] = field(default_factory=dict)
    """Slot name -> spoken value -> canonical value (e.g. "warm up" -> "warm-up")."""
    fillers: tuple[str, ...] = ()
    """Words dropped before matching ("um", "please", "coach")."""
    carriers_before: tuple[str, ...] = ()
    """Templates of frames any command may follow ("can you", "i want to", "yeah")."""
    carriers_after: tuple[str, ...] = ()
    """Templates of tails any command may have ("real quick", "then")."""
    carriers_asides: tuple[str, ...] = ()
    """Templates of the start of a reason after a whole command ("i need"): the rest of
    the sentence from there is ignored."""


@dataclass(frozen=True)
class Content:
    """Everything loaded from the routine folders."""

    routines: dict[str, Routine]
    faq: tuple[FaqEntry, ...]
    commands: CommandSet
    phrases: dict[str, str]
    """Key -> template of what the coach says outside routines (str.format fields)."""
