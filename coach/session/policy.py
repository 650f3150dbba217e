"""The conversation rules the Coach applies to each decision before acting on it.

- Never a silent failure: speech meant for the coach that is not understood gets a short
  "say that again", at most once in a row; an out-of-scope question gets the polite
  no-answer line. Meant for the coach: typed; after the wake word; while the coach waits
  for an answer; or near and loud (its level over the room's floor), and never heard over
  the coach's voice unless the echo canceller's levels say the user spoke.
- A near miss is asked about: speech meant for the coach that is not understood but
  reads most like one command gets "Did you mean: ...?" in place of "say that again"
  (at most once in a row, like it), and a yes carries the command out.
- No destructive misfire: a command that loses the user's place (commands.yaml
  `destructive`) acts at once only on strong evidence, the recogniser's own words meaning
  it with a high score; on weaker evidence the coach asks and waits for yes or no. Words
  that themselves mean another command never act as the destructive one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from coach.content.model import IntentName
from coach.core.intents import Intent
from coach.settings.session import ConversationSettings

__all__ = ["ANSWERS", "Conversation", "Evidence", "Pending", "at_room_level", "is_meant", "weigh"]

ANSWERS = frozenset({IntentName.YES.value, IntentName.NO.value})
"""Intents that only answer a question the coach asked; heard at any other time they do
nothing (so they are no false trigger either)."""


class Evidence(str, Enum):
    """How surely a destructive command was asked for."""

    STRONG = "strong"
    """The recogniser's own words mean it, with a high score: act."""
    WEAK = "weak"
    """Only a second-look phrase, or a low score, means it: ask first."""
    CONFLICT = "conflict"
    """The recogniser's own words mean another command: never act on it."""


def weigh(decided: Intent, own: Intent, min_score: float) -> Evidence:
    """The evidence for `decided` given `own`, the decision on the recogniser's own words
    (or on the typed text)."""
    if own.name is not None and own.name != decided.name:
        return Evidence.CONFLICT
    if own.name == decided.name and own.slots == decided.slots and own.score >= min_score:
        return Evidence.STRONG
    return Evidence.WEAK


def is_meant(
    *,
    woken: bool,
    waiting: bool,
    level_db: float | None,
    over_coach: bool,
    user_spoke: bool | None,
    knobs: ConversationSettings,
    coach_words_only: bool = False,
) -> bool:
    """Whether a spoken utterance was clearly meant for the coach.

    Over the coach's own voice only when the echo canceller's levels say the user spoke
    and the words heard are not mostly the coach's (`coach_words_only`: nothing, or hardly
    anything, is left of the user's to be misunderstood); otherwise after the wake word,
    while the coach waits for an answer, or when it stood at least `meant_level_db` above
    the room (an unknown level is the room's).
    """
    if over_coach and (user_spoke is not True or coach_words_only):
        return False
    if woken or waiting:
        return True
    return level_db is not None and level_db >= knobs.meant_level_db


def at_room_level(level_db: float | None, *, woken: bool, knobs: ConversationSettings) -> bool:
    """Whether an utterance stood no higher above the room than the room's own voices do:
    heard at the room's level, a command may be someone else's, so one that loses the
    user's place is asked about first. After the wake word, or with no level measured
    (typed), it is the user's."""
    return not woken and level_db is not None and level_db < knobs.meant_level_db


@dataclass(frozen=True)
class Pending:
    """A command the coach asked about, waiting for yes or no: a destructive one heard on
    weak evidence, or its guess at words it did not understand."""

    intent: Intent
    expires_at: float
    """Clock time after which the question is forgotten (seconds)."""
    guessed: bool = False
    """Whether the question was a guess ("Did you mean: ...?")."""


class Conversation:
    """The state of the talk: the question waiting for an answer, and whether the last
    thing heard got "say that again" (it is not said twice in a row)."""

    def __init__(self, knobs: ConversationSettings | None = None) -> None:
        self.knobs = knobs or ConversationSettings()
        self._pending: Pending | None = None
        self._said_again = False

    def waiting(self, now: float) -> Pending | None:
        """The question still waiting for an answer at `now`, if any."""
        if self._pending is not None and now > self._pending.expires_at:
            self._pending = None
        return self._pending

    def ask(self, intent: Intent, now: float, *, guessed: bool = False) -> None:
        """The coach asked whether to carry out `intent` (`guessed`: whether it was meant)."""
        self._pending = Pending(intent, now + self.knobs.confirm_timeout_s, guessed)

    def answered(self) -> None:
        """The question is settled (yes, no, or another request came instead)."""
        self._pending = None

    def understood(self) -> None:
        """Something was understood: the next failure may be told again."""
        self._said_again = False

    def may_say_again(self) -> bool:
        """Whether to say "say that again" now; True at most once in a row."""
        if self._said_again:
            return False
        self._said_again = True
        return True
