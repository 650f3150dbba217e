"""Builds a session's parts from Settings, once, for every mode: the recogniser, the voice,
the echo filter and canceller, the event printer and the first-run disclaimer marker."""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from coach.content.model import Content, IntentName
from coach.core.echo import EchoFilter
from coach.core.plan import clock_phrases
from coach.core.understanding import Understanding
from coach.errors import CoachError
from coach.session.coach import EventSink, Voice
from coach.session.disclaimer import DisclaimerMarker
from coach.session.inputs import Input, SpeakerChanged
from coach.session.printer import EventPrinter
from coach.settings import Settings
from coach.settings.session import SpeakerSettings

if TYPE_CHECKING:
    from coach.hearing.aec import LiveEchoCancel
    from coach.hearing.asr.base import Recognizer
    from coach.voice.speaker import SoundDeviceSpeaker

__all__ = [
    "ListenError", "build_disclaimer", "build_disclaimer_marker", "build_ducking",
    "build_echo_canceller", "build_echo_filter", "build_printer", "build_recognizer",
    "build_voice", "close_voice", "disclaimer_marking", "drain", "enhanced", "follow_playback",
    "follow_speaker", "look_ahead", "monotonic_clock", "voice_adjuster",
]

_LOGGER = logging.getLogger(__name__)

DISCLAIMER_MARKER = "disclaimer-given"
"""File in the user's state folder that says the disclaimer was given."""


class ListenError(CoachError):
    """Listening cannot start; the message says what to do."""


def build_printer(as_json: bool) -> EventPrinter:
    """Prints events on stdout: JSON lines for programs, or lines for people."""
    return EventPrinter(as_json)


def build_disclaimer_marker() -> DisclaimerMarker:
    """The marker in the user's state folder (platformdirs), as every earlier version used."""
    from platformdirs import user_state_dir

    return DisclaimerMarker(Path(user_state_dir("coach")) / DISCLAIMER_MARKER)


def build_disclaimer(
    voice: SoundDeviceSpeaker | None, phrases: Mapping[str, str]
) -> tuple[bool, Callable[[], None] | None]:
    """(whether the not-a-doctor line is due, what marks it given once said): the Coach's
    `disclaimer` and `disclaimer_said`. `voice` None: no real voice (printed or virtual)."""
    marker = build_disclaimer_marker()
    if not marker.due():
        return False, None
    return True, disclaimer_marking(marker, voice, phrases["disclaimer"])


def disclaimer_marking(
    marker: DisclaimerMarker, voice: SoundDeviceSpeaker | None, text: str
) -> Callable[[], None] | None:
    """What marks the disclaimer as given once it was really said; for the Coach's
    `disclaimer_said`.

    Without a real voice (printed, or a WAV session's virtual voice) the said event is the
    saying: the Coach calls the returned function when it is out. With a real voice, it is
    marked when playback of it starts, and None is returned.
    """
    if voice is None:
        return marker.given
    from coach.voice.playback import PlaybackEvent

    def on_playback(event: PlaybackEvent) -> None:
        if event.playing and event.label == text:
            marker.given()

    voice.add_playback_listener(on_playback)
    return None


def build_recognizer(settings: Settings, understanding: Understanding) -> Recognizer:
    """The recogniser for these settings, with the grammar the coach understands."""
    from coach.content.recognizer import default_recognizer_words
    from coach.hearing.asr.base import EngineUnavailableError
    from coach.hearing.asr.select import make_recognizer
    from coach.store.errors import ModelError
    from coach.store.lookup import find_vosk_model

    try:
        model = find_vosk_model(settings.model, os.environ)
    except ModelError as exc:
        raise ListenError(str(exc)) from exc
    if settings.engine == "vosk" and model is None:
        raise ListenError("no Vosk model found: run `coach models download`, or pass --model DIR")
    try:
        recognizer = make_recognizer(settings.engine, model, understanding.phrases(),
                                     is_complete=understanding.is_complete,
                                     keeps_meaning=understanding.keeps_meaning,
                                     hearing=settings.hearing, words=default_recognizer_words())
    except EngineUnavailableError as exc:
        raise ListenError(str(exc)) from exc
    _LOGGER.info("recogniser: %s", recognizer.name)
    if settings.audio.enhance:
        return enhanced(recognizer, settings.audio.enhance)
    return recognizer


def enhanced(recognizer: Recognizer, name: str) -> Recognizer:
    """`recognizer` hearing denoised audio; as it is (with a warning saying what to do)
    when the denoiser cannot start."""
    from coach.hearing.enhance import EnhancedRecognizer, EnhanceError, make_enhancer

    try:
        enhancer = make_enhancer(name, recognizer.sample_rate)
    except EnhanceError as exc:
        _LOGGER.warning("%s Hearing the microphone as it is.", exc)
        return recognizer
    _LOGGER.info("speech enhancement: %s", name)
    return EnhancedRecognizer(recognizer, enhancer)


def build_echo_filter(
    settings: Settings, understanding: Understanding, *, audible: bool = True
) -> EchoFilter:
    """The text-level judge of the coach's own words in what was heard. `audible`: False
    when the coach's voice is virtual (it makes no sound, so nothing heard is its echo)."""
    return EchoFilter(understanding, settings.echo, audible=audible)


