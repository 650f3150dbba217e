"""The Coach: what was heard or typed -> decision -> player or FAQ -> voice.

One `Coach` owns the player and speaks through one voice; it is driven from one thread
(see coach.session.loop). Each decision goes to the handler its intent name picks in one
table; whatever has no handler of its own is a routine command for the player.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from coach.content.model import Content, FaqEntry, IntentName
from coach.core.echo import EchoFilter
from coach.core.intents import Intent
from coach.core.plan import GUESS_PHRASE_PREFIX, Priority
from coach.core.player import Output, Player, Say, State, StateChanged
from coach.core.spoken import estimate_seconds
from coach.core.textnorm import is_question
from coach.core.understanding import Understanding
from coach.session.events import HeardEvent, InfoEvent, SessionEvent, event_of
from coach.session.history import History
from coach.session.inputs import Heard
from coach.session.policy import Conversation, Evidence, at_room_level, is_meant, weigh
from coach.settings.session import ConversationSettings

__all__ = ["Coach", "EventSink", "Voice", "faq_entry"]

_LOGGER = logging.getLogger(__name__)

EventSink = Callable[[SessionEvent], None]
"""Where the coach reports what it heard, said and entered (the printer, or a test's list)."""

Handler = Callable[[Intent, float], None]

_UNCOUNTED_KINDS = ("count", "rep")
"""Lines not worth repeating on "say that again": the clock's numbers."""


class Voice(Protocol):
    """The part of a speaker the coach needs."""

    def say(self, text: str, *, interrupt: bool = False) -> float: ...

    def is_speaking(self) -> bool: ...

    def stop(self) -> None: ...


def faq_entry(intent: Intent, faq: Mapping[str, FaqEntry]) -> FaqEntry | None:
    """The FAQ entry a question points at; None for any other intent or an unknown entry."""
    if intent.name != "question":
        return None
    return faq.get(intent.slots.get("id", ""))


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
        talk: ConversationSettings | None = None,
        disclaimer_said: Callable[[], None] | None = None,
        history: History | None = None,
    ) -> None:
        """`disclaimer`: the not-a-doctor line is due at the first routine or answer;
        `disclaimer_said` is called when its said event is emitted. `history`: answers from
        the workout log (None: no log in this session)."""
        self.player = Player(content.routines, content.phrases, speech_seconds)
        self._phrases: Mapping[str, str] = content.phrases
        self._routines = content.routines
        self._faq = {entry.id: entry for entry in content.faq}
        self._understanding = understanding
        self._voice = voice
        self._sink = sink
        self._disclaimer_due = disclaimer
        self._disclaimer_said = disclaimer_said
        self._wake_word = wake_word.lower() if wake_word else None
        self._adjust_voice = adjust_voice
        self._last_answer: FaqEntry | None = None
        self._last_said = ""
        """The last line worth repeating (not a count), for "say that again"."""
        self._echo = echo
        self._history = history
        self._spoken_at = float("-inf")
        """Clock time of the last line given to the voice."""
        self._talk = Conversation(talk)
        self._destructive = frozenset(
            spec.name for spec in content.commands.intents if spec.destructive)
        # Any other intent is a routine command: the player handles it.
        self._handlers: Mapping[str, Handler] = {
            IntentName.QUESTION: self._answer,
            IntentName.MORE: self._more,
            IntentName.REPEAT: self._repeat,
            IntentName.LOUDER: self._adjust_volume,
            IntentName.QUIETER: self._adjust_volume,
            IntentName.SLOWER: self._speed_is_fixed,
            IntentName.FASTER: self._speed_is_fixed,
            IntentName.START_ROUTINE: self._start_routine,
            IntentName.YES: self._yes,
            IntentName.NO: self._no,
            IntentName.WORKOUTS_THIS_WEEK: self._from_history,
            IntentName.LAST_PAIN: self._from_history,
        }

    # --- input ------------------------------------------------------------------------

    def typed(self, text: str, now: float) -> Intent:
        """A typed command: no wake word needed, and always meant for the coach."""
        intent = self._understanding.interpret(text)
        self._sink(HeardEvent(now, text, intent.name, dict(intent.slots)))
        self._decide(intent, text, meant=True, now=now)
        return intent

    def pressed(self, action: str, now: float) -> None:
        """A button on the screen: the command itself, certain, so it acts at once."""
        self._sink(HeardEvent(now, f"[{action.replace('_', ' ')} button]", action))
        self._talk.understood()
        self._talk.answered()  # a tap instead of an answer to a question asked
        self.act(Intent(action, {}, 1.0, action), now)

    def heard(self, event: Heard) -> Intent | None:
        """A spoken utterance; ignored without the wake word when one is set (unless the
        coach is waiting for an answer).

        Heard over the coach's own voice, what is left after removing the coach's words
        may act as the echo rules allow (see coach.core.echo); a request that acts cuts the
        coach's line short.
        """
        text, heard_as = event.text, event.heard_as
        waiting = self._talk.waiting(event.at) is not None
        woken = False
        if self._wake_word is not None:
            # the recogniser's own words are the evidence of the wake word
            words = (heard_as or text).lower().split()
            woken = bool(words) and words[0].strip(",.!?") == self._wake_word
            if not woken and not waiting:
                return None
            text = _without_word(text, self._wake_word)
            heard_as = _without_word(heard_as, self._wake_word)
        echo, own, stray_answer, coach_share = False, heard_as or text, False, 0.0
        if self._echo is not None:
            verdict = self._echo.judge(text, event.start, event.end, heard_as,
                                       event.user_spoke, place_to_lose=self._loses_place())
            intent, echo, coach_share = verdict.intent, verdict.echo, verdict.coach_share
            _LOGGER.debug("judged %r (%.2f-%.2f s, user's voice %s): %s, over the coach %s, "
                          "left %r, coach's share %.2f", heard_as or text, event.start,
                          event.end, event.user_spoke, intent.name, echo, verdict.residual,
                          coach_share)
            own = verdict.residual if echo else own
            if echo and not waiting and intent.name in (IntentName.YES, IntentName.NO):
                # An answer with no question asked does nothing; over the coach's voice it
                # is most likely the coach's own words misheard ("Do it.", "No!"): not a
                # request, nor one to ask again.
                intent, stray_answer = Intent(None, {}, intent.score, intent.text), True
        else:
            intent = self._understanding.interpret(text)
        self._sink(HeardEvent(event.at, event.text, intent.name, dict(intent.slots),
                              event.start, event.end, over_coach=echo,
                              level_db=event.level_db))
        if echo and intent.name is not None and self._voice is not None:
            self._voice.stop()  # the user asked for something over the coach: it stops
        meant = not stray_answer and is_meant(
            woken=woken, waiting=waiting, level_db=event.level_db, over_coach=echo,
            user_spoke=event.user_spoke, knobs=self._talk.knobs,
            coach_words_only=echo and (
                not own.strip() or coach_share > self._talk.knobs.say_again_coach_share))
        self._decide(intent, own, meant=meant, now=event.at,
                     room_level=at_room_level(event.level_db, woken=woken,
                                              knobs=self._talk.knobs),
                     over_coach=echo and self._echo is not None and self._echo.audible)
        return intent

    # --- decisions --------------------------------------------------------------------

    def handles(self) -> frozenset[str]:
        """The intents this coach carries out, itself or through the player."""
        return frozenset(self._handlers) | self.player.handles()

    def act(self, intent: Intent, now: float) -> None:
        """Carry out one decision at clock time `now`, with no questions asked."""
        self.tick(now)
        if intent.name is None:
            return
        handler = self._handlers.get(intent.name, self._to_player)
        handler(intent, now)

    def _decide(self, intent: Intent, own: str, *, meant: bool, now: float,
                room_level: bool = False, over_coach: bool = False) -> None:
        """Apply the conversation rules (coach.session.policy) to a decision, then act.

        `own` is the recogniser's own words (the typed text), the evidence a destructive
        command needs; `meant` says the utterance was clearly meant for the coach;
        `room_level` that it was no louder than the room's own voices, and `over_coach` that
        it was heard over the coach's own voice, which the microphone hears (both weak
        evidence that it was the user's: a destructive command then asks first).
        """
        self.tick(now)
        if intent.name is None:
            self._not_understood(intent, own, meant, now)
            return
        self._talk.understood()
        pending = self._talk.waiting(now)
        if pending is not None and intent.name not in (IntentName.YES, IntentName.NO):
            self._talk.answered()  # another request instead of an answer
            if intent.name == pending.intent.name and intent.slots == pending.intent.slots:
                self.act(pending.intent, now)  # said again: as good as yes
                return
        if intent.name in self._destructive and self._loses_place():
            evidence = weigh(intent, self._understanding.interpret(own),
                             self._talk.knobs.destructive_min_score)
            if evidence is Evidence.CONFLICT:
                self._not_understood(Intent(None, {}, intent.score, intent.text), own, meant,
                                     now)
                return
            # Over its own voice the coach stops talking at once, but asks before losing the
            # user's place: in the soak its "10 seconds." came back as "That's it." while the
            # canceller's levels wrongly showed a second voice, and stopped the workout.
            if evidence is Evidence.WEAK or room_level or over_coach:
                self._ask(intent, now)
                return
        self.act(intent, now)

    def _loses_place(self) -> bool:
        """Whether a routine is under way (running or paused): a destructive command would
        lose the user's place in it."""
        return self.player.segment is not None and self.player.state is not State.FINISHED

    def _not_understood(self, intent: Intent, own: str, meant: bool, now: float) -> None:
        """Never a silent failure for speech meant for the coach: too much at once gets
        "one thing at a time", a request for something the coach doesn't have (an unknown
        routine) what it has, a near miss "Did you mean: ...?", an out-of-scope question the
        no-answer line, anything else "say that again" (those two not twice in a row)."""
        if not meant:
            return
        if self._understanding.too_long(own):
            self._talk.understood()
            self._reply(self._phrases["too_long"], now)
        elif (unknown := self._understanding.unknown_value(own)) is not None:
            self._talk.understood()
            self.act(unknown, now)  # its handler says what it has; nothing is lost
        elif (asked := self._guess(own)) is not None and self._talk.may_say_again():
            # before the question line: "can we rewind to the last one" is a request
            guess, line = asked
            self._talk.ask(guess, now, guessed=True)
            self._reply(line, now, kind="confirm")
        elif is_question(intent.text.split()):
            self._talk.understood()
            self._reply(self._phrases["no_answer"], now)
        elif self._talk.may_say_again():
            self._reply(self._phrases["not_understood"], now, kind="not_understood")

    def _guess(self, own: str) -> tuple[Intent, str] | None:
        """The command `own` most likely asks for, with its "Did you mean: ...?" line."""
        guess = self._understanding.guess(own)
        line = self._guess_line(guess) if guess is not None else None
        return None if guess is None or line is None else (guess, line)

    def _guess_line(self, guess: Intent) -> str | None:
        """"Did you mean: ...?" for a guessed command (phrases.yaml `guess_<intent>`); None
        when the phrases name no such line, or the guess names a routine the coach lacks."""
        template = self._phrases.get(f"{GUESS_PHRASE_PREFIX}{guess.name}")
        if template is None:
            return None
        routine = guess.slots.get("routine")
        if routine is not None and routine not in self._routines:
            return None
        name = self._routines[routine].name.lower() if routine is not None else ""
        return template.format(routine=name)

    def _ask(self, intent: Intent, now: float) -> None:
        """Weak evidence for a destructive command: ask, and wait for yes or no."""
        assert intent.name is not None
        routine = self._routines.get(intent.slots.get("routine", ""))
        text = self._phrases[f"confirm_{intent.name}"].format(
            routine=routine.name.lower() if routine is not None else "")
        self._talk.ask(intent, now)
        self._reply(text, now, Priority.TRANSITION, "confirm")

    def _yes(self, intent: Intent, now: float) -> None:
        pending = self._talk.waiting(now)
        self._talk.answered()
        if pending is not None:
            self.act(pending.intent, now)

    def _no(self, intent: Intent, now: float) -> None:
        pending = self._talk.waiting(now)
        if pending is not None:
            self._talk.answered()
            guess_no = f"{GUESS_PHRASE_PREFIX}no"
            key = guess_no if pending.guessed and guess_no in self._phrases else "confirm_no"
            self._reply(self._phrases[key], now)

    def tick(self, now: float) -> None:
        """Let the clock run to `now`."""
        self._perform(self.player.tick(now))

    # --- the speaker ------------------------------------------------------------------

    def speaker_changed(self, available: bool, device: str, now: float) -> None:
        """The speaker (`device`) was lost or is back: said once, on the screen.

        Lost: a routine under way is held where it is, its clock stopped as for a pause,
        since a workout the user cannot hear is not coached. Back: it goes on at once from
        the same place, the resume line saying where it stands. Not waiting for "resume":
        the user cannot tell that sound is back until the coach speaks, and stands there
        mid-workout, waiting for it.
        """
        self.tick(now)
        if not available:
            outputs = self.player.hold(now)
            then = ("The workout is paused where it is; it goes on when the speaker is back."
                    if self.player.held else "What I say is shown here until it is back.")
            self._sink(InfoEvent(f"Speaker lost ({device} went silent). {then}"))
            self._perform(outputs)
            return
        resuming = self.player.held
        self._sink(InfoEvent(f"Speaker back ({device}). Resuming the workout." if resuming
                             else f"Speaker back ({device})."))
        self._perform(self.player.release(now))

    def _to_player(self, intent: Intent, now: float) -> None:
        assert intent.name is not None
        self._perform(self.player.handle(intent.name, intent.slots, now))

    def _start_routine(self, intent: Intent, now: float) -> None:
        self._disclaim(now)
        self._to_player(intent, now)
        routine = self.player.routine
        if self._history is not None and routine is not None and routine.id == intent.slots.get(
                "routine"):
            warning = self._history.warning(routine.id)
            if warning is not None:
                self._reply(warning, now, Priority.TRANSITION, "warning")

    def _from_history(self, intent: Intent, now: float) -> None:
        if self._history is None:
            self._reply(self._phrases["log_off"], now)
        elif intent.name == IntentName.LAST_PAIN:
            self._reply(self._history.last_pain(), now)
        else:
            self._reply(self._history.workouts_this_week(), now)

    def _disclaim(self, now: float) -> None:
        """The not-a-doctor line, before the first routine or answer, when it is due."""
        if self._disclaimer_due:
            self._disclaimer_due = False
            self._reply(self._phrases["disclaimer"], now, Priority.TRANSITION, "disclaimer")
            if self._disclaimer_said is not None:
                self._disclaimer_said()

    def _answer(self, intent: Intent, now: float) -> None:
        entry = faq_entry(intent, self._faq)
        if entry is None:
            return
        self._disclaim(now)
        self._last_answer = entry
        text = f"{entry.answer} {self._phrases.get('more_hint', '')}".strip()
        self._reply(text, now, kind="answer")

    def _more(self, intent: Intent, now: float) -> None:
        if self._last_answer is None:
            text = self._phrases["more_none"]
        else:
            text = self._last_answer.details
        self._reply(text, now, kind="answer")

    def _repeat(self, intent: Intent, now: float) -> None:
        self._reply(self._last_said or self._phrases["nothing_to_repeat"], now)

    def _adjust_volume(self, intent: Intent, now: float) -> None:
        assert intent.name is not None
        if self._adjust_voice is not None:
            self._adjust_voice(intent.name)
        self._reply(self._phrases[intent.name], now)

    def _speed_is_fixed(self, intent: Intent, now: float) -> None:
        # espeak-ng does not reliably take a new rate mid-session; it is set at start (--rate).
        self._reply(self._phrases["speed_fixed"], now)

    # --- output -----------------------------------------------------------------------

    def _reply(self, text: str, now: float, priority: Priority = Priority.REPLY,
               kind: str = "reply") -> None:
        self._perform([Say(text, now, priority, kind)])

    def _perform(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, StateChanged):
                self._sink(event_of(output))
            else:
                self._speak(output)

    def _speak(self, line: Say) -> None:
        speaking = self._voice is not None and self._voice.is_speaking()
        if speaking and line.priority <= Priority.CUE:
            _LOGGER.debug("dropped cue %r: still speaking", line.text)
            return
        self._sink(event_of(line))
        if line.kind not in _UNCOUNTED_KINDS:
            self._last_said = line.text
        if self._voice is not None:
            # The clock and safety lines cut off whatever is still playing; replies queue.
            # Lines of one moment (the disclaimer, then a routine's introduction) queue
            # behind each other: only a later moment's line cuts in.
            interrupt = ((line.priority >= Priority.TRANSITION or line.kind == "answer")
                         and line.at > self._spoken_at)
            self._voice.say(line.text, interrupt=interrupt and speaking)
            self._spoken_at = max(self._spoken_at, line.at)


def _without_word(text: str, first: str) -> str:
    """`text` without its first word when that word is `first`."""
    words = text.split()
    if words and words[0].lower().strip(",.!?") == first:
        return " ".join(words[1:])
    return text
