"""Sessions that listen: a WAV file as the microphone, or the real microphone.

With a WAV file the coach's clock IS the audio position, so a whole session runs
deterministically and faster than real time; the coach's voice is virtual (its length
estimated) but judged by the same echo rules as a real one.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coach.content.model import Content, FaqEntry
from coach.core.echo import EchoFilter
from coach.core.spoken import estimate_seconds
from coach.core.understanding import Understanding
from coach.hearing.aec import AecUnavailableError, EchoCanceller, LiveEchoCancel, OutputTimeline
from coach.hearing.asr.base import EngineUnavailableError, Recognizer, Transcript
from coach.hearing.microphone import Microphone, MicrophoneLost, NoMicrophoneError
from coach.hearing.streamclock import StreamClock
from coach.session.coach import Coach, EndOfInput, Event, Heard, run_loop
from coach.session.runner import EventPrinter, open_voice, run_typed, voice_adjuster
from coach.settings import Settings
from coach.voice.playback import PlaybackEvent
from coach.voice.tts import SoundDeviceSpeaker

__all__ = ["VirtualVoice", "listen_file", "make_listener", "run_file", "run_hands_free"]

_LOGGER = logging.getLogger(__name__)

CHUNK_SECONDS = 0.1
"""Audio handed to the recogniser at a time when reading a file (seconds)."""


class ListenError(RuntimeError):
    """Listening cannot start; the message says what to do."""


def make_listener(settings: Settings, understanding: Understanding) -> Recognizer:
    """The recogniser for these settings, with the grammar the coach understands."""
    from coach.hearing.asr.select import make_recognizer
    from coach.store.models import ModelError, find_vosk_model

    try:
        model = find_vosk_model(settings.model, os.environ)
    except ModelError as exc:
        raise ListenError(str(exc)) from exc
    if settings.engine == "vosk" and model is None:
        raise ListenError("no Vosk model found: run `coach models download`, or pass --model DIR")
    try:
        recognizer = make_recognizer(settings.engine, model, understanding.phrases(),
                                     is_complete=understanding.is_complete)
    except EngineUnavailableError as exc:
        raise ListenError(str(exc)) from exc
    _LOGGER.info("recogniser: %s", recognizer.name)
    return recognizer


def _announce_engine(recognizer: Recognizer) -> None:
    if not recognizer.name.startswith("vosk"):
        print(f"Listening with the built-in {recognizer.name} recogniser. For Vosk, run "
              "`coach models download`.", file=sys.stderr)
    else:
        print(f"Listening with {recognizer.name}.", file=sys.stderr)


# --- coach listen ---------------------------------------------------------------------


def listen_file(content: Content, settings: Settings, path: Path, *, as_json: bool) -> int:
    """Print what was said in a WAV file and what it means, one line per utterance."""
    from coach.hearing.wavsource import read_wav

    understanding = Understanding(content.commands, content.faq)
    recognizer = make_listener(settings, understanding)
    faq = {entry.id: entry for entry in content.faq}
    pcm = read_wav(path)
    step = int(recognizer.sample_rate * CHUNK_SECONDS)
    for offset in range(0, len(pcm), step):
        for transcript in recognizer.accept(pcm[offset : offset + step]):
            _print_utterance(transcript, understanding, faq, as_json)
    for transcript in recognizer.flush():
        _print_utterance(transcript, understanding, faq, as_json)
    return 0


def _print_utterance(
    transcript: Transcript,
    understanding: Understanding,
    faq: Mapping[str, FaqEntry],
    as_json: bool,
) -> None:
    intent = understanding.interpret(transcript.text)
    answer = None
    if intent.name == "question":
        entry = faq.get(intent.slots.get("id", ""))
        answer = entry.answer if entry is not None else None
    record = {"start": round(transcript.start, 3), "end": round(transcript.end, 3),
              "at": round(transcript.at, 3), "text": transcript.text, "intent": intent.name,
              "slots": dict(intent.slots), "answer": answer}
    if as_json:
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        meaning = intent.name or "(not understood)"
        print(f"{transcript.start:7.2f}-{transcript.end:7.2f}  {transcript.text!r} -> {meaning}",
              flush=True)


# --- coach run --input F.wav ----------------------------------------------------------


class VirtualVoice:
    """A voice on the session clock that takes as long as its words would."""

    def __init__(
        self,
        clock: Callable[[], float],
        echo: EchoFilter,
        speech_seconds: Callable[[str], float] = estimate_seconds,
    ) -> None:
        self._clock = clock
        self._echo = echo
        self._speech_seconds = speech_seconds
        self._until = 0.0
        self._current = ""

    def say(self, text: str, *, interrupt: bool = False) -> float:
        now = self._clock()
        if interrupt:
            self.stop()
        start = max(now, self._until)
        duration = self._speech_seconds(text)
        self._until = start + duration
        self._current = text
        self._echo.spoke(text, start, self._until)
        return duration

    def is_speaking(self) -> bool:
        return self._clock() < self._until

    def stop(self) -> None:
        now = self._clock()
        if now < self._until:
            self._echo.ended(self._current, now)
            self._until = now


@dataclass
class _AudioClock:
    seconds: float = 0.0

    def __call__(self) -> float:
        return self.seconds


def run_file(content: Content, settings: Settings, path: Path, *, as_json: bool) -> int:
    """A whole session from a WAV file, faster than real time, on the audio clock."""
    from coach.hearing.wavsource import read_wav

    understanding = Understanding(content.commands, content.faq)
    recognizer = make_listener(settings, understanding)
    clock = _AudioClock()
    echo = EchoFilter(understanding.interpret, tail=settings.audio.echo_tail)
    voice = VirtualVoice(clock, echo)
    coach = Coach(content, understanding, voice, EventPrinter(as_json), echo=echo,
                  wake_word=settings.wake_word)
    pcm = read_wav(path)
    rate = recognizer.sample_rate
    step = int(rate * CHUNK_SECONDS)
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step]
        for transcript in recognizer.accept(chunk):
            clock.seconds = transcript.at
            coach.heard(Heard(transcript.text, transcript.start, transcript.end, transcript.at,
                              transcript.heard_as))
        clock.seconds = (offset + len(chunk)) / rate
        coach.tick(clock.seconds)
    for transcript in recognizer.flush():
        clock.seconds = max(clock.seconds, transcript.at)
        coach.heard(Heard(transcript.text, transcript.start, transcript.end, transcript.at,
                              transcript.heard_as))
    return 0


# --- coach (hands-free) ---------------------------------------------------------------


def run_hands_free(content: Content, settings: Settings, *, as_json: bool, silent: bool) -> int:
    """Listen on the microphone and coach through the speaker until Ctrl-C."""
    try:
        microphone = Microphone(settings.audio.input_device)
    except NoMicrophoneError as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return _offer_text_mode(content, settings, as_json, silent)
    understanding = Understanding(content.commands, content.faq)
    try:
        recognizer = make_listener(settings, understanding)
    except ListenError as exc:
        microphone.close()
        print(f"coach: {exc}", file=sys.stderr)
        return 2
    _announce_engine(recognizer)
    epoch = time.monotonic()

    def clock() -> float:
        return time.monotonic() - epoch

    echo = EchoFilter(understanding.interpret, tail=settings.audio.echo_tail)
    voice = open_voice(settings, silent)
    _follow_playback(voice, echo, epoch)
    cancel = _echo_canceller(voice, epoch) if settings.audio.echo_cancel else None
    printer = EventPrinter(as_json)
    coach = Coach(content, understanding, voice, printer, echo=echo,
                  wake_word=settings.wake_word, disclaimer=_first_session(),
                  adjust_voice=voice_adjuster(voice))
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(
        target=_listen_forever,
        args=(microphone, recognizer, events, clock, stop, printer, cancel),
        name="coach-audio", daemon=True,
    )
    worker.start()
    printer({"type": "info", "text": 'Ready. Say "start the warm-up", or "help".'})
    try:
        run_loop(coach, events, clock)
    finally:
        stop.set()
        worker.join(timeout=2.0)
        microphone.close()
    return 0


def _follow_playback(voice: SoundDeviceSpeaker | None, echo: EchoFilter, epoch: float) -> None:
    """Tell the echo filter exactly when the speaker is audible, on the session clock."""
    if voice is None:
        return

    def on_playback(event: PlaybackEvent) -> None:
        at = event.at - epoch
        if event.playing:
            echo.spoke(event.label, at, at + 600.0)  # open until the stop event closes it
        else:
            echo.ended(event.label, at)

    voice.add_playback_listener(on_playback)


def _echo_canceller(voice: SoundDeviceSpeaker | None, epoch: float) -> LiveEchoCancel | None:
    """Echo cancellation fed with every block the speaker plays, or None (no speaker, or no
    speexdsp: then the text-level echo rules alone keep the coach off its own voice)."""
    if voice is None:
        return None
    try:
        canceller = EchoCanceller()
    except AecUnavailableError as exc:
        _LOGGER.warning("%s; commands said over the coach will rarely be heard", exc)
        return None
    timeline = OutputTimeline()

    def tap(samples: npt.NDArray[np.int16], rate: int, heard_at: float) -> None:
        timeline.write(samples, rate, heard_at - epoch)

    voice.add_output_tap(tap)
    return LiveEchoCancel(timeline, canceller)


def _listen_forever(
    microphone: Microphone,
    recognizer: Recognizer,
    events: queue.Queue[Event],
    clock: Callable[[], float],
    stop: threading.Event,
    printer: Callable[[dict[str, object]], None],
    cancel: LiveEchoCancel | None = None,
) -> None:
    """The audio thread: microphone -> (echo cancellation) -> recogniser -> events. Survives
    a lost device."""
    consumed = 0
    rate = recognizer.sample_rate
    stream_clock = StreamClock(rate)
    while not stop.is_set():
        try:
            block = microphone.read()
            consumed += len(block)
            # when the block came, not when we got to it: a decode may have held us up
            arrived = clock() - (time.monotonic() - microphone.arrived_at)
            offset = stream_clock.observe(consumed, arrived)
            if cancel is not None:
                block = cancel(block, offset + (consumed - len(block)) / rate)
                offset -= cancel.delay_s  # its output comes that much later
            for t in recognizer.accept(block):
                start, end = t.start + offset, t.end + offset
                user_spoke = cancel.double_talk.user_spoke(start, end) if cancel else None
                _LOGGER.debug("heard %r (%.2f-%.2f s): user's voice %s", t.heard_as or t.text,
                              start, end, user_spoke)
                events.put(Heard(t.text, start, end, clock(), t.heard_as, user_spoke))
        except MicrophoneLost as exc:
            printer({"type": "info", "text": f"Microphone lost ({exc}). Your place is kept; "
                     "listening again when it is back."})
            while not stop.is_set() and not microphone.reopen(attempts=1, wait=2.0):
                pass
            if not stop.is_set():
                stream_clock.reset()
                printer({"type": "info", "text": "Microphone is back. Listening."})
        except Exception as exc:  # keep listening; a silent dead audio thread is the worst case
            _LOGGER.exception("audio thread error")
            printer({"type": "info", "text": f"Listening failed ({exc}); retrying."})
            time.sleep(1.0)
    events.put(EndOfInput())


def _offer_text_mode(content: Content, settings: Settings, as_json: bool, silent: bool) -> int:
    if not sys.stdin.isatty():
        return 2
    answer = input("No microphone. Type commands instead? [Y/n] ").strip().lower()
    if answer in ("", "y", "yes"):
        return run_typed(content, settings, as_json=as_json, silent=silent)
    return 2


def _first_session() -> bool:
    """True once per user: the not-a-doctor disclaimer is said at the first session."""
    from platformdirs import user_state_dir

    marker = Path(user_state_dir("coach")) / "disclaimer-given"
    if marker.exists():
        return False
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        _LOGGER.debug("cannot write %s", marker)
    return True
