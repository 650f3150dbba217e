"""The player's hold, on a fake clock: while the coach cannot be heard (its speaker is gone)
the routine's clock stops as for a pause, and `release` goes on from the same place."""

from __future__ import annotations

from coach.core.player import State
from tests.test_player import (
    GOLDEN_SAYS,
    GOLDEN_STATES,
    phrases,  # noqa: F401 - the fixture, used by name
    replies,
    run_to,
    says,
    shifted,
    started,
    states,
)


def test_a_hold_stops_the_clock_says_nothing_and_release_goes_on_from_the_same_place(
    phrases: dict[str, str],  # noqa: F811
) -> None:
    player = started(phrases)
    run_to(player, 20.0)
    held = player.hold(20.0)
    assert says(held) == []  # nobody would hear it
    assert states(held) == [(20.0, State.PAUSED, 1, None)]
    assert player.held and player.next_deadline() is None
    assert player.remaining(20.0) == player.remaining(45.0)  # the clock stands still

    back = player.release(45.0)
    assert not player.held and player.state is State.EXERCISE
    assert states(back) == [(45.0, State.EXERCISE, 1, None)]
    assert replies(back) == ["Resuming. 20 seconds of marching in place."]
    later = run_to(player, 45.0 + 200.0)
    # the resume line covers the next cue; every other line comes 25 s late, none lost
    assert says(later) == [row for row in shifted(GOLDEN_SAYS, after=20.0, by=25.0)
                           if row[0] > 47.0 or row[2] != "cue"]
    assert states(later) == [(round(at + 25.0, 3), *rest)
                             for at, *rest in GOLDEN_STATES if at > 20.0]


def test_a_hold_with_nothing_running_does_nothing(phrases: dict[str, str]) -> None:  # noqa: F811
    player = started(phrases)
    player.handle("stop", {}, 5.0)
    assert player.hold(6.0) == []
    assert not player.held
    assert player.release(7.0) == []
    assert player.state is State.IDLE


def test_a_pause_the_user_asked_for_stays_when_the_speaker_comes_back(
    phrases: dict[str, str],  # noqa: F811
) -> None:
    player = started(phrases)
    player.handle("pause", {}, 12.0)
    assert player.hold(13.0) == []  # already paused: nothing to hold
    assert player.release(20.0) == []
    assert player.state is State.PAUSED


def test_the_user_pausing_during_a_hold_makes_it_their_pause(
    phrases: dict[str, str],  # noqa: F811
) -> None:
    player = started(phrases)
    player.hold(12.0)
    player.handle("pause", {}, 14.0)
    assert player.release(20.0) == []
    assert player.state is State.PAUSED


def test_a_pain_report_during_a_hold_is_not_resumed_by_the_speaker(
    phrases: dict[str, str],  # noqa: F811
) -> None:
    player = started(phrases)
    player.hold(12.0)
    player.handle("pain", {}, 14.0)
    assert player.release(20.0) == []
    assert player.state is State.PAUSED


def test_the_user_resuming_during_a_hold_ends_it(phrases: dict[str, str]) -> None:  # noqa: F811
    player = started(phrases)
    player.hold(5.0)
    out = player.handle("resume", {}, 14.0)
    assert states(out)[0][1] is State.INTRO  # the intro, with 5 s of it left
    assert not player.held
    assert player.release(20.0) == []  # no second resume line


def test_time_left_during_a_hold_keeps_the_hold(phrases: dict[str, str]) -> None:  # noqa: F811
    player = started(phrases)
    run_to(player, 20.0)
    player.hold(20.0)
    player.handle("time_left", {}, 30.0)
    assert player.held
    assert states(player.release(31.0))[0][1] is State.EXERCISE
