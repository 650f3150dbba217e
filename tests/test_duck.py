"""Ducking: the coach's voice lowered while the user talks over it, through the real
playback path (PcmPlayer's PortAudio callback, with a fake PortAudio)."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import numpy.typing as npt
import pytest

from coach.session.audio_thread import listen_forever
from coach.session.inputs import Input
from coach.session.wiring import build_ducking
from coach.settings.voice import PlaybackSettings
from coach.voice import playback
from coach.voice.playback import Pcm, PcmPlayer, duck_gain
from coach.voice.speaker import SoundDeviceSpeaker
from tests.test_playback_settings import SPEAKER, FakeSoundDevice

RATE = 48000
BLOCK = 480  # 10 ms, as PlaybackSettings.block_seconds asks


class Played:
    """Runs the stream's callback as PortAudio would and keeps what reached the speaker."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = FakeSoundDevice([SPEAKER])
        monkeypatch.setattr(playback, "_sounddevice", lambda: fake)
        self.player = PcmPlayer()
        self.callback = fake.streams[0].kwargs["callback"]
        self.tapped: list[npt.NDArray[np.int16]] = []
        self.player.add_output_tap(lambda samples, rate, at: self.tapped.append(samples.copy()))

    def blocks(self, count: int) -> npt.NDArray[np.int16]:
        out = []
        for _ in range(count):
            block = np.zeros((BLOCK, 1), np.int16)
            self.callback(block, BLOCK, None, None)
            out.append(block[:, 0].copy())
        return np.concatenate(out)


def _tone(seconds: float) -> Pcm:
    return Pcm(np.full(round(seconds * RATE), 10000, np.int16), RATE)


def test_duck_lowers_the_voice_within_two_blocks_and_brings_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    played = Played(monkeypatch)
    try:
        played.player.play(_tone(2.0))
        assert np.all(played.blocks(5) == 10000)
        played.player.duck(True)
        lowering = played.blocks(3)
        lowered = round(10000 * duck_gain(PlaybackSettings()))
        assert abs(int(lowering[2 * BLOCK]) - lowered) <= 1  # attack: 20 ms
        assert np.max(np.abs(np.diff(lowering.astype(np.int32)))) < 20  # a ramp, no click
        assert played.player.gain == pytest.approx(duck_gain(PlaybackSettings()))
        assert np.all(np.abs(played.blocks(10).astype(np.int32) - lowered) <= 1)
        played.player.duck(False)
        rising = played.blocks(35)  # release: 300 ms
        assert rising[0] < 10000 and np.all(rising[-BLOCK:] == 10000)
        assert np.all(np.diff(rising.astype(np.int32)) >= 0)
        # the echo canceller's reference is what was really played
        assert np.array_equal(np.concatenate(played.tapped[-35:]), rising)
    finally:
        played.player.close()


def test_a_line_started_while_ducked_starts_low(monkeypatch: pytest.MonkeyPatch) -> None:
    played = Played(monkeypatch)
    try:
        played.player.duck(True)
        played.blocks(3)
        played.player.play(_tone(0.5))
        assert np.max(played.blocks(1)) <= round(10000 * duck_gain(PlaybackSettings())) + 1
    finally:
        played.player.close()


def test_the_speaker_ducks_its_player(monkeypatch: pytest.MonkeyPatch) -> None:
    played = Played(monkeypatch)
    try:
        speaker = SoundDeviceSpeaker(synth=None, player=played.player)  # type: ignore[arg-type]
        speaker.duck(True)
        played.blocks(3)
        assert played.player.gain < 1.0
        speaker.duck(False)
        played.blocks(40)
        assert played.player.gain == 1.0
    finally:
        played.player.close()


class _Microphone:
    arrived_at = 0.0

    def read(self, timeout: float = 2.0) -> npt.NDArray[np.int16]:
        time.sleep(0.005)
        self.arrived_at = time.monotonic()
        return np.zeros(480, np.int16)


class _Levels:
    """The canceller's levels: the user talks over the coach from the third block on."""

    def __init__(self) -> None:
        self.blocks = 0

    def talking_over(self) -> bool:
        return self.blocks >= 3

    def user_spoke(self, start: float, end: float) -> bool | None:
        return None


class _Cancel:
    delay_s = 0.01

    def __init__(self) -> None:
        self.double_talk = _Levels()

    def __call__(self, block: npt.NDArray[np.int16], heard_at: float) -> npt.NDArray[np.int16]:
        self.double_talk.blocks += 1
        return block


class _Silent:
    name = "fake"
    sample_rate = 16000

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[object]:
        return []

    def flush(self) -> list[object]:
        return []


def test_the_audio_thread_ducks_the_voice_after_every_block() -> None:
    told: list[bool] = []
    stop = threading.Event()
    inputs: queue.Queue[Input] = queue.Queue()

    def duck(lowered: bool) -> None:
        told.append(lowered)
        if len(told) >= 5:
            stop.set()

    listen_forever(_Microphone(), _Silent(), inputs, time.monotonic,  # type: ignore[arg-type]
                   stop, lambda event: None, _Cancel(), duck=duck)  # type: ignore[arg-type]
    assert told[:5] == [False, False, True, True, True]


def test_ducking_needs_a_speaker_and_echo_cancellation() -> None:
    assert build_ducking(None, _Cancel()) is None  # type: ignore[arg-type]

    class Voice:
        def duck(self, lowered: bool) -> None: ...

    assert build_ducking(Voice(), None) is None  # type: ignore[arg-type]
    assert build_ducking(Voice(), _Cancel()) is not None  # type: ignore[arg-type]
