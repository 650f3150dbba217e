"""Composition root for sessions: builds a Coach with the right input, clock and voice."""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from coach.content.model import Content, Routine
from coach.core.player import timeline
from coach.core.understanding import Understanding
from coach.session.coach import Coach, EndOfInput, Event, Typed, Voice, output_event, run_loop
from coach.settings import Settings

if TYPE_CHECKING:
    from coach.voice.tts import SoundDeviceSpeaker

__all__ = ["EventPrinter", "play_routine", "run_typed"]

_LOGGER = logging.getLogger(__name__)


class EventPrinter:
    """Prints session events: JSON lines, or `[mm:ss] coach: ...` for people."""

    def __init__(self, as_json: bool, stream: TextIO = sys.stdout, show_states: bool = False):
        self._as_json = as_json
        self._stream = stream
        self._show_states = show_states
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, object]) -> None:
        with self._lock:
            line = json.dumps(event, ensure_ascii=False) if self._as_json else self._human(event)
            if line:
                print(line, file=self._stream, flush=True)

    def _human(self, event: dict[str, object]) -> str:
        at = event.get("at", 0.0)
        stamp = _clock_text(float(at) if isinstance(at, (int, float)) else 0.0)
        kind = event.get("type")
        if kind == "said":
            return f"[{stamp}] coach: {event['text']}"
        if kind == "heard":
            meaning = event.get("intent") or "(not understood)"
            slots = event.get("slots") or {}
            detail = " ".join(f"{k}={v}" for k, v in dict(slots).items())  # type: ignore[call-overload]
            return f"[{stamp}] heard: {event['text']!r} -> {meaning} {detail}".rstrip()
        if kind == "state" and self._show_states:
            return f"[{stamp}] ({event['state']})"
        if kind == "info":
            return f"{event['text']}"
        return ""


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


OPEN_ATTEMPTS = 3


def open_voice(settings: Settings, silent: bool) -> SoundDeviceSpeaker | None:
    """The real TTS voice, or None (print only) when asked or when no output device works."""
    if silent:
        return None
    from coach.voice.tts import Pyttsx3Synth, SoundDeviceSpeaker, VoiceSettings

    speech = settings.speech
    synth = Pyttsx3Synth(VoiceSettings(rate=speech.rate, volume=speech.volume, voice=speech.voice))
    for attempt in range(OPEN_ATTEMPTS):
        try:
            speaker = SoundDeviceSpeaker(synth, settings.audio.output_device)
            break
        except RuntimeError as exc:  # no output device, no PortAudio, no espeak-ng
            if attempt + 1 < OPEN_ATTEMPTS:
                _LOGGER.info("opening the speaker failed (%s); trying again", exc)
                time.sleep(0.5)  # a busy or just-plugged device often opens a moment later
                continue
            print(f"coach: {exc}\ncoach: printing what I say instead.", file=sys.stderr)
            return None
    # The clock's words must start at once: synthesise them before they are due.
    threading.Thread(target=speaker.prewarm, name="coach-prewarm", daemon=True).start()
    return speaker


def voice_adjuster(voice: SoundDeviceSpeaker | None) -> Callable[[str], None] | None:
    """Louder / quieter: a gain on the synthesised samples (new settings, new cache key)."""
    if voice is None:
        return None

    def adjust(command: str) -> None:
        step = {"louder": 0.2, "quieter": -0.2}.get(command)
        if step is None:
            return
        current = voice.synth.settings
        volume = min(1.0, max(0.2, current.volume + step))
        voice.synth.settings = dataclasses.replace(current, volume=volume)

    return adjust


def play_routine(
    content: Content,
    routine: Routine,
    settings: Settings,
    *,
    dry_run: bool,
    as_json: bool,
    silent: bool,
) -> int:
    """Read one routine aloud in real time, or print its whole timeline at once."""
    printer = EventPrinter(as_json)
    if dry_run:
        for output in timeline(routine, content.phrases):
            printer(output_event(output))
        return 0
    voice = open_voice(settings, silent)
    coach = _make_coach(content, voice, printer)
    clock = _monotonic_clock()
    coach.act(_start_intent(routine.id), clock())
    events: queue.Queue[Event] = queue.Queue()
    run_loop(coach, events, clock, until_finished=True)
    _drain(voice)
    return 0


def run_typed(content: Content, settings: Settings, *, as_json: bool, silent: bool) -> int:
    """A session driven by typed lines on stdin, with the routine on a real clock."""
    printer = EventPrinter(as_json)
    voice = open_voice(settings, silent)
    coach = _make_coach(content, voice, printer, adjust_voice=voice_adjuster(voice))
    events: queue.Queue[Event] = queue.Queue()
    if sys.stdin.isatty() and not as_json:
        print('Type a command ("start the warm-up", "pause", "help"); Ctrl-D to quit.')
    reader = threading.Thread(target=_read_lines, args=(sys.stdin, events), daemon=True)
    reader.start()
    run_loop(coach, events, _monotonic_clock())
    _drain(voice)
    return 0


def _read_lines(stream: TextIO, events: queue.Queue[Event]) -> None:
    for line in stream:
        if line.strip():
            events.put(Typed(line.strip()))
    events.put(EndOfInput())


def _make_coach(
    content: Content,
    voice: Voice | None,
    printer: Callable[[dict[str, object]], None],
    adjust_voice: Callable[[str], None] | None = None,
) -> Coach:
    understanding = Understanding(content.commands, content.faq)
    return Coach(content, understanding, voice, printer, adjust_voice=adjust_voice)


def _start_intent(routine_id: str):  # type: ignore[no-untyped-def]
    from coach.core.intents import Intent

    return Intent("start_routine", {"routine": routine_id}, 1.0, routine_id)


def _monotonic_clock() -> Callable[[], float]:
    start = time.monotonic()
    return lambda: time.monotonic() - start


def _drain(voice: Voice | None, timeout: float = 30.0) -> None:
    """Let the last words finish before the program exits."""
    if voice is None:
        return
    deadline = time.monotonic() + timeout
    while voice.is_speaking() and time.monotonic() < deadline:
        time.sleep(0.05)
