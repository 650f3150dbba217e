"""The routine player: a pure state machine on absolute deadlines. The clock is passed in.

`handle(command, slots, now)` and `tick(now)` return what to say and which state was
entered. Deadlines are absolute: a segment ends at its start plus its length, whatever
was said or however late `tick` came, so speech never delays the clock. Pausing shifts
the current segment by exactly the time spent paused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from coach.content.model import IntentName, Routine, Side
from coach.core.plan import (
    Line,
    Priority,
    Segment,
    SegmentKind,
    describe_next,
    dose,
    plan_routine,
)
from coach.core.safety import held_after_pain
from coach.core.spoken import estimate_seconds, join_words, say_about, say_seconds

__all__ = ["Output", "Player", "Progress", "Say", "State", "StateChanged"]


class State(str, Enum):
    IDLE = "idle"
    INTRO = "intro"
    EXERCISE = "exercise"
    REST = "rest"
    PAUSED = "paused"
    FINISHED = "finished"


_RUNNING = (State.INTRO, State.EXERCISE, State.REST)
_STATE_OF = {
    SegmentKind.INTRO: State.INTRO,
    SegmentKind.EXERCISE: State.EXERCISE,
    SegmentKind.REST: State.REST,
}


@dataclass(frozen=True)
class Say:
    """Speak `text`; it was due at clock time `at` (seconds)."""

    text: str
    at: float
    priority: Priority
    kind: str


@dataclass(frozen=True)
class Progress:
    """Where a routine stands at a state change: what a screen shows of it."""

    routine: str
    """The routine's name, as spoken."""
    title: str
    """What is on now: the exercise (with its side), "Rest", or "Get ready"."""
    exercise: str | None
    """The exercise's name alone, during one; None in a rest or the introduction."""
    dose: str
    """How much of it ("45 seconds", "8 reps each side"); empty outside an exercise."""
    steps: int
    """Exercises in the routine."""
    segment_seconds: float
    """Length of the current segment (seconds)."""
    segment_left: float
    """Seconds left in it at the change."""
    routine_seconds: float
    """Length of the whole routine (seconds)."""
    routine_left: float
    """Seconds left in the routine at the change."""
    running: bool
    """Whether the clock runs (False while paused)."""
    upcoming: str | None
    """The next exercise described ("leg swings, 30 seconds each side"); None at the last."""


@dataclass(frozen=True)
class StateChanged:
    """The player entered `state` at clock time `at`."""

    state: State
    at: float
    routine: str | None
    step: int | None
    """1-based exercise number, None when no routine is running."""
    side: Side | None = None
    progress: Progress | None = None
    """Where the routine stands; None when none is under way."""


Output = Say | StateChanged


@dataclass(frozen=True)
class _Place:
    """Where a stopped routine stood, so that resume can take the stop back."""

    routine: Routine
    segments: tuple[Segment, ...]
    index: int
    segment_start: float
    paused_from: State
    paused_at: float
    pending: tuple[Line, ...]


