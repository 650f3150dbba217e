"""The hands-free audio thread: microphone -> (echo cancellation) -> recogniser -> inputs.

It survives a lost device (reported, reopened, the session goes on) and any other error
(reported and retried): a silent dead audio thread is the worst case.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from coach.hearing.aec import LiveEchoCancel
from coach.hearing.asr.base import Recognizer
from coach.hearing.microphone import Microphone, MicrophoneLost
from coach.hearing.streamclock import StreamClock
from coach.session.coach import EventSink
from coach.session.events import InfoEvent
from coach.session.inputs import EndOfInput, Heard, Input
from coach.session.loudness import SpeechLevel, block_level_db
from coach.settings.hearing import MicrophoneSettings
from coach.settings.session import LevelSettings, ListeningSettings

__all__ = ["listen_forever"]

_LOGGER = logging.getLogger(__name__)


def listen_forever(
    microphone: Microphone,
    recognizer: Recognizer,
    inputs: queue.Queue[Input],
    clock: Callable[[], float],
    stop: threading.Event,
    notify: EventSink,
    cancel: LiveEchoCancel | None = None,
    knobs: ListeningSettings | None = None,
    clock_knobs: MicrophoneSettings | None = None,
    level_knobs: LevelSettings | None = None,
    duck: Callable[[bool], None] | None = None,
    meter: Callable[[float], None] | None = None,
) -> None:
    """Put every utterance heard on `inputs`, on the session clock, until `stop` is set.

    Each utterance carries its level over the room (coach.session.loudness), measured on
    the audio the recogniser was fed (after echo cancellation, so not the coach's voice).
    With `cancel`, `duck` is told after every block whether the user is talking over the
    coach (its voice is lowered while they do). `meter` is told each block's level (dBFS),
    for the screen.
    """
    knobs = knobs or ListeningSettings()
    consumed = 0
    rate = recognizer.sample_rate
    stream_clock = StreamClock(rate, clock_knobs)
    level = SpeechLevel(rate, level_knobs)
    lost = False
    while not stop.is_set():
        try:
            block = microphone.read()
            if lost:  # said only once audio flows: a stream may open and stay silent
                lost = False
                notify(InfoEvent("Microphone is back. Listening."))
            consumed += len(block)
            # when the block came, not when we got to it: a decode may have held us up
            arrived = clock() - (time.monotonic() - microphone.arrived_at)
            offset = stream_clock.observe(consumed, arrived)
            if cancel is not None:
                block = cancel(block, offset + (consumed - len(block)) / rate)
                offset -= cancel.delay_s  # its output comes that much later
                if duck is not None:
                    duck(cancel.double_talk.talking_over())
            level.add(block)
            if meter is not None:
                meter(block_level_db(block))
            for t in recognizer.accept(block):
                start, end = t.start + offset, t.end + offset
                user_spoke = cancel.double_talk.user_spoke(start, end) if cancel else None
                _LOGGER.debug("heard %r (%.2f-%.2f s): user's voice %s", t.heard_as or t.text,
                              start, end, user_spoke)
                inputs.put(Heard(t.text, start, end, clock(), t.heard_as, user_spoke,
                                 level.level_db(t.start, t.end)))
        except MicrophoneLost as exc:
            if not lost:  # once per loss, however many reopened streams stay silent
                lost = True
                notify(InfoEvent(f"Microphone lost ({exc}). Your place is kept; "
                                 "listening again when it is back."))
            while not stop.is_set() and not microphone.reopen(attempts=1,
                                                              wait=knobs.reopen_wait_s):
                pass
            if not stop.is_set():
                stream_clock.reset()
        except Exception as exc:  # keep listening; a silent dead audio thread is the worst case
            _LOGGER.exception("audio thread error")
            notify(InfoEvent(f"Listening failed ({exc}); retrying."))
            time.sleep(knobs.error_pause_s)
    inputs.put(EndOfInput())
