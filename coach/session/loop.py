"""The real-clock loop: input from a queue, the player's deadlines kept on time.

The loop wakes at the player's next deadline, so the clock never waits on input; input
(typed lines, utterances, end of input) arrives on a queue from other threads.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable

from coach.session.coach import Coach
from coach.session.inputs import EndOfInput, Heard, Input, Pressed, SpeakerChanged, Typed
from coach.settings.session import LoopSettings

__all__ = ["hand_interpreter_back_quickly", "run_loop"]


def hand_interpreter_back_quickly(switch_s: float) -> None:
    """Let another thread of this process hold the interpreter at most `switch_s` seconds.

    The listener decodes in another thread; a waking timeline must get the interpreter back
    within a millisecond or two, not Python's default 5 ms per hand-over. Process-wide: it
    only ever shortens the interval.
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), switch_s))


def run_loop(
    coach: Coach,
    inputs: queue.Queue[Input],
    clock: Callable[[], float],
    until_finished: bool = False,
    timing: LoopSettings | None = None,
) -> None:
    """Drive `coach` on a real clock until input ends (or, optionally, the routine finishes)."""
    timing = timing or LoopSettings()
    hand_interpreter_back_quickly(timing.gil_switch_s)
    while True:
        deadline = coach.player.next_deadline()
        timeout = timing.idle_wait_s if deadline is None else min(
            timing.idle_wait_s, max(0.0, deadline - clock() - timing.wake_early_s))
        try:
            event: Input | None = inputs.get(timeout=timeout)
        except queue.Empty:
            event = None
            if deadline is not None and deadline - clock() <= timing.wake_early_s:
                _sleep_until(deadline, clock, timing.sleep_step_s)
        now = clock()
        coach.tick(now)
        if isinstance(event, Typed):
            coach.typed(event.text, now)
        elif isinstance(event, Heard):
            coach.heard(event)
        elif isinstance(event, Pressed):
            coach.pressed(event.action, now)
        elif isinstance(event, SpeakerChanged):
            coach.speaker_changed(event.available, event.device, now)
        elif isinstance(event, EndOfInput) and (not until_finished or _done(coach)):
            return
        if until_finished and _done(coach) and event is None:
            return


def _done(coach: Coach) -> bool:
    """The routine ended: its clock has nothing more to do, and no lost speaker holds it."""
    return coach.player.next_deadline() is None and not coach.player.held


def _sleep_until(deadline: float, clock: Callable[[], float], step_s: float) -> None:
    """Sleep in short steps: a long sleep on a busy machine overshoots."""
    while (left := deadline - clock()) > 0:
        time.sleep(min(left, step_s))
