"""The audio thread: a lost microphone is reported, retried, and the session goes on."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pytest

from coach.hearing.asr.base import Transcript
from coach.hearing.microphone import Microphone, MicrophoneLost
from coach.session.audio_thread import listen_forever
from coach.session.events import InfoEvent, SessionEvent
from coach.session.inputs import EndOfInput, Heard, Input
from coach.settings.hearing import MicrophoneSettings


class FlakyMicrophone:
    """Delivers a block, loses the device, fails to reopen once, then works again."""

    def __init__(self) -> None:
        self.reads = 0
        self.reopen_calls = 0
        self.arrived_at = 0.0

    def read(self, timeout: float = 2.0) -> np.ndarray:
        self.reads += 1
        if self.reads == 2:
            raise MicrophoneLost("device unplugged")
        time.sleep(0.01)
        self.arrived_at = time.monotonic()
        return np.zeros(480, np.int16)

    def reopen(self, attempts: int = 1, wait: float = 1.0) -> bool:
        self.reopen_calls += 1
        return self.reopen_calls >= 2


class OneWordRecognizer:
    name = "fake"
    sample_rate = 16000

    def __init__(self) -> None:
        self.blocks = 0

    def accept(self, pcm: np.ndarray) -> list[Transcript]:
        self.blocks += 1
        if self.blocks == 3:  # the third block after the loss: audio flows again
            return [Transcript(0.1, 0.5, 0.6, "pause", 0.9)]
        return []

    def flush(self) -> list[Transcript]:
        return []

    def set_phrases(self, phrases: object) -> None:
        pass


def listen_until_heard(microphone: FlakyMicrophone) -> tuple[Input, list[str], Input]:
    """Run the audio thread on `microphone` until it hears something: what it heard, the
    notices it gave, and what it put out after being stopped."""
    events: queue.Queue[Input] = queue.Queue()
    notices: list[str] = []
    stop = threading.Event()

    def notice(event: SessionEvent) -> None:
        assert isinstance(event, InfoEvent)
        notices.append(event.text)

    worker = threading.Thread(
        target=listen_forever,
        args=(microphone, OneWordRecognizer(), events, time.monotonic, stop, notice),
        daemon=True,
    )
    worker.start()
    heard = events.get(timeout=10)
    stop.set()
    worker.join(timeout=5)
    return heard, notices, events.get(timeout=5)


def test_lost_microphone_is_reported_retried_and_listening_resumes() -> None:
    microphone = FlakyMicrophone()
    heard, notices, last = listen_until_heard(microphone)
    assert isinstance(heard, Heard) and heard.text == "pause"
    assert notices[0].startswith("Microphone lost (device unplugged). Your place is kept")
    assert notices[1] == "Microphone is back. Listening."
    assert microphone.reopen_calls == 2
    assert isinstance(last, EndOfInput)


class SilentReopenMicrophone(FlakyMicrophone):
    """Lost; the first two reopened streams open but send nothing; the third sends audio."""

    def read(self, timeout: float = 2.0) -> np.ndarray:
        self.reads += 1
        if self.reads == 2 or (self.reads > 2 and self.reopen_calls < 3):
            raise MicrophoneLost("the microphone stopped sending audio")
        time.sleep(0.01)
        self.arrived_at = time.monotonic()
        return np.zeros(480, np.int16)

    def reopen(self, attempts: int = 1, wait: float = 1.0) -> bool:
        self.reopen_calls += 1
        return True


def test_a_loss_is_told_once_and_back_only_when_audio_flows() -> None:
    microphone = SilentReopenMicrophone()
    heard, notices, _ = listen_until_heard(microphone)
    assert isinstance(heard, Heard) and heard.text == "pause"
    assert microphone.reopen_calls == 3
    assert notices == [
        "Microphone lost (the microphone stopped sending audio). Your place is kept; "
        "listening again when it is back.",
        "Microphone is back. Listening.",
    ]


def _unopened_microphone() -> Microphone:
    """A Microphone whose device callback is called by the test (no sound card here)."""
    microphone = Microphone.__new__(Microphone)
    microphone._blocks = queue.Queue()
    microphone._resampler = None
    microphone.settings = MicrophoneSettings()
    return microphone


def test_audio_queued_while_starting_is_dropped_and_a_device_error_kept() -> None:
    microphone = _unopened_microphone()
    for value in (0.1, 0.2, 0.3):
        microphone._on_block(np.full((480, 1), value, np.float32), 480, None, None)
    assert microphone.drop_queued() == 3
    microphone._on_block(np.full((480, 1), 0.5, np.float32), 480, None, None)
    assert microphone.read(timeout=1.0)[0] == int(0.5 * 32767)  # the newest block only
    microphone._on_block(np.zeros((480, 1), np.float32), 480, None, None)
    microphone._blocks.put(RuntimeError("device gone"))
    assert microphone.drop_queued() == 1
    with pytest.raises(MicrophoneLost, match="device gone"):
        microphone.read(timeout=1.0)
