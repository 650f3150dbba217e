"""Hands-free mode: listen on the microphone and coach through the speaker until Ctrl-C."""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable

from coach.content.model import Content
from coach.hearing.asr.base import Recognizer
from coach.hearing.microphone import Microphone, NoMicrophoneError
from coach.session.audio_thread import listen_forever
from coach.session.coach import Coach
from coach.session.events import InfoEvent, fan_out
from coach.session.inputs import Input, Pressed
from coach.session.logbook import open_logbook
from coach.session.loop import run_loop
from coach.session.screen.screens import ScreenChoice, Screens
from coach.session.understand import build_understanding
from coach.session.wiring import (
    build_disclaimer,
    build_ducking,
    build_echo_canceller,
    build_echo_filter,
    build_recognizer,
    build_voice,
    close_voice,
    follow_playback,
    follow_speaker,
    look_ahead,
    voice_adjuster,
)
from coach.settings import Settings

__all__ = ["run_hands_free"]

_LOGGER = logging.getLogger(__name__)


def run_hands_free(
    content: Content,
    settings: Settings,
    *,
    choice: ScreenChoice,
    silent: bool,
    typed_instead: Callable[[], int],
) -> int:
    """A session by voice. Without a microphone, offers `typed_instead` (a typed session)."""
    try:
        microphone = Microphone(settings.audio.input_device, settings.hearing.microphone)
    except NoMicrophoneError as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return _offer_typed(typed_instead)
    knobs = settings.session
    understanding = build_understanding(content, settings)
    try:
        recognizer = build_recognizer(settings, understanding)
    except Exception:
        microphone.close()
        raise
    _announce_engine(recognizer)
    epoch = time.monotonic()

    def clock() -> float:
        return time.monotonic() - epoch

    echo = build_echo_filter(settings, understanding)
    voice = build_voice(settings, silent, content.phrases)
    follow_playback(voice, echo, epoch, knobs.listening.playback_open_s)
    cancel = build_echo_canceller(settings, voice, epoch)
    screens = Screens(settings.screen, choice, recognizer.name, clock, content.commands)
    disclaimer, disclaimer_said = build_disclaimer(voice, content.phrases)
    inputs: queue.Queue[Input] = queue.Queue()
    follow_speaker(voice, inputs)
    stop = threading.Event()
    worker = threading.Thread(
        target=listen_forever,
        args=(microphone, recognizer, inputs, clock, stop, screens, cancel, knobs.listening,
              settings.hearing.microphone, knobs.level, build_ducking(voice, cancel),
              screens.level),
        name="coach-audio", daemon=True,
    )
    # heard from "Ready." on: what came while loading is stale, and a backlog to work through
    _LOGGER.debug("dropped %d blocks heard while starting", microphone.drop_queued())
    worker.start()
    screens(InfoEvent('Ready. Say "start the warm-up", or "help".'))
    try:
        with open_logbook(settings, content.phrases, clock) as logbook:
            sink = fan_out(screens, logbook.record, *look_ahead(voice, content))
            coach = Coach(content, understanding, voice, sink, echo=echo,
                          wake_word=settings.wake_word, disclaimer=disclaimer,
                          disclaimer_said=disclaimer_said, talk=knobs.conversation,
                          adjust_voice=voice_adjuster(voice, knobs.speaker),
                          history=logbook.history)
            plot = logbook.history.plot_png if logbook.history else None
            with screens.shown(lambda action: inputs.put(Pressed(action)), history_png=plot):
                run_loop(coach, inputs, clock, timing=knobs.loop)
    finally:
        stop.set()
        worker.join(timeout=knobs.listening.stop_join_s)
        microphone.close()
        close_voice(voice)
        if cancel is not None:
            cancel.timeline.close()  # the listening thread may still hold it
    return 0


def _announce_engine(recognizer: Recognizer) -> None:
    if not recognizer.name.startswith("vosk"):
        print(f"Listening with the built-in {recognizer.name} recogniser. For Vosk, run "
              "`coach models download`.", file=sys.stderr)
    else:
        print(f"Listening with {recognizer.name}.", file=sys.stderr)


def _offer_typed(typed_instead: Callable[[], int]) -> int:
    """At a terminal, ask whether to type commands instead; elsewhere give up (exit 2)."""
    if not sys.stdin.isatty():
        return 2
    answer = input("No microphone. Type commands instead? [Y/n] ").strip().lower()
    if answer in ("", "y", "yes"):
        return typed_instead()
    return 2