def build_voice(
    settings: Settings, silent: bool, phrases: Mapping[str, str]
) -> SoundDeviceSpeaker | None:
    """The real TTS voice, or None (print only) when asked or when no output device works.

    The clock's words (from `phrases`) are synthesised in the background at once, so they
    start on their second when due.
    """
    if silent:
        return None
    from coach.voice.choose import make_synth
    from coach.voice.speaker import SoundDeviceSpeaker

    knobs = settings.session.speaker
    synth = make_synth(settings.voice, settings.synth)
    for attempt in range(knobs.open_attempts):
        try:
            speaker = SoundDeviceSpeaker(synth, settings.audio.output_device,
                                         playback=settings.playback)
            break
        except (RuntimeError, CoachError) as exc:  # no output device, PortAudio or espeak-ng
            if attempt + 1 < knobs.open_attempts:
                _LOGGER.info("opening the speaker failed (%s); trying again", exc)
                time.sleep(knobs.open_retry_s)
                continue
            print(f"coach: {exc}\ncoach: printing what I say instead.", file=sys.stderr)
            return None
    threading.Thread(target=speaker.prewarm, args=(clock_phrases(phrases),),
                     name="coach-prewarm", daemon=True).start()
    return speaker


def look_ahead(voice: SoundDeviceSpeaker | None, content: Content) -> list[EventSink]:
    """With a real voice, the sink that synthesises each routine's lines ahead of time."""
    if voice is None:
        return []
    from coach.session.lookahead import LookAhead

    return [LookAhead(voice.prewarm, content.routines, content.phrases)]


def voice_adjuster(
    voice: SoundDeviceSpeaker | None, knobs: SpeakerSettings
) -> Callable[[str], None] | None:
    """Louder / quieter: a gain on the synthesised samples (new settings, new cache key)."""
    if voice is None:
        return None
    steps: dict[str, float] = {IntentName.LOUDER: knobs.volume_step,
                               IntentName.QUIETER: -knobs.volume_step}

    def adjust(command: str) -> None:
        step = steps.get(command)
        if step is None:
            return
        current = voice.synth.settings
        volume = min(1.0, max(knobs.min_volume, current.volume + step))
        voice.synth.settings = dataclasses.replace(current, volume=volume)

    return adjust


def follow_playback(
    voice: SoundDeviceSpeaker | None, echo: EchoFilter, epoch: float, open_s: float
) -> None:
    """Tell the echo filter exactly when the speaker is audible, on the session clock."""
    if voice is None:
        return
    from coach.voice.playback import PlaybackEvent

    def on_playback(event: PlaybackEvent) -> None:
        at = event.at - epoch
        if event.playing:
            # open until the stop event closes it; its length places its words in time
            echo.spoke(event.label, at, at + open_s, seconds=event.seconds)
        else:
            echo.ended(event.label, at)

    voice.add_playback_listener(on_playback)


def follow_speaker(voice: SoundDeviceSpeaker | None, inputs: queue.Queue[Input]) -> None:
    """Tell the session (on its input queue, so the loop that owns the player hears it)
    when the speaker is lost and when it is back."""
    if voice is None:
        return
    from coach.voice.playback import OutputDeviceEvent

    def on_change(event: OutputDeviceEvent) -> None:
        inputs.put(SpeakerChanged(event.available, event.device))

    voice.add_device_listener(on_change)


def close_voice(voice: SoundDeviceSpeaker | None) -> None:
    """Release the speaker: its stream, its threads, and what its taps hold."""
    if voice is not None:
        voice.close()


def build_echo_canceller(
    settings: Settings, voice: SoundDeviceSpeaker | None, epoch: float
) -> LiveEchoCancel | None:
    """Echo cancellation fed with every block the speaker plays, or None (turned off, no
    speaker, or no speexdsp: then the text-level echo rules alone keep the coach off its own
    voice)."""
    if voice is None or not settings.audio.echo_cancel:
        return None
    from coach.hearing.aec import AecUnavailableError, EchoCanceller, LiveEchoCancel, OutputTimeline

    try:
        canceller = EchoCanceller(settings.hearing.aec)
    except AecUnavailableError as exc:
        _LOGGER.warning("%s; commands said over the coach will rarely be heard", exc)
        return None
    timeline = OutputTimeline(settings.hearing.aec)

    def tap(samples: npt.NDArray[np.int16], rate: int, heard_at: float) -> None:
        timeline.write(samples, rate, heard_at - epoch)

    voice.add_output_tap(tap)
    return LiveEchoCancel(timeline, canceller, settings.hearing.aec,
                          settings.hearing.double_talk)


def build_ducking(
    voice: SoundDeviceSpeaker | None, cancel: LiveEchoCancel | None
) -> Callable[[bool], None] | None:
    """What lowers the coach's voice while the user talks over it, told by the audio thread
    from the canceller's levels; None without a speaker or echo cancellation (nothing to
    tell the user's voice from the coach's by)."""
    if voice is None or cancel is None:
        return None
    return voice.duck


def monotonic_clock() -> Callable[[], float]:
    """Seconds since now, on the monotonic clock."""
    start = time.monotonic()
    return lambda: time.monotonic() - start


def drain(voice: Voice | None, knobs: SpeakerSettings) -> None:
    """Let the last words finish before the program exits."""
    if voice is None:
        return
    deadline = time.monotonic() + knobs.drain_timeout_s
    while voice.is_speaking() and time.monotonic() < deadline:
        time.sleep(knobs.drain_poll_s)
