"""Never act on the coach's own voice. Pure.

The coach knows what it said and when. An utterance heard while it was speaking (plus a
short tail for room echo and device latency) is compared with those words: what is left
after taking out the coach's own words is what the user said over it. Only a short list
of barge-in commands ("stop", "pause", "next") may act on such an utterance, and only
when they are the whole of what is left. An utterance that began before the coach spoke
or went on after it stopped, and in which (almost) none of the coach's words were heard,
is the user's and is understood as usual; one wholly inside the coach's speech is not
(recognisers invent words from a voice, e.g. "do it again").
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass

from coach.core.intents import Intent
from coach.core.textnorm import match_form as normalise
from coach.core.understanding import BARGE_IN_INTENTS

__all__ = ["EchoFilter", "Spoken", "Verdict", "remove_words"]



UNCLEAR_ALONE = frozenset({"end", "enough", "ready"})
"""Words that, left alone over the coach's voice, are more likely its own words misheard
than a command: live, its "Pause at the bottom, then stop halfway up" came back as "Bottom.
End stop halfway." (residual "end": stop). Said alone, away from its voice, they still act."""

BREATH = 0.5
"""A pause between two of the coach's lines short enough to speak over neither (seconds)."""


@dataclass(frozen=True)
class Spoken:
    """Something the coach said, on the recogniser's audio clock (seconds)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Verdict:
    """What to do with one heard utterance."""

    intent: Intent
    """The decision to act on (name None: do nothing)."""
    echo: bool
    """True when it overlapped the coach's own speech."""
    residual: str
    """The words left after removing the coach's own words (when `echo`)."""


class EchoFilter:
    """Remembers what the coach said recently and judges utterances against it."""

    def __init__(
        self,
        interpret: Callable[[str], Intent],
        tail: float = 0.35,
        lead: float = 0.25,
        barge_in: Collection[str] = BARGE_IN_INTENTS,
        min_barge_in_score: float = 0.9,
        memory: int = 32,
        user_share: float = 0.25,
    ) -> None:
        self._interpret = interpret
        self._tail = tail
        self._lead = lead
        """The microphone's and the speaker's clocks may disagree by a block or two (device
        latencies are estimates): the coach's first words can reach the recogniser with
        times slightly before the moment playback reported them audible."""
        self._barge_in = frozenset(barge_in)
        self._min_score = min_barge_in_score
        self._user_share = user_share
        """At most this share of an utterance's words may be the coach's for it to count
        as the user's own (a word like "back" or "your" is said by both)."""
        self._spoken: deque[Spoken] = deque(maxlen=memory)
        self._lock = threading.Lock()  # playback reports arrive on the audio thread

    def spoke(self, text: str, start: float, end: float) -> None:
        """The coach's voice is audible from `start` to `end` (seconds on the session clock)."""
        with self._lock:
            self._spoken.append(Spoken(text, start, end))

    def ended(self, text: str, end: float) -> None:
        """The last window of `text` really ended at `end` (finished or cut short)."""
        with self._lock:
            for index in range(len(self._spoken) - 1, -1, -1):
                item = self._spoken[index]
                if item.text == text:
                    self._spoken[index] = Spoken(item.text, item.start, end)
                    return

    def overlapping(self, start: float, end: float) -> list[Spoken]:
        with self._lock:
            return [s for s in self._spoken
                    if start < s.end + self._tail and s.start - self._lead < end]

    def judge(self, text: str, start: float, end: float, heard_as: str = "",
              user_spoke: bool | None = None) -> Verdict:
        """Interpret `text`, heard from `start` to `end`, knowing what the coach said then.

        `heard_as` is set when `text` is a grammar phrase a recogniser's second look chose
        in place of its own words, `heard_as`. Over the coach's voice only the recogniser's
        own words can be told apart from the coach's (a phrase chosen for resembling them
        could be the coach's echo), and a decision needs both readings to agree: the coach's
        "Next up: pause squat" came back as "Next stop." (whose "next" is the coach's,
        leaving "stop") and as the phrase "next step".

        `user_spoke` is what the echo canceller's levels say (coach.hearing.doubletalk):
        False means only the coach's voice was there, so nothing heard over it acts.
        """
        if not heard_as or not self.overlapping(start, end):
            verdict = self._judge(text, start, end)
        else:
            verdict = self._judge(heard_as, start, end)
            if self._interpret(text).name != verdict.intent.name:
                verdict = _inert(verdict)
        if verdict.echo and user_spoke is False:
            verdict = _inert(verdict)
        return verdict

    def _judge(self, text: str, start: float, end: float) -> Verdict:
        overlapping = self.overlapping(start, end)
        if not overlapping:
            return Verdict(self._interpret(text), echo=False, residual=text)
        residual = remove_words(text, " ".join(s.text for s in overlapping))
        words = normalise(text).split()
        if not residual:
            return Verdict(Intent(None, {}, 0.0, " ".join(words)), echo=True, residual="")
        echo_share = 1.0 - len(residual.split()) / len(words)
        inside = any(first <= start and end <= last for first, last in self._spans(overlapping))
        if not inside and echo_share <= self._user_share:
            # Hardly any of the coach's words came through: the user's voice dominated
            # (they spoke over the end of a sentence, or the coach is quiet in the room).
            return Verdict(self._interpret(text), echo=True, residual=residual)
        intent = self._interpret(residual)
        if (intent.name not in self._barge_in or intent.score < self._min_score
                or residual in UNCLEAR_ALONE):
            intent = Intent(None, {}, intent.score, intent.text)
        return Verdict(intent, echo=True, residual=residual)

    def _spans(self, spoken: list[Spoken]) -> list[tuple[float, float]]:
        """The coach's speech as continuous spans: lines a breath apart count as one."""
        spans: list[tuple[float, float]] = []
        for item in sorted(spoken, key=lambda s: s.start):
            start, end = item.start - self._lead, item.end + self._tail
            if spans and start <= spans[-1][1] + BREATH:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans


def _inert(verdict: Verdict) -> Verdict:
    """The same verdict, acting on nothing."""
    if verdict.intent.name is None:
        return verdict
    return Verdict(Intent(None, {}, verdict.intent.score, verdict.intent.text),
                   echo=verdict.echo, residual=verdict.residual)


def remove_words(heard: str, said: str) -> str:
    """The words of `heard` that are not accounted for by the words of `said`."""
    available = Counter(normalise(said).split())
    left = []
    for word in normalise(heard).split():
        if available[word] > 0:
            available[word] -= 1
        else:
            left.append(word)
    return " ".join(left)
