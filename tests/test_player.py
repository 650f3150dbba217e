"""The routine player on a fake clock.

A whole routine's timeline to the second, every command in every state, pause/resume
arithmetic, late ticks, and speech that never overlaps. Speech lengths come from a
deterministic `speech_seconds` (0.4 s a word) so every expectation is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.content.model import Cue, Exercise, Routine, Side
from coach.core.plan import Priority
from coach.core.player import Output, Player, Say, State, StateChanged
from coach.core.spoken import estimate_seconds
from coach.core.timeline import timeline
from coach.settings.session import PlanSettings

PHRASES_PATH = Path(__file__).resolve().parents[1] / "routines" / "phrases.yaml"
GAP = PlanSettings().gap_s
SECONDS_PER_WORD = 0.4

SayRow = tuple[float, str, str]
StateRow = tuple[float, State, int | None, Side | None]


def speech_seconds(text: str) -> float:
    """Deterministic speech length: 0.4 s per word."""
    return SECONDS_PER_WORD * len(text.split())


@pytest.fixture(scope="module")
def phrases() -> dict[str, str]:
    with PHRASES_PATH.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return {str(key): str(value) for key, value in data.items()}


SMALL = Routine(
    id="test",
    name="Test warm-up",
    aliases=(),
    intro="Easy pace.",
    outro="Nice work.",
    exercises=(
        Exercise(
            "marching in place",
            seconds=30.0,
            how="March on the spot.",
            cues=(Cue("Swing your arms."), Cue("Chest up.", at=10.0)),
            rest_after=12.0,
        ),
        Exercise(
            "leg swings",
            seconds=12.0,
            sides=(Side.LEFT, Side.RIGHT),
            how="Hold a wall for balance.",
            cues=(Cue("Stand tall.", at=2.0),),
            rest_after=6.0,
        ),
        Exercise(
            "hip hinge",
            seconds=16.0,
            reps=4,
            tempo=4.0,
            how="Hips back.",
            cues=(Cue("Flat back."),),
        ),
    ),
)
"""Timed, sided and counted exercises; one rest with a countdown, one too short for it.

