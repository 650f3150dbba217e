"""Modes on a WAV file as the microphone: `coach listen` (what was said and what it means)
and `coach run --input` (a whole session).

With a WAV file the coach's clock IS the audio position, so a session runs
deterministically and faster than real time; its voice is virtual. With the web page open it
runs in real time instead, so the session can be watched (and its buttons used) as it plays.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from coach.content.model import Content
from coach.hearing.asr.base import Recognizer, Transcript
from coach.session.coach import Coach, faq_entry
from coach.session.events import UtteranceEvent
from coach.session.inputs import Heard
from coach.session.loudness import SpeechLevel
from coach.session.screen.screens import ScreenChoice, Screens
from coach.session.understand import build_understanding
from coach.session.virtual_voice import AudioClock, VirtualVoice
from coach.session.wiring import (
    build_disclaimer,
    build_echo_filter,
    build_printer,
    build_recognizer,
)
from coach.settings import Settings

if TYPE_CHECKING:
    from coach.hearing.wavsource import WavReader

__all__ = ["listen_file", "run_file"]


def listen_file(content: Content, settings: Settings, path: Path, *, as_json: bool) -> int:
    """Print what was said in a WAV file and what it means, one line per utterance."""
    with _open(path) as audio:  # a bad file is told at once, before the models load
        return _listen(content, settings, audio, as_json=as_json)


def _listen(content: Content, settings: Settings, audio: WavReader, *, as_json: bool) -> int:
    understanding = build_understanding(content, settings)
    recognizer = build_recognizer(settings, understanding)
    printer = build_printer(as_json)
    faq = {entry.id: entry for entry in content.faq}
    for _, transcripts in _decode(recognizer, audio.blocks(), settings):
        for transcript in transcripts:
            intent = understanding.interpret(transcript.text)
            entry = faq_entry(intent, faq)
            printer(UtteranceEvent(transcript.start, transcript.end, transcript.at,
                                   transcript.text, intent.name, dict(intent.slots),
                                   entry.answer if entry is not None else None))
    return 0


def run_file(content: Content, settings: Settings, path: Path, *,
             choice: ScreenChoice) -> int:
    """A whole session from a WAV file on the audio clock: faster than real time, or in
    real time with the web page (then its buttons act at the audio position they came)."""
    with _open(path) as audio:  # a bad file is told at once, before the models load
        return _run(content, settings, audio, choice=choice)


def _run(content: Content, settings: Settings, audio: WavReader, *,
         choice: ScreenChoice) -> int:
    understanding = build_understanding(content, settings)
    recognizer = build_recognizer(settings, understanding)
    clock = AudioClock()
    watched = choice if choice.web else replace(choice, plain=True)  # a dashboard only if paced
    screens = Screens(settings.screen, watched, f"{recognizer.name} (file)",
                      lambda: clock.seconds, content.commands)
    echo = build_echo_filter(settings, understanding, audible=False)
    disclaimer, disclaimer_said = build_disclaimer(None, content.phrases)
    coach = Coach(content, understanding, VirtualVoice(clock, echo), screens,
                  echo=echo, wake_word=settings.wake_word, disclaimer=disclaimer,
                  disclaimer_said=disclaimer_said, talk=settings.session.conversation)
    # the same level rule as the microphone's, on the file's audio
    level = SpeechLevel(recognizer.sample_rate, settings.session.level)
    pressed: queue.Queue[str] = queue.Queue()
    pace = _real_time() if choice.web else None
    with screens.shown(pressed.put):
        for consumed, transcripts in _decode(recognizer, audio.blocks(), settings, level.add):
            for transcript in transcripts:
                # at the end of the file the recogniser may decide later than the audio it has
                clock.seconds = (transcript.at if consumed is not None
                                 else max(clock.seconds, transcript.at))
                # the voice is virtual: any voice in the file is a second voice, the user's
                coach.heard(Heard(transcript.text, transcript.start, transcript.end,
                                  transcript.at, transcript.heard_as, user_spoke=True,
                                  level_db=level.level_db(transcript.start, transcript.end)))
            if consumed is not None:
                if pace is not None:
                    pace(consumed)
                clock.seconds = consumed
                coach.tick(clock.seconds)
            while not pressed.empty():
                coach.pressed(pressed.get(), clock.seconds)
    return 0


def _real_time() -> Callable[[float], None]:
    """What waits until `seconds` of audio are due on the wall clock since the first call."""
    start = time.monotonic()

    def wait(seconds: float) -> None:
        delay = start + seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    return wait


def _open(path: Path) -> WavReader:
    from coach.hearing.wavsource import open_wav

    return open_wav(path)


def _decode(
    recognizer: Recognizer, blocks: Iterable[npt.NDArray[np.int16]], settings: Settings,
    fed: Callable[[npt.NDArray[np.int16]], None] | None = None,
) -> Iterator[tuple[float | None, list[Transcript]]]:
    """(audio consumed after this chunk in seconds, what the recogniser closed in it), chunk
    by chunk; last, (None, what the end of the audio closed). `fed` sees every chunk first.
    The audio comes in blocks of any length, cut here into the recogniser's chunks."""
    from coach.hearing.wavsource import rechunk

    rate = recognizer.sample_rate
    step = int(rate * settings.session.listening.chunk_seconds)
    consumed = 0
    for chunk in rechunk(blocks, step):
        if fed is not None:
            fed(chunk)
        consumed += len(chunk)
        yield consumed / rate, list(recognizer.accept(chunk))
    yield None, list(recognizer.flush())
