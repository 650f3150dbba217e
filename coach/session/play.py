"""Play mode: read one routine aloud on a real clock, or print its whole timeline at once."""

from __future__ import annotations

import queue

from coach.content.model import Content, Routine
from coach.core.intents import Intent
from coach.core.timeline import timeline
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import event_of
from coach.session.inputs import Input
from coach.session.loop import run_loop
from coach.session.wiring import (
    build_printer,
    build_voice,
    close_voice,
    drain,
    follow_speaker,
    monotonic_clock,
)
from coach.settings import Settings

__all__ = ["play_routine"]


def play_routine(
    content: Content,
    routine: Routine,
    settings: Settings,
    *,
    dry_run: bool,
    as_json: bool,
    silent: bool,
) -> int:
    """`routine` from start to finish, nobody interrupting; `dry_run` prints it at once."""
    printer = build_printer(as_json)
    if dry_run:
        for output in timeline(routine, content.phrases):
            printer(event_of(output))
        return 0
    knobs = settings.session
    voice = build_voice(settings, silent, content.phrases)
    coach = Coach(content, Understanding(content.commands, content.faq), voice, printer)
    clock = monotonic_clock()
    inputs = queue.Queue[Input]()  # nobody types: only the speaker coming and going
    follow_speaker(voice, inputs)
    try:
        coach.act(Intent("start_routine", {"routine": routine.id}, 1.0, routine.id), clock())
        run_loop(coach, inputs, clock, until_finished=True, timing=knobs.loop)
        drain(voice, knobs.speaker)
    finally:
        close_voice(voice)
    return 0