class Player:
    """Plays one routine at a time. Feed it commands and ticks; it never reads a clock.

    A stop can be taken back: until another routine starts, resume goes on where the stop
    left off, its clock shifted as for a pause (a misheard or regretted stop loses nothing).
    """

    def __init__(
        self,
        routines: Mapping[str, Routine],
        phrases: Mapping[str, str],
        speech_seconds: Callable[[str], float] = estimate_seconds,
    ) -> None:
        self._routines = routines
        self._phrases = phrases
        self._speech_seconds = speech_seconds
        self._state = State.IDLE
        self._routine: Routine | None = None
        self._segments: tuple[Segment, ...] = ()
        self._index = 0
        self._segment_start = 0.0
        self._pending: list[Line] = []
        self._paused_from: State | None = None
        self._paused_at = 0.0
        self._busy_until = 0.0
        self._pain_hold = False  # paused by a pain report: only resume or stop moves on
        self._held = False  # paused because the coach cannot be heard; `release` resumes
        self._stopped: _Place | None = None  # where the last stop left off

    # --- what it is doing -------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def routine(self) -> Routine | None:
        return self._routine

    @property
    def segment(self) -> Segment | None:
        if self._routine is None or self._state in (State.IDLE, State.FINISHED):
            return None
        return self._segments[self._index]

    def next_deadline(self) -> float | None:
        """Clock time of the next thing to say or the next segment change, if running."""
        if self._state not in _RUNNING:
            return None
        end = self._segment_end()
        if self._pending:
            return min(end, self._segment_start + self._pending[0].offset)
        return end

    def remaining(self, now: float) -> tuple[float, float]:
        """(seconds left in the current segment, seconds left in the routine)."""
        if self.segment is None:
            return (0.0, 0.0)
        clock = self._paused_at if self._state is State.PAUSED else now
        here = max(0.0, self._segment_end() - clock)
        later = sum(s.seconds for s in self._segments[self._index + 1 :])
        return (here, here + later)

    # --- time passing -----------------------------------------------------------------

    def tick(self, now: float) -> list[Output]:
        """Say every line that is due and cross every segment boundary up to `now`."""
        out: list[Output] = []
        while self._state in _RUNNING:
            while self._pending and self._segment_start + self._pending[0].offset <= now:
                line = self._pending.pop(0)
                self._emit_line(line, self._segment_start + line.offset, out)
            end = self._segment_end()
            if now < end:
                break
            out.extend(self._enter(self._index + 1, end))
        return out

    def _emit_line(self, line: Line, at: float, out: list[Output]) -> None:
        # A form cue never talks over a reply still being spoken; the clock lines always go.
        if line.priority <= Priority.CUE and at < self._busy_until:
            return
        out.append(self._say(line.text, at, line.priority, line.kind))

    # --- the coach unheard -------------------------------------------------------------

    def hold(self, now: float) -> list[Output]:
        """The coach cannot be heard (its speaker is gone): stop the clock as a pause does,
        with nothing said (nobody would hear it). `release` starts it again; a command in
        between (resume, stop, another routine) ends the hold as it ends a pause."""
        out = self.tick(now)
        if self._state not in _RUNNING:
            return out
        self._paused_from = self._state
        self._paused_at = now
        self._state = State.PAUSED
        self._held = True
        out.append(self._changed(now))
        return out

    @property
    def held(self) -> bool:
        """Paused by `hold`, waiting for `release`."""
        return self._held

    def release(self, now: float) -> list[Output]:
        """The coach can be heard again: a routine `hold` paused goes on where it stopped,
        saying where it stands (the resume line). Nothing else changes: a pause the user
        asked for, or a pain report's, stays."""
        if not self._held:
            return []
        self._held = False
        return self._resume(now)

    # --- commands ---------------------------------------------------------------------

    def handle(self, command: str, slots: Mapping[str, str], now: float) -> list[Output]:
        """Apply a command (an intent name) at clock time `now`."""
        out = self.tick(now)
        if self._pain_hold and held_after_pain(command, slots, self._routine):
            out.append(self._reply("pain_hold", now, priority=Priority.URGENT))
        elif (handler := self._handlers().get(command)) is not None:
            out.extend(handler(slots, now))
        return out

    def handles(self) -> frozenset[str]:
        """The intents the player carries out."""
        return frozenset(self._handlers())

    def _handlers(self) -> dict[str, Callable[[Mapping[str, str], float], list[Output]]]:
        return {
            IntentName.START_ROUTINE: self._start,
            IntentName.PAUSE: lambda _s, now: self._pause(now),
            IntentName.RESUME: lambda _s, now: self._resume(now),
            IntentName.NEXT: lambda _s, now: self._jump(now, self._next_exercise_index),
            IntentName.PREVIOUS: lambda _s, now: self._jump(now, self._previous_index),
            IntentName.RESTART: lambda _s, now: self._jump(now, self._repeat_index),
            IntentName.TIME_LEFT: lambda _s, now: self._time_left(now),
            IntentName.WHATS_NEXT: lambda _s, now: self._whats_next(now),
            IntentName.FORM: lambda _s, now: self._form(now),
            IntentName.STOP: lambda _s, now: self._stop(now),
            IntentName.HELP: lambda _s, now: [self._help(now)],
            IntentName.LIST_ROUTINES: lambda _s, now: [self._reply("list_routines", now,
                                                          routines=self._routine_names())],
            IntentName.PAIN: lambda _s, now: self._pain(now),
        }

    def _help(self, now: float) -> Say:
        """What can be said now: during a routine, while paused, or before one."""
        key = {State.PAUSED: "paused", **dict.fromkeys(_RUNNING, "running")}.get(self.state, "idle")
        if key == "idle" and self._stopped is not None:
            key = "stopped"  # resume takes the stop back
        return self._reply(f"help_{key}", now, routines=self._routine_names())

    def _start(self, slots: Mapping[str, str], now: float) -> list[Output]:
        routine = self._routines.get(slots.get("routine", ""))
        if routine is None:
            return [self._reply("unknown_routine", now, routines=self._routine_names())]
        out: list[Output] = []
        if self._routine is not None and self._state in (*_RUNNING, State.PAUSED):
            out.append(self._reply("switching", now, old=self._routine.name.lower()))
        self._stopped = None
        self._routine = routine
        self._segments = plan_routine(routine, self._phrases, self._speech_seconds)
        out.extend(self._enter(0, now))
        return out

    def _pause(self, now: float) -> list[Output]:
        self._held = False  # asked for: it stays paused when the speaker comes back
        if self._state is State.PAUSED:
            return [self._reply("already_paused", now)]
        if self._state not in _RUNNING:
            return [self._reply("nothing_running", now)]
        self._paused_from = self._state
        self._paused_at = now
        self._state = State.PAUSED
        return [self._changed(now), self._reply("paused", now, priority=Priority.URGENT)]

    def _resume(self, now: float) -> list[Output]:
        out: list[Output] = []
        if self._state is State.IDLE and self._stopped is not None:
            out.append(self._take_back_stop(now))
        if self._state is not State.PAUSED or self._paused_from is None:
            key = "not_paused" if self._state in _RUNNING else "nothing_running"
            return [self._reply(key, now)]
        self._segment_start += now - self._paused_at
        self._state = self._paused_from
        self._paused_from = None
        self._busy_until = now
        here, _ = self.remaining(now)
        segment = self._segments[self._index]
        if segment.kind is SegmentKind.EXERCISE:
            reply = self._reply("resumed", now, remaining=say_seconds(here),
                                exercise=self._exercise_name(segment))
        elif segment.kind is SegmentKind.REST:
            reply = self._reply("resumed_rest", now, remaining=say_seconds(here))
        else:
            reply = self._reply("resumed_intro", now)
        return [*out, self._changed(now), reply]

    def _take_back_stop(self, now: float) -> StateChanged:
        """Back to where the last stop left off, paused there since the stop."""
        place, self._stopped = self._stopped, None
        assert place is not None
        self._routine, self._segments = place.routine, place.segments
        self._index, self._segment_start = place.index, place.segment_start
        self._paused_from, self._paused_at = place.paused_from, place.paused_at
        self._state = State.PAUSED
        self._pending = list(place.pending)
        return self._changed(now)

    def _jump(self, now: float, target: Callable[[], int | None]) -> list[Output]:
        if self.segment is None:
            return [self._reply("nothing_running", now)]
        # The target is found only now: before a first start there are no segments to search.
        index = target()
        self._paused_from = None
        # No reply of its own: the exercise's start line says where we are.
        return self._enter(len(self._segments) if index is None else index, now)

    def _time_left(self, now: float) -> list[Output]:
        segment = self.segment
        if segment is None or self._routine is None:
            return [self._reply("nothing_running", now)]
        here, total = self.remaining(now)
        if segment.kind is SegmentKind.INTRO:
            total = self._routine.total_seconds  # what the intro itself says: the exercises
        fields: dict[str, object] = {"remaining": say_seconds(here), "total": say_about(total),
                                     "routine": self._routine.name.lower()}
        key = {SegmentKind.EXERCISE: "time_left", SegmentKind.REST: "time_left_rest"}.get(
            segment.kind, "time_left_intro"
        )
        text = self._phrases[key].format(exercise=self._exercise_name(segment), **fields)
        return [self._say(text, now, Priority.REPLY, "reply")]

    def _whats_next(self, now: float) -> list[Output]:
        if self.segment is None or self._routine is None:
            return [self._reply("nothing_running", now)]
        upcoming = self._upcoming()
        if upcoming is None:
            return [self._reply("whats_next_last", now)]
        return [self._reply("whats_next", now, next=upcoming)]

    def _form(self, now: float) -> list[Output]:
        segment = self.segment
        if segment is None or self._routine is None:
            return [self._reply("nothing_running", now)]
        exercise = self._routine.exercises[segment.step - 1]
        parts = [exercise.how, *(cue.text for cue in exercise.cues[:2])]
        text = " ".join(part for part in parts if part)
        if not text:
            return [self._reply("form_none", now)]
        return [self._say(f"{exercise.name.capitalize()}: {text}", now, Priority.REPLY, "reply")]

    def _stop(self, now: float) -> list[Output]:
        if self._routine is None or self._state not in (*_RUNNING, State.PAUSED):
            return [self._reply("nothing_running", now)]
        name = self._routine.name
        paused = self._state is State.PAUSED
        going = _STATE_OF[self._segments[self._index].kind]  # what resume goes back to
        self._stopped = _Place(self._routine, self._segments, self._index, self._segment_start,
                               going, self._paused_at if paused else now, tuple(self._pending))
        self._state = State.IDLE
        self._pending = []
        self._paused_from = None
        out: list[Output] = [self._changed(now)]
        out.append(self._reply("stopped", now, routine=name.lower(), priority=Priority.URGENT))
        self._routine = None
        return out

    def _pain(self, now: float) -> list[Output]:
        self._held = False  # only the user's resume goes on after a pain report
        out: list[Output] = []
        running = self._state in _RUNNING
        if running:
            self._paused_from = self._state
            self._paused_at = now
            self._state = State.PAUSED
            out.append(self._changed(now))
        out.append(self._reply("pain", now, priority=Priority.URGENT))
        if running or self._state is State.PAUSED:
            self._pain_hold = True
            out.append(self._reply("pain_paused", now, priority=Priority.URGENT))
        return out

    # --- moving between segments ------------------------------------------------------

    def _enter(self, index: int, at: float) -> list[Output]:
        if self._routine is None:
            return []
        if index >= len(self._segments):
            self._state = State.FINISHED
            self._pending = []
            return [
                self._changed(at),
                self._reply("finished", at, outro=self._routine.outro.strip(),
                            priority=Priority.TRANSITION, kind="finish"),
            ]
        self._index = index
        self._segment_start = at
        segment = self._segments[index]
        self._state = _STATE_OF[segment.kind]
        self._pending = list(segment.lines)
        out: list[Output] = [self._changed(at)]
        out.extend(self.tick(at))
        return out

    def _next_exercise_index(self) -> int | None:
        for index in range(self._index + 1, len(self._segments)):
            if self._segments[index].kind is SegmentKind.EXERCISE:
                return index
        return None

    def _previous_index(self) -> int | None:
        """The exercise before this one; from a rest, the one just finished."""
        current = self._segments[self._index]
        for index in range(self._index - 1, -1, -1):
            segment = self._segments[index]
            if segment.kind is SegmentKind.EXERCISE and (
                current.kind is not SegmentKind.EXERCISE or segment.step != current.step
                or segment.side != current.side
            ):
                return index
        return self._repeat_index()

    def _repeat_index(self) -> int:
        """This exercise again; from a rest, the one just finished."""
        if self._segments[self._index].kind is SegmentKind.REST:
            return max(0, self._index - 1)
        return self._index

    def _segment_end(self) -> float:
        return self._segment_start + self._segments[self._index].seconds

    # --- saying things ----------------------------------------------------------------

    def _exercise_name(self, segment: Segment) -> str:
        if self._routine is None:
            return ""
        exercise = self._routine.exercises[segment.step - 1]
        if segment.side is None:
            return exercise.name
        return f"{exercise.name}, {segment.side.value} side"

    def _routine_names(self) -> str:
        return join_words([r.name.lower() for r in self._routines.values()])

    def _say(self, text: str, at: float, priority: Priority, kind: str) -> Say:
        self._busy_until = max(self._busy_until, at) + self._speech_seconds(text)
        return Say(text, at, priority, kind)

    def _reply(
        self,
        key: str,
        now: float,
        *,
        priority: Priority = Priority.REPLY,
        kind: str = "reply",
        **fields: object,
    ) -> Say:
        return self._say(self._phrases[key].format(**fields), now, priority, kind)

    def _changed(self, at: float) -> StateChanged:
        self._pain_hold = self._pain_hold and self._state is State.PAUSED
        self._held = self._held and self._state is State.PAUSED
        segment = self.segment
        return StateChanged(
            self._state,
            at,
            self._routine.id if self._routine is not None else None,
            segment.step if segment is not None else None,
            segment.side if segment is not None else None,
            self._progress(at),
        )

    def _progress(self, at: float) -> Progress | None:
        segment = self.segment
        if segment is None or self._routine is None:
            return None
        here, total = self.remaining(at)
        exercise: str | None = None
        if segment.kind is SegmentKind.EXERCISE:
            title = self._exercise_name(segment)
            exercise = self._routine.exercises[segment.step - 1].name
            amount = dose(self._phrases, self._routine.exercises[segment.step - 1])
        elif segment.kind is SegmentKind.REST:
            title, amount = self._phrases["screen_rest"], ""
        else:
            title, amount = self._phrases["screen_intro"], ""
        return Progress(
            routine=self._routine.name,
            title=title,
            exercise=exercise,
            dose=amount,
            steps=len(self._routine.exercises),
            segment_seconds=segment.seconds,
            segment_left=here,
            routine_seconds=sum(s.seconds for s in self._segments),
            routine_left=total,
            running=self._state in _RUNNING,
            upcoming=self._upcoming(),
        )

    def _upcoming(self) -> str | None:
        """The next exercise (or the next side of this one) described; None at the last."""
        index = self._next_exercise_index()
        if index is None or self._routine is None:
            return None
        segment = self._segments[index]
        exercise = self._routine.exercises[segment.step - 1]
        if segment.side is not None and segment.side != exercise.sides[0]:
            return f"{exercise.name}, {segment.side.value} side"
        return describe_next(self._phrases, exercise)

