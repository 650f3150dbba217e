"""After a pain report the workout stays paused until the user clearly says resume or stop.

Each transition out of the pain pause, on the fake clock of tests/test_player.py: next,
previous, restart and the same routine again do not start the clock (the coach repeats how
to go on); resume resumes; stop stops; another routine by name starts it.
"""

from __future__ import annotations

import pytest

from coach.content.model import Exercise, Routine
from coach.core.plan import Priority
from coach.core.player import Player, Say, State
from tests.test_player import (
    ROUTINES,
    SMALL,
    phrases,
    replies,
    run_to,
    speech_seconds,
    started,
    states,
)

__all__ = ["phrases"]  # the fixture, shared with tests/test_player.py

OTHER = Routine(id="other", name="Other", aliases=(), intro="", outro="Done.",
                exercises=(Exercise("plank", seconds=20.0),))


def pain_paused(phrases: dict[str, str], at: float = 20.0) -> Player:
    """The small routine, pain reported `at` seconds in (during the first exercise)."""
    player = Player({**ROUTINES, OTHER.id: OTHER}, phrases, speech_seconds)
    player.handle("start_routine", {"routine": SMALL.id}, 0.0)
    run_to(player, at)
    player.handle("pain", {}, at)
    assert player.state is State.PAUSED
    return player


@pytest.mark.parametrize(
    ("command", "slots"),
    [("next", {}), ("previous", {}), ("restart", {}), ("start_routine", {"routine": SMALL.id})],
)
def test_moving_on_after_pain_keeps_the_clock_still(
    phrases: dict[str, str], command: str, slots: dict[str, str]
) -> None:
    player = pain_paused(phrases)
    left = player.remaining(20.0)
    out = player.handle(command, slots, 25.0)
    assert states(out) == []
    assert out == [Say(phrases["pain_hold"], 25.0, Priority.URGENT, "reply")]
    assert player.state is State.PAUSED
    assert run_to(player, 200.0) == []
    assert player.remaining(200.0) == left


def test_the_reminder_says_resume_only_if_fine_or_stop(phrases: dict[str, str]) -> None:
    text = phrases["pain_hold"].lower()
    assert "pain" in text and "resume only if you feel fine" in text and "stop" in text


def test_resume_after_pain_resumes_where_it_was(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    player.handle("next", {}, 25.0)
    out = player.handle("resume", {}, 30.0)
    assert states(out) == [(30.0, State.EXERCISE, 1, None)]
    assert player.remaining(30.0)[0] == pytest.approx(40.0 - 20.0)


def test_after_resuming_next_works_again(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    player.handle("resume", {}, 30.0)
    out = player.handle("next", {}, 31.0)
    assert states(out)[0][:3] == (31.0, State.EXERCISE, 2)


def test_a_later_plain_pause_is_not_a_pain_pause(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    player.handle("resume", {}, 30.0)
    player.handle("pause", {}, 32.0)
    out = player.handle("next", {}, 33.0)
    assert states(out)[0][:3] == (33.0, State.EXERCISE, 2)


def test_stop_after_pain_stops(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    out = player.handle("stop", {}, 25.0)
    assert states(out) == [(25.0, State.IDLE, None, None)]
    assert replies(out) == [phrases["stopped"].format(routine=SMALL.name.lower())]


def test_starting_again_after_stopping_is_not_held(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    player.handle("stop", {}, 25.0)
    out = player.handle("start_routine", {"routine": SMALL.id}, 30.0)
    assert states(out) == [(30.0, State.INTRO, 1, None)]
    out = player.handle("next", {}, 31.0)  # from the intro, on to the first exercise
    assert states(out)[0][:3] == (31.0, State.EXERCISE, 1)


def test_another_routine_by_name_starts_it(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    out = player.handle("start_routine", {"routine": OTHER.id}, 25.0)
    assert states(out)[0][:2] == (25.0, State.INTRO)
    assert player.routine is OTHER


def test_pain_during_a_plain_pause_holds_too(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("pause", {}, 20.0)
    player.handle("pain", {}, 22.0)
    out = player.handle("next", {}, 25.0)
    assert replies(out) == [phrases["pain_hold"]]
    assert player.state is State.PAUSED


def test_a_plain_pause_still_lets_next_move_on(phrases: dict[str, str]) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    player.handle("pause", {}, 20.0)
    out = player.handle("next", {}, 25.0)
    assert states(out)[0][:3] == (25.0, State.EXERCISE, 2)


def test_pain_when_idle_holds_nothing(phrases: dict[str, str]) -> None:
    player = Player(ROUTINES, phrases, speech_seconds)
    player.handle("pain", {}, 1.0)
    out = player.handle("start_routine", {"routine": SMALL.id}, 2.0)
    assert states(out) == [(2.0, State.INTRO, 1, None)]


@pytest.mark.parametrize(
    ("command", "key"),
    [("pause", "already_paused"), ("help", "help_paused"), ("whats_next", "whats_next")],
)
def test_other_commands_are_answered_as_when_paused(
    phrases: dict[str, str], command: str, key: str
) -> None:
    player = pain_paused(phrases)
    out = player.handle(command, {}, 25.0)
    assert states(out) == []
    assert replies(out)[0].split()[0] == phrases[key].split()[0]
    assert player.state is State.PAUSED


def test_pain_again_gives_the_advice_again(phrases: dict[str, str]) -> None:
    player = pain_paused(phrases)
    out = player.handle("pain", {}, 25.0)
    assert replies(out) == [phrases["pain"], phrases["pain_paused"]]
    assert replies(player.handle("next", {}, 26.0)) == [phrases["pain_hold"]]