The three set-up lines take the three places one can take: the first in the intro, the
second in the long rest before it, the third (after a rest too short for it) in its exercise.
"""

STRETCH = Routine(
    id="stretch",
    name="Quick stretch",
    aliases=(),
    intro="Breathe out.",
    outro="Done.",
    exercises=(Exercise("hamstring stretch", seconds=20.0, cues=(Cue("Relax."),)),),
)

ROUTINES = {SMALL.id: SMALL, STRETCH.id: STRETCH}

SMALL_INTRO = (
    "Test warm-up: 3 exercises, about 1 minute. Easy pace. First up: marching in place, 30 seconds."
)

# Derived by hand from the spec. The intro says its text (16 words: 0 - 6.4 s), then after a
# 0.3 s gap the first set-up line (4 words: 6.7 - 8.3 s); it lasts ceil(8.3 + 1) = 10 s.
# Lines keep a 0.3 s gap; a cue that does not fit at its second takes the first free moment
# after it (on a half-second grid, or right after another line's end and gap). Free cues start
# a second after the start line. The 12 s rest has room for the leg swings' set-up line after
# its preview (5.6 s + 0.3 s, ending 7.9 s, before 12 - 3 - 0.3 = 8.7 s); the 6 s rest has
# room for neither its countdown nor the hip hinge's set-up line, which the exercise says.
GOLDEN_SAYS: list[SayRow] = [
    (0.0, SMALL_INTRO, "intro"),
    (6.7, "March on the spot.", "how"),
    (10.0, "Go! Marching in place, 30 seconds.", "start"),
    (13.4, "Swing your arms.", "cue"),
    (20.0, "Chest up.", "cue"),
    (25.0, "Halfway.", "halfway"),
    (30.0, "10 seconds.", "ten"),
    (37.0, "3", "count"),
    (38.0, "2", "count"),
    (39.0, "1", "count"),
    (40.0, "Rest 12 seconds. Next up: leg swings, 12 seconds each side, left side first.", "rest"),
    (45.9, "Hold a wall for balance.", "how"),
    (49.0, "3", "count"),
    (50.0, "2", "count"),
    (51.0, "1", "count"),
    (52.0, "Go! Leg swings, left side, 12 seconds.", "start"),
    (55.1, "Stand tall.", "cue"),
    (61.0, "3", "count"),
    (62.0, "2", "count"),
    (63.0, "1", "count"),
    (64.0, "Switch sides: right side. Go!", "start"),
    (66.3, "Stand tall.", "cue"),
    (73.0, "3", "count"),
    (74.0, "2", "count"),
    (75.0, "1", "count"),
    (76.0, "Rest 6 seconds. Next up: hip hinge, 4 reps.", "rest"),
    (82.0, "Go! Hip hinge, 4 reps.", "start"),
    (84.3, "Hips back.", "how"),
    (86.0, "2", "rep"),
    (86.7, "Flat back.", "cue"),
    (90.0, "3", "rep"),
    (94.0, "Last one.", "rep"),
    (98.0, "Nice work.", "finish"),
]

GOLDEN_STATES: list[StateRow] = [
    (0.0, State.INTRO, 1, None),
    (10.0, State.EXERCISE, 1, None),
    (40.0, State.REST, 2, None),
    (52.0, State.EXERCISE, 2, Side.LEFT),
    (64.0, State.EXERCISE, 2, Side.RIGHT),
    (76.0, State.REST, 3, None),
    (82.0, State.EXERCISE, 3, None),
    (98.0, State.FINISHED, None, None),
]
SMALL_END = 98.0

COMMANDS = (
    "start_routine", "pause", "resume", "next", "previous", "restart", "time_left",
    "whats_next", "form", "stop", "help", "list_routines", "pain",
)  # fmt: skip


# --- helpers --------------------------------------------------------------------------


def says(outputs: Sequence[Output]) -> list[SayRow]:
    return [(round(o.at, 3), o.text, o.kind) for o in outputs if isinstance(o, Say)]


def states(outputs: Sequence[Output]) -> list[StateRow]:
    return [
        (round(o.at, 3), o.state, o.step, o.side) for o in outputs if isinstance(o, StateChanged)
    ]


def replies(outputs: Sequence[Output]) -> list[str]:
    return [o.text for o in outputs if isinstance(o, Say) and o.kind == "reply"]


def make_player(phrases: dict[str, str]) -> Player:
    return Player(ROUTINES, phrases, speech_seconds)


def started(phrases: dict[str, str], at: float = 0.0) -> Player:
    player = make_player(phrases)
    player.handle("start_routine", {"routine": SMALL.id}, at)
    return player


def run_to(player: Player, end: float) -> list[Output]:
    """Tick at every deadline up to `end`, then at `end`: what a real loop would do."""
    out: list[Output] = []
    deadline = player.next_deadline()
    while deadline is not None and deadline <= end:
        out.extend(player.tick(deadline))
        deadline = player.next_deadline()
    out.extend(player.tick(end))
    return out


def shifted(rows: Sequence[SayRow], after: float, by: float) -> list[SayRow]:
    """The golden lines due after `after`, each `by` seconds later."""
    return [(round(at + by, 3), text, kind) for at, text, kind in rows if at > after]


# --- the whole timeline ---------------------------------------------------------------


def test_golden_timeline(phrases: dict[str, str]) -> None:
    out = timeline(SMALL, phrases, speech_seconds)
    assert says(out) == GOLDEN_SAYS
    assert states(out) == GOLDEN_STATES
    assert all(o.routine == SMALL.id for o in out if isinstance(o, StateChanged))


def test_golden_timeline_is_shifted_by_its_start(phrases: dict[str, str]) -> None:
    out = timeline(SMALL, phrases, speech_seconds, start=1000.25)
    assert says(out) == shifted(GOLDEN_SAYS, after=-1.0, by=1000.25)


def test_timeline_priorities(phrases: dict[str, str]) -> None:
    out = [o for o in timeline(SMALL, phrases, speech_seconds) if isinstance(o, Say)]
    by_kind = {o.kind: o.priority for o in out}
    assert by_kind["count"] == by_kind["rep"] == Priority.COUNTDOWN
    assert by_kind["start"] == by_kind["halfway"] == by_kind["ten"] == Priority.TRANSITION
    assert by_kind["intro"] == by_kind["how"] == by_kind["rest"] == Priority.TRANSITION
    assert by_kind["cue"] == Priority.CUE


def test_golden_timeline_never_overlaps(phrases: dict[str, str]) -> None:
    rows = GOLDEN_SAYS
    for (at, text, _), (next_at, _, _) in pairwise(rows):
        assert at + speech_seconds(text) + GAP <= next_at + 1e-6, (at, text)


def test_huge_tick_emits_every_line_at_its_scheduled_time(phrases: dict[str, str]) -> None:
    player = started(phrases)
    out = player.tick(10_000.0)
    assert says(out) == GOLDEN_SAYS[1:]
    assert states(out) == GOLDEN_STATES[1:]
    assert player.state is State.FINISHED
    assert player.tick(20_000.0) == []


def test_late_ticks_change_nothing_but_when_they_are_asked(phrases: dict[str, str]) -> None:
    player = started(phrases)
    out: list[Output] = []
    for now in (3.3, 30.7, 31.0, 55.5, 90.01, 200.0):
        out.extend(player.tick(now))
    assert says(out) == GOLDEN_SAYS[1:]


def test_ticks_before_anything_is_due_say_nothing(phrases: dict[str, str]) -> None:
    player = started(phrases)
    assert player.tick(6.699) == []
    assert player.next_deadline() == pytest.approx(6.7)
    assert says(player.tick(9.999)) == [(6.7, "March on the spot.", "how")]
    assert player.state is State.INTRO
    assert player.next_deadline() == pytest.approx(10.0)


# --- every command in every state ------------------------------------------------------

SETUP_TIMES = {
    State.IDLE: 5.0,
    State.INTRO: 3.0,
    State.EXERCISE: 13.0,
    State.REST: 42.0,
    State.PAUSED: 20.0,
    State.FINISHED: 101.0,
}

FORM_1 = "Marching in place: March on the spot. Swing your arms. Chest up."
NEXT_FROM_1 = "Next up: leg swings, 12 seconds each side, left side first."
NOTHING = "Nothing is running."
GO_1 = "Go! Marching in place, 30 seconds."
GO_2_LEFT = "Go! Leg swings, left side, 12 seconds."
TIME_LEFT_AT_13 = "27 seconds of marching in place, about 1 minute left in the test warm-up."

# (state before, command) -> (state after, start of the first thing said)
EXPECTED: dict[State, dict[str, tuple[State, str]]] = {
    State.IDLE: {
        "start_routine": (State.INTRO, SMALL_INTRO),
        "pause": (State.IDLE, NOTHING),
        "resume": (State.IDLE, NOTHING),
        "next": (State.IDLE, NOTHING),
        "previous": (State.IDLE, NOTHING),
        "restart": (State.IDLE, NOTHING),
        "time_left": (State.IDLE, NOTHING),
        "whats_next": (State.IDLE, NOTHING),
        "form": (State.IDLE, NOTHING),
        "stop": (State.IDLE, NOTHING),
        "help": (State.IDLE, "You can say: start the warm-up, what routines"),
        "list_routines": (State.IDLE, "I have test warm-up and quick stretch."),
        "pain": (State.IDLE, "Let's stop here. Sharp or persistent pain"),
    },
    State.INTRO: {
        "start_routine": (State.INTRO, "Stopping the test warm-up."),
        "pause": (State.PAUSED, "Paused. Say resume"),
        "resume": (State.INTRO, "We're not paused."),
        "next": (State.EXERCISE, GO_1),
        "previous": (State.INTRO, SMALL_INTRO),
        "restart": (State.INTRO, SMALL_INTRO),
        "time_left": (State.INTRO, "We haven't started yet: about 1 minute of test warm-up"),
        "whats_next": (State.INTRO, "Next up: marching in place, 30 seconds."),
        "form": (State.INTRO, FORM_1),
        "stop": (State.IDLE, "Stopped the test warm-up."),
        "help": (State.INTRO, "You can say: pause, skip,"),
        "list_routines": (State.INTRO, "I have test warm-up"),
        "pain": (State.PAUSED, "Let's stop here."),
    },
    State.EXERCISE: {
        "start_routine": (State.INTRO, "Stopping the test warm-up."),
        "pause": (State.PAUSED, "Paused. Say resume"),
        "resume": (State.EXERCISE, "We're not paused."),
        "next": (State.EXERCISE, GO_2_LEFT),
        "previous": (State.EXERCISE, GO_1),
        "restart": (State.EXERCISE, GO_1),
        "time_left": (State.EXERCISE, TIME_LEFT_AT_13),
        "whats_next": (State.EXERCISE, NEXT_FROM_1),
        "form": (State.EXERCISE, FORM_1),
        "stop": (State.IDLE, "Stopped the test warm-up."),
        "help": (State.EXERCISE, "You can say: pause, skip,"),
        "list_routines": (State.EXERCISE, "I have test warm-up"),
        "pain": (State.PAUSED, "Let's stop here."),
    },
    State.REST: {
        "start_routine": (State.INTRO, "Stopping the test warm-up."),
        "pause": (State.PAUSED, "Paused. Say resume"),
        "resume": (State.REST, "We're not paused."),
        "next": (State.EXERCISE, GO_2_LEFT),
        "previous": (State.EXERCISE, GO_1),
        "restart": (State.EXERCISE, GO_1),
        "time_left": (
            State.REST,
            "10 seconds of rest, under a minute left in the test warm-up.",
        ),
        "whats_next": (State.REST, NEXT_FROM_1),
        "form": (State.REST, "Leg swings: Hold a wall for balance. Stand tall."),
        "stop": (State.IDLE, "Stopped the test warm-up."),
        "help": (State.REST, "You can say: pause, skip,"),
        "list_routines": (State.REST, "I have test warm-up"),
        "pain": (State.PAUSED, "Let's stop here."),
    },
    State.PAUSED: {
        "start_routine": (State.INTRO, "Stopping the test warm-up."),
        "pause": (State.PAUSED, "Already paused."),
        "resume": (State.EXERCISE, "Resuming. 27 seconds of marching in place."),
        "next": (State.EXERCISE, GO_2_LEFT),
        "previous": (State.EXERCISE, GO_1),
        "restart": (State.EXERCISE, GO_1),
        "time_left": (State.PAUSED, TIME_LEFT_AT_13),
        "whats_next": (State.PAUSED, NEXT_FROM_1),
        "form": (State.PAUSED, FORM_1),
        "stop": (State.IDLE, "Stopped the test warm-up."),
        "help": (State.PAUSED, "You can say: resume,"),
        "list_routines": (State.PAUSED, "I have test warm-up"),
        "pain": (State.PAUSED, "Let's stop here."),
    },
    State.FINISHED: {
        "start_routine": (State.INTRO, SMALL_INTRO),
        "pause": (State.FINISHED, NOTHING),
        "resume": (State.FINISHED, NOTHING),
        "next": (State.FINISHED, NOTHING),
        "previous": (State.FINISHED, NOTHING),
        "restart": (State.FINISHED, NOTHING),
        "time_left": (State.FINISHED, NOTHING),
        "whats_next": (State.FINISHED, NOTHING),
        "form": (State.FINISHED, NOTHING),
        "stop": (State.FINISHED, NOTHING),
        "help": (State.FINISHED, "You can say: start the warm-up,"),
        "list_routines": (State.FINISHED, "I have test warm-up"),
        "pain": (State.FINISHED, "Let's stop here."),
    },
}


def player_in(state: State, phrases: dict[str, str]) -> tuple[Player, float]:
    """A player brought into `state` on the SMALL routine, and the time to act at."""
    now = SETUP_TIMES[state]
    player = make_player(phrases)
    if state is not State.IDLE:
        player.handle("start_routine", {"routine": SMALL.id}, 0.0)
    if state is State.PAUSED:
        run_to(player, 13.0)
        player.handle("pause", {}, 13.0)
    run_to(player, now)
    if player.state is not state:
        raise RuntimeError(f"set-up reached {player.state}, not {state}")
    return player, now


def test_expectations_cover_every_command_in_every_state() -> None:
    assert set(EXPECTED) == set(State)
    assert all(set(table) == set(COMMANDS) for table in EXPECTED.values())


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_every_state(state: State, command: str, phrases: dict[str, str]) -> None:
    player, now = player_in(state, phrases)
    out = player.handle(command, {"routine": SMALL.id}, now)
    expected_state, expected_start = EXPECTED[state][command]
    assert player.state is expected_state
    spoken = [o for o in out if isinstance(o, Say)]
    assert spoken, "every command gets an answer"
    assert spoken[0].at == now
    assert spoken[0].text.startswith(expected_start)
    changes = [o for o in out if isinstance(o, StateChanged)]
    if expected_state is not state:
        assert changes[-1].state is expected_state
        assert changes[-1].at == now


JUMPS = ("next", "previous", "restart")


@pytest.mark.parametrize("state", [State.INTRO, State.EXERCISE, State.REST, State.PAUSED])
@pytest.mark.parametrize("command", JUMPS)
def test_jumps_say_no_reply_of_their_own(
    state: State, command: str, phrases: dict[str, str]
) -> None:
    player, now = player_in(state, phrases)
    out = player.handle(command, {}, now)
    spoken = [o for o in out if isinstance(o, Say)]
    assert replies(out) == []
    # What is said is the first line of the segment entered, at its own priority.
    assert spoken[0].kind in ("intro", "start")
    assert spoken[0].priority is Priority.TRANSITION
    segment = player.segment
    assert segment is not None
    assert spoken[0].text == segment.lines[0].text


@pytest.mark.parametrize("state", list(State))
def test_unknown_command_is_ignored(state: State, phrases: dict[str, str]) -> None:
    player, now = player_in(state, phrases)
    assert player.handle("dance", {}, now) == []
    assert player.state is state


# --- pause and resume -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pause_at", "paused_for"),
    [
        (20.0, 7.25),  # between two cues
        (23.0, 0.5),
        (38.0, 100.0),  # mid-countdown
        (40.0, 3.0),  # the rest's first second
        (44.0, 1.0),  # before the set-up line said in the rest
        (3.0, 12.5),  # mid-intro, before its set-up line
        (7.0, 2.0),  # mid-intro, during its set-up line
        (56.0, 2.0),  # first side
        (67.0, 9.5),  # second side
        (76.0, 1.0),  # the short rest's first second
        (87.0, 0.001),
    ],
)
def test_pause_shifts_every_later_deadline_by_the_time_paused(
    pause_at: float, paused_for: float, phrases: dict[str, str]
) -> None:
    player = started(phrases)
    before = run_to(player, pause_at)
    player.handle("pause", {}, pause_at)
    resume_at = pause_at + paused_for
    player.handle("resume", {}, resume_at)
    after = run_to(player, resume_at + SMALL_END)

    assert says(before) == [row for row in GOLDEN_SAYS[1:] if row[0] <= pause_at]
    assert says(after) == shifted(GOLDEN_SAYS, after=pause_at, by=paused_for)
    late_states = [
        (round(at + paused_for, 3), *rest) for at, *rest in GOLDEN_STATES if at > pause_at
    ]
    assert states(after) == late_states


def test_resume_reply_drops_a_cue_it_covers_and_nothing_else(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 85.0)
    player.handle("pause", {}, 85.0)
    out = player.handle("resume", {}, 90.0)
    # 6 words: spoken 90.0 - 92.4, over the "Flat back." cue due at 86.7 + 5.0.
    assert replies(out) == ["Resuming. 13 seconds of hip hinge."]
    expected = [row for row in shifted(GOLDEN_SAYS, after=85.0, by=5.0) if row[2] != "cue"]
    assert says(run_to(player, 200.0)) == expected
    assert [row[2] for row in expected] == ["rep", "rep", "rep", "finish"]


def test_ticks_while_paused_say_nothing(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("pause", {}, 20.0)
    for now in (20.0, 21.0, 35.0, 37.5, 500.0, 10_000.0):
        assert player.tick(now) == []
        assert player.next_deadline() is None
        assert player.state is State.PAUSED


def test_time_left_is_the_same_before_pause_during_and_after_resume(
    phrases: dict[str, str],
) -> None:
    player = started(phrases)
    run_to(player, 56.4)
    before = replies(player.handle("time_left", {}, 56.4))
    remaining = player.remaining(56.4)
    player.handle("pause", {}, 56.4)
    during = replies(player.handle("time_left", {}, 300.0))
    player.handle("resume", {}, 600.0)
    after = replies(player.handle("time_left", {}, 600.0))
    assert (
        before
        == during
        == after
        == ["8 seconds of leg swings, left side, under a minute left in the test warm-up."]
    )
    assert player.remaining(600.0) == pytest.approx(remaining)
    assert remaining == pytest.approx((64.0 - 56.4, SMALL_END - 56.4))


def test_pausing_twice_keeps_the_first_pause_time(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("pause", {}, 20.0)
    again = player.handle("pause", {}, 25.0)
    assert replies(again) == ["Already paused. Say resume when you're ready."]
    assert states(again) == []
    player.handle("resume", {}, 30.0)
    assert player.next_deadline() == pytest.approx(25.0 + 10.0)  # "Halfway.", 10 s late


def test_resume_when_not_paused_changes_nothing(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    deadline = player.next_deadline()
    out = player.handle("resume", {}, 21.0)
    assert replies(out) == ["We're not paused."]
    assert states(out) == []
    assert player.state is State.EXERCISE
    assert player.next_deadline() == deadline
    assert says(run_to(player, 200.0)) == [r for r in GOLDEN_SAYS if r[0] > 21.0]


def test_resume_says_what_is_left(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 46.2)
    player.handle("pause", {}, 46.2)
    out = player.handle("resume", {}, 50.0)
    assert replies(out) == ["Resuming. 6 seconds of rest."]
    assert states(out) == [(50.0, State.REST, 2, None)]


def test_resume_during_intro(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("pause", {}, 2.0)
    assert replies(player.handle("resume", {}, 9.0)) == ["Resuming."]
    assert player.next_deadline() == pytest.approx(6.7 + 7.0)  # the set-up line
    out = run_to(player, 17.0)
    assert says(out) == [(13.7, "March on the spot.", "how"), (17.0, GO_1, "start")]
    assert states(out) == [(17.0, State.EXERCISE, 1, None)]


# --- speech never overlaps; cues give way, the clock does not ------------------------


def test_cue_due_during_a_reply_is_dropped_and_the_clock_is_not(
    phrases: dict[str, str],
) -> None:
    player = started(phrases)
    run_to(player, 13.0)
    out = player.handle("time_left", {}, 13.0)
    # 14 words: spoken from 13.0 to 18.6, over the 13.4 cue but not the 20.0 one.
    assert replies(out) == [TIME_LEFT_AT_13]
    after = says(run_to(player, 42.0))
    assert (13.4, "Swing your arms.", "cue") not in after
    assert after == [row for row in GOLDEN_SAYS if 13.4 < row[0] <= 42.0]


def test_countdown_and_transitions_are_never_dropped(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 22.0)
    player.handle("help", {}, 22.0)  # about 15 s of speech: over halfway, 10 s and 3-2-1
    after = says(run_to(player, 40.0))
    assert after == [row for row in GOLDEN_SAYS if 22.0 < row[0] <= 40.0]
    assert [row[2] for row in after] == ["halfway", "ten", "count", "count", "count", "rest"]


@pytest.mark.parametrize(("reply_at", "cue_said"), [(18.0, True), (18.7, True), (18.9, False)])
def test_cue_is_said_only_once_the_reply_has_ended(
    reply_at: float, cue_said: bool, phrases: dict[str, str]
) -> None:
    player = started(phrases)
    run_to(player, reply_at)
    player.handle("resume", {}, reply_at)  # "We're not paused.": 3 words, 1.2 s
    assert ((20.0, "Chest up.", "cue") in says(run_to(player, 21.0))) is cue_said


def test_a_reply_waits_for_the_line_being_spoken(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 53.0)
    # "Go! Leg swings, left side, 12 seconds." runs 52.0 - 54.8, so the reply runs
    # 54.8 - 56.0 and the 55.1 cue gives way.
    player.handle("resume", {}, 53.0)
    assert says(run_to(player, 64.0)) == [r for r in GOLDEN_SAYS if 55.1 < r[0] <= 64.0]


# --- next, previous, repeat, finish, stop ---------------------------------------------


GO_2_RIGHT = "Switch sides: right side. Go!"
GO_3 = "Go! Hip hinge, 4 reps."


def test_next_starts_the_next_exercise_now(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 13.0)
    out = player.handle("next", {}, 13.0)
    assert says(out) == [(13.0, GO_2_LEFT, "start")]
    assert states(out) == [(13.0, State.EXERCISE, 2, Side.LEFT)]
    assert player.next_deadline() == pytest.approx(13.0 + 3.1)  # the cue, slid past "Go"
    # The left side plays in full from 13.0; the skipped rest's set-up line is not said.
    left_side = [row for row in GOLDEN_SAYS if 52.0 < row[0] <= 64.0]
    assert says(run_to(player, 25.0)) == shifted(left_side, after=52.0, by=13.0 - 52.0)


def test_next_goes_side_by_side_then_past_the_rest(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 11.0)
    steps = []
    for now in (12.0, 13.0, 14.0, 15.0):
        out = player.handle("next", {}, now)
        steps.append((says(out), states(out)))
    assert steps == [
        ([(12.0, GO_2_LEFT, "start")], [(12.0, State.EXERCISE, 2, Side.LEFT)]),
        ([(13.0, GO_2_RIGHT, "start")], [(13.0, State.EXERCISE, 2, Side.RIGHT)]),
        ([(14.0, GO_3, "start")], [(14.0, State.EXERCISE, 3, None)]),
        ([(15.0, "Nice work.", "finish")], [(15.0, State.FINISHED, None, None)]),
    ]
    assert says(player.tick(16.0)) == []


def test_next_on_the_last_exercise_finishes(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 85.0)
    out = player.handle("next", {}, 85.0)
    assert says(out) == [(85.0, "Nice work.", "finish")]
    assert player.state is State.FINISHED
    assert player.segment is None


@pytest.mark.parametrize(
    ("now", "expected", "first_line"),
    [
        # nothing before the intro: it starts again
        (3.0, (State.INTRO, 1, None), (SMALL_INTRO, "intro")),
        # the first exercise restarts
        (13.0, (State.EXERCISE, 1, None), (GO_1, "start")),
        # from a rest: the one just finished
        (42.0, (State.EXERCISE, 1, None), (GO_1, "start")),
        # from the first side: the exercise before
        (55.0, (State.EXERCISE, 1, None), (GO_1, "start")),
        # from the second side: the first side
        (67.0, (State.EXERCISE, 2, Side.LEFT), (GO_2_LEFT, "start")),
        (85.0, (State.EXERCISE, 2, Side.RIGHT), (GO_2_RIGHT, "start")),
    ],
)
def test_previous(
    now: float,
    expected: tuple[State, int, Side | None],
    first_line: tuple[str, str],
    phrases: dict[str, str],
) -> None:
    player = started(phrases)
    run_to(player, now)
    out = player.handle("previous", {}, now)
    assert says(out) == [(now, *first_line)]
    assert [(o.state, o.step, o.side) for o in out if isinstance(o, StateChanged)] == [expected]
    segment = player.segment
    assert segment is not None
    assert player.remaining(now)[0] == pytest.approx(segment.seconds)


@pytest.mark.parametrize(
    ("now", "expected", "first_line"),
    [
        (3.0, (State.INTRO, 1, None), (SMALL_INTRO, "intro")),
        (20.0, (State.EXERCISE, 1, None), (GO_1, "start")),
        (42.0, (State.EXERCISE, 1, None), (GO_1, "start")),
        (67.0, (State.EXERCISE, 2, Side.RIGHT), (GO_2_RIGHT, "start")),
        (85.0, (State.EXERCISE, 3, None), (GO_3, "start")),
    ],
)
def test_repeat_restarts_the_exercise_from_its_first_second(
    now: float,
    expected: tuple[State, int, Side | None],
    first_line: tuple[str, str],
    phrases: dict[str, str],
) -> None:
    player = started(phrases)
    run_to(player, now)
    out = player.handle("restart", {}, now)
    assert says(out) == [(now, *first_line)]
    assert [(o.state, o.step, o.side) for o in out if isinstance(o, StateChanged)] == [expected]
    segment = player.segment
    assert segment is not None
    assert player.remaining(now)[0] == pytest.approx(segment.seconds)


@pytest.mark.parametrize(
    ("now", "segment_start", "segment_end"),
    [
        (20.0, 10.0, 40.0),  # its set-up line was said in the intro: not again
        (90.0, 82.0, 98.0),  # its set-up line is its own: said again
        (5.0, 0.0, 10.0),  # the intro again, set-up line and all
    ],
)
def test_repeat_replays_the_segment_lines_shifted(
    now: float, segment_start: float, segment_end: float, phrases: dict[str, str]
) -> None:
    player = started(phrases)
    run_to(player, now)
    player.handle("restart", {}, now)
    replay = says(run_to(player, now + segment_end - segment_start - 0.01))
    lines = [row for row in GOLDEN_SAYS if segment_start < row[0] < segment_end]
    assert replay == shifted(lines, after=segment_start, by=now - segment_start)


def test_finishing_says_the_outro_once_and_then_stays_quiet(phrases: dict[str, str]) -> None:
    player = started(phrases)
    out = run_to(player, SMALL_END)
    assert says(out)[-1] == (SMALL_END, "Nice work.", "finish")
    assert player.state is State.FINISHED
    assert player.next_deadline() is None
    assert player.remaining(SMALL_END + 1) == (0.0, 0.0)
    assert run_to(player, SMALL_END + 1000.0) == []


def test_stop_silences_the_routine(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    out = player.handle("stop", {}, 20.0)
    assert states(out) == [(20.0, State.IDLE, None, None)]
    assert replies(out) == ["Stopped the test warm-up. Say resume to carry on where you left off."]
    assert [o.priority for o in out if isinstance(o, Say)] == [Priority.URGENT]
    assert player.routine is None
    assert player.next_deadline() is None
    assert run_to(player, 500.0) == []
    assert replies(player.handle("time_left", {}, 501.0)) == [phrases["nothing_running"]]


def test_resume_takes_a_stop_back_where_it_left_off(phrases: dict[str, str]) -> None:
    # Stopped 20 s in (10 s into the marching) and resumed at 100 s: everything after the
    # stop comes 80 s later, as after a pause, and the routine ends as it would have.
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("stop", {}, 20.0)
    assert run_to(player, 100.0) == []
    out = player.handle("resume", {}, 100.0)
    assert states(out) == [(100.0, State.PAUSED, 1, None), (100.0, State.EXERCISE, 1, None)]
    assert replies(out) == ["Resuming. 20 seconds of marching in place."]
    rest = run_to(player, SMALL_END + 80.0)
    assert says(rest) == shifted(GOLDEN_SAYS, 20.0, 80.0)
    assert player.state is State.FINISHED


def test_a_stop_while_paused_resumes_from_the_pause(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 45.0)
    player.handle("pause", {}, 45.0)  # 7 s into the 12 s rest
    player.handle("stop", {}, 60.0)
    out = player.handle("resume", {}, 90.0)
    assert replies(out) == ["Resuming. 7 seconds of rest."]
    assert says(run_to(player, 200.0))[0] == (90.9, "Hold a wall for balance.", "how")


def test_a_stop_is_taken_back_once_and_not_after_another_routine(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("stop", {}, 12.0)
    player.handle("resume", {}, 13.0)
    player.handle("stop", {}, 14.0)
    assert replies(player.handle("resume", {}, 15.0))[0].startswith("Resuming.")
    player.handle("stop", {}, 16.0)
    player.handle("start_routine", {"routine": STRETCH.id}, 17.0)
    player.handle("stop", {}, 18.0)
    player.handle("resume", {}, 19.0)
    assert player.routine is not None and player.routine.id == STRETCH.id
    finished = make_player(phrases)
    finished.handle("start_routine", {"routine": STRETCH.id}, 0.0)
    run_to(finished, 500.0)
    assert replies(finished.handle("resume", {}, 501.0)) == [
        phrases["nothing_running"]]
    never = make_player(phrases)
    assert replies(never.handle("resume", {}, 1.0)) == [phrases["nothing_running"]]


def test_help_after_a_stop_says_resume_takes_it_back(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("stop", {}, 12.0)
    assert replies(player.handle("help", {}, 13.0))[0].startswith("You can say: resume, start")
    player.handle("start_routine", {"routine": STRETCH.id}, 14.0)
    player.handle("stop", {}, 15.0)
    player.handle("resume", {}, 16.0)
    run_to(player, 500.0)  # finished: nothing left to take back
    assert replies(player.handle("help", {}, 501.0))[0].startswith(
        "You can say: start the warm-up")


def test_stop_while_paused(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("pause", {}, 10.0)
    player.handle("stop", {}, 11.0)
    assert player.state is State.IDLE and player.routine is None
    assert replies(player.handle("time_left", {}, 12.0)) == [phrases["nothing_running"]]


# --- starting, switching, unknown routines --------------------------------------------


def test_unknown_routine_while_idle(phrases: dict[str, str]) -> None:
    player = make_player(phrases)
    out = player.handle("start_routine", {"routine": "yoga"}, 1.0)
    assert replies(out) == ["I don't know that routine. I have test warm-up and quick stretch."]
    assert player.state is State.IDLE


def test_start_without_a_routine_slot_is_an_unknown_routine(phrases: dict[str, str]) -> None:
    player = make_player(phrases)
    out = player.handle("start_routine", {}, 1.0)
    assert replies(out)[0].startswith("I don't know that routine.")
    assert player.state is State.IDLE


def test_unknown_routine_keeps_the_running_one_on_time(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("start_routine", {"routine": "yoga"}, 20.0)
    assert player.routine is SMALL
    assert says(run_to(player, 200.0)) == [r for r in GOLDEN_SAYS if r[0] > 20.0]


def test_switching_routines_midway(phrases: dict[str, str]) -> None:
    player = started(phrases)
    # After "Chest up." (20.0 - 20.8): the reply and the new intro queue behind nothing.
    run_to(player, 21.0)
    out = player.handle("start_routine", {"routine": STRETCH.id}, 21.0)
    out += run_to(player, 500.0)
    fresh = timeline(STRETCH, phrases, speech_seconds, start=21.0)
    assert says(out) == [(21.0, "Stopping the test warm-up.", "reply"), *says(fresh)]
    assert states(out) == states(fresh)
    assert all(o.routine == STRETCH.id for o in out if isinstance(o, StateChanged))


def test_switching_from_pause_runs_the_new_routine(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("pause", {}, 20.0)
    player.handle("start_routine", {"routine": STRETCH.id}, 30.0)
    assert player.state is State.INTRO
    assert replies(player.handle("resume", {}, 31.0)) == ["We're not paused."]
    assert player.routine is STRETCH


def test_starting_again_after_finishing(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 200.0)
    out = player.handle("start_routine", {"routine": SMALL.id}, 300.0)
    out += run_to(player, 1000.0)
    assert says(out) == shifted(GOLDEN_SAYS, after=-1.0, by=300.0)


# --- pain -----------------------------------------------------------------------------


def test_pain_while_running_pauses_and_gives_red_flag_advice(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    out = player.handle("pain", {}, 20.0)
    assert states(out) == [(20.0, State.PAUSED, 1, None)]
    assert replies(out) == [phrases["pain"], phrases["pain_paused"]]
    assert all(o.priority is Priority.URGENT for o in out if isinstance(o, Say))
    assert "healthcare professional" in phrases["pain"]
    assert run_to(player, 100.0) == []
    player.handle("resume", {}, 100.0)
    assert says(run_to(player, 300.0)) == shifted(GOLDEN_SAYS, after=20.0, by=80.0)


def test_pain_while_idle_gives_advice_only(phrases: dict[str, str]) -> None:
    player = make_player(phrases)
    out = player.handle("pain", {}, 5.0)
    assert out == [Say(phrases["pain"], 5.0, Priority.URGENT, "reply")]
    assert player.state is State.IDLE


def test_pain_while_paused_keeps_the_pause_time(phrases: dict[str, str]) -> None:
    player = started(phrases)
    player.handle("pause", {}, 20.0)
    out = player.handle("pain", {}, 25.0)
    assert states(out) == []
    assert replies(out) == [phrases["pain"], phrases["pain_paused"]]
    player.handle("resume", {}, 30.0)
    assert player.remaining(30.0)[0] == pytest.approx(40.0 - 20.0)


# --- what the replies say -------------------------------------------------------------

LEG_SWINGS_FIRST = Routine(
    id="warm-up",
    name="Warm-up",
    aliases=(),
    intro="",
    outro="Done.",
    exercises=(
        Exercise("leg swings", seconds=60.0),
        Exercise("marching", seconds=180.0),
    ),
)


def test_time_left_has_the_shape_of_the_example(phrases: dict[str, str]) -> None:
    player = Player({LEG_SWINGS_FIRST.id: LEG_SWINGS_FIRST}, phrases, speech_seconds)
    player.handle("start_routine", {"routine": "warm-up"}, 0.0)
    intro_end = player.next_deadline()
    assert intro_end is not None
    now = intro_end + 28.0
    run_to(player, now)
    assert replies(player.handle("time_left", {}, now)) == [
        "32 seconds of leg swings, about 4 minutes left in the warm-up."
    ]


def test_time_left_rounds_a_part_second_up(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 38.2)  # 1.8 s of the exercise left, 59.8 s of the routine
    assert replies(player.handle("time_left", {}, 38.2)) == [
        "2 seconds of marching in place, under a minute left in the test warm-up."
    ]


def test_whats_next_on_the_first_side_names_the_other_side(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 55.0)
    assert replies(player.handle("whats_next", {}, 55.0)) == ["Next up: leg swings, right side."]


def test_whats_next_on_the_last_exercise(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 85.0)
    assert replies(player.handle("whats_next", {}, 85.0)) == [phrases["whats_next_last"]]


def test_form_without_cues(phrases: dict[str, str]) -> None:
    bare = Routine("bare", "Bare", (), "", "", (Exercise("squats", seconds=20.0),))
    player = Player({"bare": bare}, phrases, speech_seconds)
    player.handle("start_routine", {"routine": "bare"}, 0.0)
    assert replies(player.handle("form", {}, 1.0)) == [phrases["form_none"]]


class RecordingPhrases(dict[str, str]):
    """Phrases that remember which keys were used."""

    def __init__(self, phrases: dict[str, str]) -> None:
        super().__init__(phrases)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.used.add(key)
        return super().__getitem__(key)


def test_every_phrase_the_player_uses_is_required(phrases: dict[str, str]) -> None:
    from coach.core.plan import REQUIRED_PHRASES

    recording = RecordingPhrases(phrases)
    for state in State:
        for command in COMMANDS:
            player, now = player_in(state, recording)
            player.handle(command, {"routine": SMALL.id}, now)
            run_to(player, now + 200.0)
    assert recording.used <= set(REQUIRED_PHRASES)


# --- random routines: the whole timeline never overlaps -------------------------------

NAMES = ("squats", "leg swings", "hip circles", "single leg bridge", "dead bug")
CUES = ("Breathe.", "Keep your chest lifted.", "Push through your heels, knees soft.")


@st.composite
def routines(draw: st.DrawFn) -> Routine:
    exercises = []
    for _ in range(draw(st.integers(1, 4))):
        counted = draw(st.booleans())
        reps = draw(st.integers(2, 12)) if counted else None
        tempo = draw(st.sampled_from((4.0, 5.0, 6.0))) if counted else None
        seconds = reps * tempo if reps and tempo else float(draw(st.integers(10, 90)))
        exercises.append(
            Exercise(
                draw(st.sampled_from(NAMES)),
                seconds=seconds,
                reps=reps,
                tempo=tempo,
                sides=draw(st.sampled_from(((), (Side.LEFT, Side.RIGHT)))),
                how=draw(st.sampled_from(("", "Feet hip-width apart, hands on hips."))),
                cues=tuple(
                    Cue(text, at=draw(st.none() | st.floats(0.0, seconds)))
                    for text in draw(st.lists(st.sampled_from(CUES), max_size=4))
                ),
                rest_after=float(draw(st.sampled_from((0, 10, 15, 30)))),
            )
        )
    return Routine("random", "Random", (), "Go steady.", "Done.", tuple(exercises))


Speech = Callable[[str], float]


def assert_no_overlap(out: Sequence[Output], speech: Speech) -> None:
    spoken = [o for o in out if isinstance(o, Say)]
    for line, following in pairwise(spoken):
        assert line.at + speech(line.text) <= following.at + 1e-6, (line, following)


@settings(max_examples=25, deadline=None, database=None)
@given(routine=routines())
def test_random_timelines_never_overlap_and_end_on_time(
    routine: Routine, phrases: dict[str, str]
) -> None:
    out = timeline(routine, phrases, estimate_seconds)
    assert_no_overlap(out, estimate_seconds)
    finish = [o for o in out if isinstance(o, StateChanged)][-1]
    exercise_start = [o for o in out if isinstance(o, StateChanged)][1].at
    assert finish.state is State.FINISHED
    assert finish.at == pytest.approx(exercise_start + routine.total_seconds)
    counts = [o for o in out if isinstance(o, Say) and o.kind == "count"]
    timed_sides = sum(max(1, len(e.sides)) for e in routine.exercises if e.reps is None)
    assert len(counts) >= 3 * timed_sides
    # Set-up lines: the first exercise's always, in the intro; none more than once.
    hows = [o for o in out if isinstance(o, Say) and o.kind == "how"]
    first_how = routine.exercises[0].how
    assert len(hows) <= sum(1 for e in routine.exercises if e.how)
    if first_how:
        assert hows[0].text == first_how
        assert hows[0].at < exercise_start
    assert all(o.at >= exercise_start for o in hows[1 if first_how else 0 :])
