"""Never act on the coach's own voice. Pure.

The coach knows what it said and when. An utterance heard while it was speaking (plus a
short tail for room echo and device latency) is compared with those words: what is left
after taking out the coach's own words is what the user said over it. How far that residue
is trusted depends on the acoustic evidence (the echo canceller's levels, `user_spoke`):
a second voice in the levels lets the residue act like anything said in silence (any
intent); levels that cannot tell (the canceller still adapting, or an echo path it cannot
cancel deeply) let the barge-in intents act (commands.yaml `barge_in`), and a whole sentence
of words the coach did not say, both surely heard; levels that show the coach's voice alone
let nothing act. Text alone cannot be trusted further: in the canceller's first
seconds the recogniser has heard whole command phrases in the coach's own voice.
An utterance that began before the coach spoke or went on after it stopped, and in which
(almost) none of the coach's words were heard, is the user's and is understood as usual;
one wholly inside the coach's speech is not (recognisers invent words from a voice).

A virtual voice (a WAV file as the microphone) makes no sound: nothing heard can be its
echo, so everything heard is understood as said in silence, and only marked as said over it.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz.distance import Levenshtein

from coach.core.intents import Intent
from coach.core.textnorm import match_form as normalise
from coach.settings.understanding import EchoSettings

__all__ = ["EchoFilter", "Interpreter", "Spoken", "Verdict", "remove_words"]


class Interpreter(Protocol):
    """What the echo judge needs of the understanding (coach.core.understanding)."""

    def interpret(self, text: str) -> Intent:
        """The decision for one sentence."""
        ...

    @property
    def barge_in_intents(self) -> frozenset[str]:
        """Intents that may act over the coach's voice even when the levels cannot tell
        whether the user spoke."""
        ...

    def is_lone_word(self, intent: Intent, residual: str) -> bool:
        """Whether only a word that never acts alone over the coach's voice decides `intent`
        (carriers around it or not); `residual` is what is left of the heard words."""
        ...

    @property
    def destructive_intents(self) -> frozenset[str]:
        """Intents that lose the user's place: over the coach, text alone never decides
        them (a grammar-bound recogniser turns the coach's voice into whole phrases)."""
        ...


@dataclass(frozen=True)
class Spoken:
    """Something the coach said, on the recogniser's audio clock (seconds)."""

    text: str
    start: float
    end: float
    seconds: float | None = None
    """How long the whole line lasts played to its end, when known (`end` may be an open
    window, or a cut): where in time each of its words falls. None: `end - start`."""

    @property
    def length(self) -> float:
        """The line's whole length played to its end (seconds)."""
        return self.seconds if self.seconds is not None else self.end - self.start

    def words_echoing_at(self, start: float, slack: float) -> list[str]:
        """Its words (match forms) that may be the echo of what was heard from `start` on:
        not those it finished saying over `slack` seconds before (each placed by its share
        of the line's letters), nor those a cut kept from being said. The user answers what
        the coach has just said, in its words ("resume" after "Say resume to carry on");
        recognisers draw their guesses at the coach's voice from anywhere in its line, so
        the words still to come stay the coach's."""
        length = self.length
        words = normalise(self.text).split()
        total = sum(len(word) + 1 for word in words)
        echoing: list[str] = []
        before = 0
        for word in words:
            at = self.start + length * (before + (len(word) + 1) / 2) / total
            before += len(word) + 1
            if start - slack <= at <= self.end + slack:
                echoing.append(word)
        return echoing


@dataclass(frozen=True)
class Verdict:
    """What to do with one heard utterance."""

    intent: Intent
    """The decision to act on (name None: do nothing)."""
    echo: bool
    """True when it overlapped the coach's own speech."""
    residual: str
    """The recogniser's own words left after removing the coach's (when `echo`): the
    evidence a command that loses the user's place needs, even where a grammar phrase
    decided."""
    coach_share: float = 0.0
    """The share (0 to 1) of the heard words that are the coach's own (when `echo`)."""


class EchoFilter:
    """Remembers what the coach said recently and judges utterances against it."""

    def __init__(self, understanding: Interpreter, settings: EchoSettings | None = None,
                 *, audible: bool = True) -> None:
        """`audible`: whether the coach's voice reaches the microphone (False for a
        virtual voice)."""
        self._understanding = understanding
        self._audible = audible
        self._interpret = understanding.interpret
        self._settings = settings or EchoSettings()
        self._tail = self._settings.tail_seconds
        self._lead = self._settings.lead_seconds
        self._spoken: deque[Spoken] = deque(maxlen=self._settings.memory_lines)
        self._lock = threading.Lock()  # playback reports arrive on the audio thread

    @property
    def audible(self) -> bool:
        """Whether the coach's voice reaches the microphone (not so for a WAV file)."""
        return self._audible

    def spoke(self, text: str, start: float, end: float, *, seconds: float | None = None) -> None:
        """The coach's voice is audible from `start` to `end` (seconds on the session clock);
        `seconds`: the line's whole length when `end` is only a window left open until
        `ended` (None: `end - start`)."""
        with self._lock:
            self._spoken.append(Spoken(text, start, end, seconds))

    def ended(self, text: str, end: float) -> None:
        """The last window of `text` really ended at `end` (finished or cut short)."""
        with self._lock:
            for index in range(len(self._spoken) - 1, -1, -1):
                item = self._spoken[index]
                if item.text == text:
                    self._spoken[index] = Spoken(item.text, item.start, end, item.length)
                    return

    def overlapping(self, start: float, end: float) -> list[Spoken]:
        with self._lock:
            return [s for s in self._spoken
                    if start < s.end + self._tail and s.start - self._lead < end]

    def judge(self, text: str, start: float, end: float, heard_as: str = "",
              user_spoke: bool | None = None, place_to_lose: bool = True) -> Verdict:
        """Interpret `text`, heard from `start` to `end`, knowing what the coach said then.

        `heard_as` is set when `text` is a grammar phrase a recogniser's second look chose
        in place of its own words, `heard_as`. Over the coach's voice only the recogniser's
        own words can be told apart from the coach's (a phrase chosen for resembling them
        could be the coach's echo), and a decision needs both readings to agree: the coach's
        "Next up: pause squat" came back as "Next stop." (whose "next" is the coach's,
        leaving "stop") and as the phrase "next step". Only when the levels show a second
        voice and the recogniser's own words decide nothing may the phrase decide alone,
        judged like any words (without the coach's: "next step" leaves "step").

        `user_spoke` is what the echo canceller's levels say (coach.hearing.doubletalk):
        True (a second voice) lets what is left of the coach's words act as if said in
        silence; None (cannot tell) a barge-in command or a whole sentence of the user's own
        words, surely heard; False (only the coach's voice
        was there) nothing.

        `place_to_lose`: whether a workout is under way. With none, a command that would
        lose the user's place (commands.yaml `destructive`) loses nothing, and is judged
        like a barge-in command: "start the core" said over the coach's closing line.
        """
        if not self._audible:
            return Verdict(self._interpret(text), echo=bool(self.overlapping(start, end)),
                           residual=text)
        if not heard_as or not self.overlapping(start, end):
            verdict = self._judge(text, start, end, user_spoke, place_to_lose)
        else:
            verdict = self._judge(heard_as, start, end, user_spoke, place_to_lose)
            if self._interpret(text).name != verdict.intent.name:
                phrase = self._judge(text, start, end, user_spoke, place_to_lose)
                # With a second voice in the levels, a phrase whose deciding words are not
                # the coach's stands where the recogniser's own words decide nothing.
                if user_spoke and verdict.intent.name is None and phrase.intent.name:
                    # the residual stays the recogniser's own: the evidence for the phrase
                    verdict = Verdict(phrase.intent, phrase.echo, verdict.residual,
                                      verdict.coach_share)
                else:
                    verdict = _inert(verdict)
        if verdict.echo and user_spoke is False:
            verdict = _inert(verdict)
        return verdict

    def _judge(self, text: str, start: float, end: float, user_spoke: bool | None,
               place_to_lose: bool = True) -> Verdict:
        overlapping = self.overlapping(start, end)
        if not overlapping:
            return Verdict(self._interpret(text), echo=False, residual=text)
        # Not the words the coach had said well before: "resume" said right after "Say
        # resume to carry on where you left off." is the user's, not that line's echo.
        said = [word for line in overlapping
                for word in line.words_echoing_at(start, self._settings.word_slack_seconds)]
        residual = remove_words(text, " ".join(said), self._settings)
        words = normalise(text).split()
        if not residual:
            return Verdict(Intent(None, {}, 0.0, " ".join(words)), echo=True, residual="",
                           coach_share=1.0)
        echo_share = 1.0 - len(residual.split()) / len(words)
        inside = any(first <= start and end <= last for first, last in self._spans(overlapping))
        mostly_user = echo_share <= self._settings.user_share
        if not inside and mostly_user:
            # Hardly any of the coach's words came through: the user's voice dominated
            # (they spoke over the end of a sentence, or the coach is quiet in the room).
            return Verdict(self._interpret(text), echo=True, residual=residual,
                           coach_share=echo_share)
        intent = self._interpret(residual)
        if intent.name is None and user_spoke and mostly_user:
            # A second voice said nearly all of it: the few words it shares with the coach
            # are its own too ("why does my lower back hurt" over a cue about the back).
            intent = self._interpret(text)
        settings = self._settings
        guess = (user_spoke is not True and end - start
                 > len(words) * settings.seconds_per_word + settings.spare_seconds)
        if guess or not self._may_act_over_coach(intent, residual, user_spoke, mostly_user,
                                                  place_to_lose):
            intent = Intent(None, {}, intent.score, intent.text)
        return Verdict(intent, echo=True, residual=residual, coach_share=echo_share)

    def _may_act_over_coach(self, intent: Intent, residual: str, user_spoke: bool | None,
                            mostly_user: bool, place_to_lose: bool = True) -> bool:
        """Not a lone word that may be the coach's own misheard (live, "then stop halfway"
        came back as "End stop halfway": residual "end"); with a second voice in the levels
        any intent; otherwise, surely heard, a barge-in command or a whole sentence of the
        user's own words ("what can I say" over a cue) that does not lose the user's place
        (PocketSphinx, bound to its grammar, makes whole command phrases of anything)."""
        if intent.name is None:
            return False
        # The words themselves, or what matching made of them: "the end of the bottom" over
        # "Don't stop now, pause at the bottom" leaves "end of the", matched as "end".
        if self._understanding.is_lone_word(intent, residual):
            return False
        if user_spoke:
            return intent.score >= self._settings.min_second_voice_score
        if intent.score < self._settings.min_barge_in_score:
            return False
        destructive = intent.name in self._understanding.destructive_intents
        if destructive and not place_to_lose:
            return True  # nothing to lose: as safe as a barge-in command
        if destructive and intent.score < self._settings.min_destructive_barge_in_score:
            # a reading that makes up for a mishearing may be making up the coach's own
            # word: "Let's top halfway up." for its "then stop halfway up"
            return False
        sentence = (mostly_user and len(residual.split()) >= self._settings.user_sentence_words
                    and not destructive)
        return intent.name in self._understanding.barge_in_intents or sentence

    def _spans(self, spoken: list[Spoken]) -> list[tuple[float, float]]:
        """The coach's speech as continuous spans: lines a breath apart count as one."""
        spans: list[tuple[float, float]] = []
        for item in sorted(spoken, key=lambda s: s.start):
            start, end = item.start - self._lead, item.end + self._tail
            if spans and start <= spans[-1][1] + self._settings.breath_seconds:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans


def _inert(verdict: Verdict) -> Verdict:
    """The same verdict, acting on nothing."""
    if verdict.intent.name is None:
        return verdict
    return Verdict(Intent(None, {}, verdict.intent.score, verdict.intent.text),
                   echo=verdict.echo, residual=verdict.residual,
                   coach_share=verdict.coach_share)


def remove_words(heard: str, said: str, settings: EchoSettings | None = None) -> str:
    """The words of `heard` that are not accounted for by the words of `said`: the same
    words, each used once, and a near copy of the coach's word that stands where that word
    stands beside a word both share (`EchoSettings.near_copy_edits`)."""
    settings = settings or EchoSettings()
    heard_words = normalise(heard).split()
    said_words = normalise(said).split()
    available = Counter(said_words)
    mine = [False] * len(heard_words)
    for index, word in enumerate(heard_words):
        if available[word] > 0:
            available[word] -= 1
            mine[index] = True
    for index, word in enumerate(heard_words):
        if mine[index]:
            continue
        copied = _near_copy_of(word, index, heard_words, mine, said_words, available, settings)
        if copied is not None:
            available[copied] -= 1
            mine[index] = True
    return " ".join(word for word, theirs in zip(heard_words, mine, strict=True) if not theirs)


def _near_copy_of(word: str, index: int, heard: list[str], mine: list[bool], said: list[str],
                  available: Counter[str], settings: EchoSettings) -> str | None:
    """The coach's word that `heard[index]` is a misheard copy of, anchored by a neighbour
    that is the coach's own: the heard word next to it and the coach's word next to the
    same word on the same side are one letter or so apart."""
    if settings.near_copy_edits <= 0 or len(word) < settings.near_copy_min_letters:
        return None
    for side in (-1, 1):
        neighbour = index + side
        if not 0 <= neighbour < len(heard) or not mine[neighbour]:
            continue
        for place, anchor in enumerate(said):
            if anchor != heard[neighbour] or not 0 <= place - side < len(said):
                continue
            candidate = said[place - side]
            if (available[candidate] > 0 and len(candidate) >= settings.near_copy_min_letters
                    and Levenshtein.distance(word, candidate) <= settings.near_copy_edits):
                return candidate
    return None
