"""Typed mode: a session driven by lines on stdin, with the routine on a real clock."""

from __future__ import annotations

import queue
import sys

from coach.content.model import Content
from coach.session.coach import Coach
from coach.session.events import fan_out
from coach.session.inputs import Input, Pressed
from coach.session.logbook import open_logbook
from coach.session.loop import run_loop
from coach.session.screen.screens import ScreenChoice, Screens
from coach.session.understand import build_understanding
from coach.session.wiring import (
    build_disclaimer,
    build_voice,
    close_voice,
    drain,
    follow_speaker,
    look_ahead,
    monotonic_clock,
    voice_adjuster,
)
from coach.settings import Settings

__all__ = ["run_typed"]

TYPED_ENGINE = "typed"
"""What the screen names as hearing the user in a typed session."""


def run_typed(content: Content, settings: Settings, *, choice: ScreenChoice,
              silent: bool) -> int:
    """Typed commands until end of input (Ctrl-D); the coach speaks unless `silent`."""
    knobs = settings.session
    clock = monotonic_clock()
    screens = Screens(settings.screen, choice, TYPED_ENGINE, clock, content.commands)
    voice = build_voice(settings, silent, content.phrases)
    disclaimer, disclaimer_said = build_disclaimer(voice, content.phrases)
    inputs: queue.Queue[Input] = queue.Queue()
    follow_speaker(voice, inputs)
    if sys.stdin.isatty() and not choice.as_json and not screens.dashboard:
        print('Type a command ("start the warm-up", "pause", "help"); Ctrl-D to quit.')
    try:
        with open_logbook(settings, content.phrases, clock) as logbook:
            sink = fan_out(screens, logbook.record, *look_ahead(voice, content))
            coach = Coach(content, build_understanding(content, settings), voice, sink,
                          disclaimer=disclaimer, disclaimer_said=disclaimer_said,
                          talk=knobs.conversation,
                          adjust_voice=voice_adjuster(voice, knobs.speaker),
                          history=logbook.history)
            with screens.shown(lambda action: inputs.put(Pressed(action)), typed=inputs,
                               history_png=logbook.history.plot_png if logbook.history else None):
                run_loop(coach, inputs, clock, timing=knobs.loop)
        drain(voice, knobs.speaker)
    finally:
        close_voice(voice)
    return 0
