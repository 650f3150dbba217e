"""Typed mode: a session driven by lines on stdin, with the routine on a real clock."""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO

from coach.content.model import Content
from coach.session.coach import Coach
from coach.session.inputs import EndOfInput, Input, Typed
from coach.session.loop import run_loop
from coach.session.understand import build_understanding
from coach.session.wiring import (
    build_disclaimer,
    build_printer,
    build_voice,
    drain,
    monotonic_clock,
    voice_adjuster,
)
from coach.settings import Settings

__all__ = ["run_typed"]


def run_typed(content: Content, settings: Settings, *, as_json: bool, silent: bool) -> int:
    """Typed commands until end of input (Ctrl-D); the coach speaks unless `silent`."""
    knobs = settings.session
    printer = build_printer(as_json)
    voice = build_voice(settings, silent, content.phrases)
    disclaimer, disclaimer_said = build_disclaimer(voice, content.phrases)
    coach = Coach(content, build_understanding(content, settings), voice, printer,
                  disclaimer=disclaimer, disclaimer_said=disclaimer_said,
                  talk=knobs.conversation, adjust_voice=voice_adjuster(voice, knobs.speaker))
    inputs: queue.Queue[Input] = queue.Queue()
    if sys.stdin.isatty() and not as_json:
        print('Type a command ("start the warm-up", "pause", "help"); Ctrl-D to quit.')
    reader = threading.Thread(target=_read_lines, args=(sys.stdin, inputs), daemon=True)
    reader.start()
    run_loop(coach, inputs, monotonic_clock(), timing=knobs.loop)
    drain(voice, knobs.speaker)
    return 0


def _read_lines(stream: TextIO, inputs: queue.Queue[Input]) -> None:
    for line in stream:
        if line.strip():
            inputs.put(Typed(line.strip()))
    inputs.put(EndOfInput())
