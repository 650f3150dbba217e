"""What a session reports: typed events, each with the one JSON line it prints as.

The JSON lines are the interface of `coach run --json`, `play --json` and `listen --json`
(tests, the bench and other programs read them): keys, their order and the rounding of
times stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from coach.core.player import Output, Progress, Say

__all__ = ["HeardEvent", "InfoEvent", "SaidEvent", "SessionEvent", "StateEvent",
           "UtteranceEvent", "event_of", "fan_out"]


def _json(fields: Mapping[str, object]) -> str:
    return json.dumps(fields, ensure_ascii=False)


def _ms(seconds: float) -> float:
    """A time as printed: to the millisecond."""
    return round(seconds, 3)


@dataclass(frozen=True)
class SaidEvent:
    """The coach said `text` (or printed it, without a voice) at clock time `at` (seconds)."""

    at: float
    text: str
    kind: str
    """What the line is: intro, start, count, cue, reply, answer, disclaimer..."""

    def to_json(self) -> str:
        return _json({"type": "said", "at": _ms(self.at), "text": self.text, "kind": self.kind})


@dataclass(frozen=True)
class HeardEvent:
    """A typed or spoken line and what it meant, at clock time `at` (seconds)."""

    at: float
    text: str
    intent: str | None
    """The intent's name; None when not understood."""
    slots: Mapping[str, str] = field(default_factory=dict)
    start: float | None = None
    """Start of speech (seconds of audio); None for a typed line."""
    end: float | None = None
    """End of speech (seconds of audio); None for a typed line."""
    over_coach: bool = False
    """Heard while the coach was speaking (judged by the echo rules)."""
    level_db: float | None = None
    """How far the utterance stood above the room's floor (dB); None for a typed line."""

    def to_json(self) -> str:
        fields: dict[str, object] = {"type": "heard", "at": _ms(self.at), "text": self.text,
                                     "intent": self.intent, "slots": dict(self.slots)}
        if self.start is not None and self.end is not None:
            fields["start"] = _ms(self.start)
            fields["end"] = _ms(self.end)
        if self.over_coach:
            fields["over_coach"] = True
        if self.level_db is not None:
            fields["level_db"] = round(self.level_db, 1)
        return _json(fields)


@dataclass(frozen=True)
class StateEvent:
    """The player entered `state` at clock time `at` (seconds)."""

    at: float
    state: str
    routine: str | None
    step: int | None
    """1-based exercise number; None when no routine is running."""
    side: str | None = None
    progress: Progress | None = field(default=None, compare=False)
    """Where the routine stands, for a screen; not part of the JSON line."""

    def to_json(self) -> str:
        fields: dict[str, object] = {"type": "state", "at": _ms(self.at), "state": self.state,
                                     "routine": self.routine, "step": self.step}
        if self.side is not None:
            fields["side"] = self.side
        return _json(fields)


@dataclass(frozen=True)
class InfoEvent:
    """A notice for the user that is not the coach speaking ("Ready.", "Microphone lost")."""

    text: str

    def to_json(self) -> str:
        return _json({"type": "info", "text": self.text})


@dataclass(frozen=True)
class UtteranceEvent:
    """One utterance of `coach listen`: what the recogniser closed and what it means."""

    start: float
    """Start of speech (seconds of audio)."""
    end: float
    """End of speech (seconds of audio)."""
    at: float
    """Audio consumed when it was decided (seconds)."""
    text: str
    intent: str | None
    slots: Mapping[str, str]
    answer: str | None
    """The FAQ answer when it is a question."""

    def to_json(self) -> str:
        return _json({"start": _ms(self.start), "end": _ms(self.end), "at": _ms(self.at),
                      "text": self.text, "intent": self.intent, "slots": dict(self.slots),
                      "answer": self.answer})


SessionEvent = SaidEvent | HeardEvent | StateEvent | InfoEvent | UtteranceEvent


def event_of(output: Output) -> SaidEvent | StateEvent:
    """The event of something the player said or a state it entered."""
    if isinstance(output, Say):
        return SaidEvent(output.at, output.text, output.kind)
    side = output.side.value if output.side is not None else None
    return StateEvent(output.at, output.state.value, output.routine, output.step, side,
                      output.progress)


def fan_out(*sinks: Callable[[SessionEvent], None]) -> Callable[[SessionEvent], None]:
    """One sink that hands each event to every one of `sinks`, in order."""

    def each(event: SessionEvent) -> None:
        for sink in sinks:
            sink(event)

    return each
