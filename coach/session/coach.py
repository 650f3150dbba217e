"""The coach's core loop: what was heard or typed -> decision -> player/FAQ -> speech.

One `Coach` owns the player and the speaker and is driven from one thread. Input
arrives as events on a queue (typed lines, transcripts, end of input); the loop wakes at
the player's next deadline, so the clock never waits on input.
"""

from __future__ import annotations

import logging
import queue
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from coach.content.model import Content, FaqEntry
from coach.core.echo import EchoFilter
from coach.core.intents import Intent
from coach.core.plan import Priority
from coach.core.player import Output, Player, Say, StateChanged
from coach.core.spoken import estimate_seconds
from coach.core.understanding import Understanding

__all__ = ["Coach", "EndOfInput", "Heard", "Typed", "Voice", "output_event", "run_loop"]

_LOGGER = logging.getLogger(__name__)

EventSink = Callable[[dict[str, object]], None]


class Voice(Protocol):
    """The part of a speaker the coach needs."""

    def say(self, text: str, *, interrupt: bool = False) -> float: ...

    def is_speaking(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Typed:
    """A line typed by the user."""

    text: str


@dataclass(frozen=True)
class Heard:
    """An utterance the recogniser closed."""

    text: str
    start: float
    """Start of speech (seconds of audio)."""
    end: float
    """End of speech (seconds of audio)."""
    at: float
    """Audio consumed when it was decided (seconds)."""
    heard_as: str = ""
    """The recogniser's own words when `text` is a grammar phrase it put in their place."""
    user_spoke: bool | None = None
    """Whether the echo canceller's levels show the user's voice in it (None: can't tell)."""


@dataclass(frozen=True)
class EndOfInput:
    """No more input will come (end of file, or the user closed stdin)."""


Event = Typed | Heard | EndOfInput

_VOLUME_INTENTS = ("louder", "quieter")
# espeak-ng does not reliably take a new rate mid-session; the rate is set at start (--rate).
_SPEED_INTENTS = ("slower", "faster")


class Coach:
    """Routes decisions to the player or the FAQ and speaks what comes back."""

    def __init__(
        self,
        content: Content,
        understanding: Understanding,
        voice: Voice | None,
        sink: EventSink,
        speech_seconds: Callable[[str], float] = estimate_seconds,
        disclaimer: bool = False,
        wake_word: str | None = None,
        adjust_voice: Callable[[str], None] | None = None,
        echo: EchoFilter | None = None,
    ) -> None:
        self.player = Player(content.routines, content.phrases, speech_seconds)
        self._phrases: Mapping[str, str] = content.phrases
        self._faq = {entry.id: entry for entry in content.faq}
        self._understanding = understanding
        self._voice = voice
        self._sink = sink
        self._disclaimer_due = disclaimer
        self._wake_word = wake_word.lower() if wake_word else None
        self._adjust_voice = adjust_voice
        self._last_answer: FaqEntry | None = None
        self._last_said = ""
        """The last line worth repeating (not a count), for "say that again"."""
        self._echo = echo

    # --- input ------------------------------------------------------------------------

    def typed(self, text: str, now: float) -> Intent:
        """A typed command: no wake word needed."""
        intent = self._understanding.interpret(text)
        self._emit_heard(now, text, intent)
        self.act(intent, now)
        return intent

    def heard(self, event: Heard) -> Intent | None:
        """A spoken utterance; ignored without the wake word when one is set.

        Heard over the coach's own voice, only a barge-in command left after removing
        the coach's words may act (see coach.core.echo).
        """
        text, heard_as = event.text, event.heard_as
        if self._wake_word is not None:
            # the recogniser's own words are the evidence of the wake word
            words = (heard_as or text).lower().split()
            if not words or words[0].strip(",.!?") != self._wake_word:
                return None
            text = _without_word(text, self._wake_word)
            heard_as = _without_word(heard_as, self._wake_word)
        echo = False
        if self._echo is not None:
            verdict = self._echo.judge(text, event.start, event.end, heard_as,
                                       event.user_spoke)
            intent, echo = verdict.intent, verdict.echo
        else:
            intent = self._understanding.interpret(text)
        self._emit_heard(event.at, event.text, intent, start=event.start, end=event.end,
                         echo=echo)
        self.act(intent, event.at)
        return intent

    def _emit_heard(
        self,
        at: float,
        text: str,
        intent: Intent,
        start: float | None = None,
        end: float | None = None,
        echo: bool = False,
    ) -> None:
        event: dict[str, object] = {"type": "heard", "at": round(at, 3), "text": text,
                                    "intent": intent.name, "slots": dict(intent.slots)}
        if start is not None and end is not None:
            event["start"] = round(start, 3)
            event["end"] = round(end, 3)
        if echo:
            event["over_coach"] = True
        self._sink(event)

    # --- decisions --------------------------------------------------------------------

    def act(self, intent: Intent, now: float) -> None:
        """Carry out one decision at clock time `now`."""
        self.tick(now)
        name = intent.name
        if name is None:
            return
        if name == "question":
            self._answer(intent.slots.get("id", ""), now)
        elif name == "more":
            self._more(now)
        elif name == "repeat":
            text = self._last_said or self._phrases["nothing_to_repeat"]
            self._perform([Say(text, now, Priority.REPLY, "reply")])
        elif name in _VOLUME_INTENTS:
            if self._adjust_voice is not None:
                self._adjust_voice(name)
            self._perform([Say(self._phrases[name], now, Priority.REPLY, "reply")])
        elif name in _SPEED_INTENTS:
            self._perform([Say(self._phrases["speed_fixed"], now, Priority.REPLY, "reply")])
        else:
            if name == "start_routine" and self._disclaimer_due:
                self._disclaimer_due = False
                self._perform([Say(self._phrases["disclaimer"], now, Priority.TRANSITION,
                                   "disclaimer")])
            self._perform(self.player.handle(name, intent.slots, now))

    def _answer(self, entry_id: str, now: float) -> None:
        entry = self._faq.get(entry_id)
        if entry is None:
            return
        self._last_answer = entry
        text = f"{entry.answer} {self._phrases.get('more_hint', '')}".strip()
        self._perform([Say(text, now, Priority.REPLY, "answer")])

    def _more(self, now: float) -> None:
        if self._last_answer is None:
            text = self._phrases["more_none"]
        else:
            text = self._last_answer.details
        self._perform([Say(text, now, Priority.REPLY, "answer")])

    def tick(self, now: float) -> None:
        """Let the clock run to `now`."""
        self._perform(self.player.tick(now))

    # --- output -----------------------------------------------------------------------

    def _perform(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, StateChanged):
                self._sink(output_event(output))
            else:
                self._speak(output)

    def _speak(self, line: Say) -> None:
        speaking = self._voice is not None and self._voice.is_speaking()
        if speaking and line.priority <= Priority.CUE:
            _LOGGER.debug("dropped cue %r: still speaking", line.text)
            return
        self._sink(output_event(line))
        if line.kind not in ("count", "rep"):
            self._last_said = line.text
        if self._voice is not None:
            # The clock and safety lines cut off whatever is still playing; replies queue.
            interrupt = line.priority >= Priority.TRANSITION or line.kind == "answer"
            self._voice.say(line.text, interrupt=interrupt and speaking)


def output_event(output: Output) -> dict[str, object]:
    """The JSON event line of something the player said or a state it entered."""
    if isinstance(output, Say):
        return {"type": "said", "at": round(output.at, 3), "text": output.text,
                "kind": output.kind}
    event: dict[str, object] = {"type": "state", "at": round(output.at, 3),
                                "state": output.state.value, "routine": output.routine,
                                "step": output.step}
    if output.side is not None:
        event["side"] = output.side.value
    return event


WAKE_EARLY = 0.02
"""Wake this long before a deadline and sleep the rest in small steps (seconds): on a busy
machine a long wait can overshoot by tens of milliseconds, a short one hardly does."""
GIL_SWITCH_S = 0.001
"""Longest another thread may hold the interpreter before the timeline gets it (seconds)."""


def _sleep_until(deadline: float, clock: Callable[[], float]) -> None:
    while (left := deadline - clock()) > 0:
        time.sleep(min(left, 0.002))


def run_loop(
    coach: Coach,
    events: queue.Queue[Event],
    clock: Callable[[], float],
    until_finished: bool = False,
) -> None:
    """Drive `coach` on a real clock until input ends (or, optionally, the routine finishes)."""
    # The listener decodes in another thread of this process; a waking timeline must get
    # the interpreter back within a millisecond or two, not the default 5 ms per hand-over.
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
    while True:
        deadline = coach.player.next_deadline()
        timeout = 0.5 if deadline is None else min(0.5, max(0.0, deadline - clock() - WAKE_EARLY))
        try:
            event: Event | None = events.get(timeout=timeout)
        except queue.Empty:
            event = None
            if deadline is not None and deadline - clock() <= WAKE_EARLY:
                _sleep_until(deadline, clock)
        now = clock()
        coach.tick(now)
        if isinstance(event, Typed):
            coach.typed(event.text, now)
        elif isinstance(event, Heard):
            coach.heard(event)
        elif isinstance(event, EndOfInput) and (
            not until_finished or coach.player.next_deadline() is None
        ):
            return
        if until_finished and coach.player.next_deadline() is None and event is None:
            return


def _without_word(text: str, first: str) -> str:
    """`text` without its first word when that word is `first`."""
    words = text.split()
    if words and words[0].lower().strip(",.!?") == first:
        return " ".join(words[1:])
    return text
