"""PcmPlayer opens its stream with the block and latency of PlaybackSettings (fake PortAudio)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from coach.settings.voice import PlaybackSettings
from coach.voice import playback
from coach.voice.playback import NoOutputDeviceError, PcmPlayer


class FakeStream:
    latency = 0.04

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.started = False

    def start(self) -> None:
        self.started = True

    def abort(self) -> None:
        self.started = False

    def close(self) -> None:
        pass


class FakeSoundDevice:
    """Just enough of the sounddevice module for one output device."""

    class PortAudioError(Exception):
        pass

    def __init__(self, devices: list[dict[str, Any]]) -> None:
        self.default = SimpleNamespace(device=(-1, 0))
        self.devices = devices
        self.streams: list[FakeStream] = []

    def query_hostapis(self) -> list[dict[str, str]]:
        return [{"name": "ALSA"}]

    def query_devices(self) -> list[dict[str, Any]]:
        return self.devices

    def OutputStream(self, **kwargs: Any) -> FakeStream:
        stream = FakeStream(**kwargs)
        self.streams.append(stream)
        return stream


SPEAKER = {"index": 0, "name": "speaker", "hostapi": 0, "max_input_channels": 0,
           "max_output_channels": 2, "default_samplerate": 48000.0}


@pytest.mark.parametrize("settings", [None, PlaybackSettings(block_seconds=0.02,
                                                              latency_seconds=0.1)])
def test_stream_uses_the_playback_settings(
    monkeypatch: pytest.MonkeyPatch, settings: PlaybackSettings | None
) -> None:
    fake = FakeSoundDevice([SPEAKER])
    monkeypatch.setattr(playback, "_sounddevice", lambda: fake)
    expected = settings or PlaybackSettings()

    player = PcmPlayer(settings=settings)
    try:
        stream = fake.streams[0]
        assert stream.started
        assert stream.kwargs["blocksize"] == int(48000 * expected.block_seconds)
        assert stream.kwargs["latency"] == expected.latency_seconds
        assert player.latency == FakeStream.latency
    finally:
        player.close()


def test_no_output_device_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(playback, "_sounddevice", lambda: FakeSoundDevice([]))
    with pytest.raises(NoOutputDeviceError, match="connect speakers or headphones"):
        PcmPlayer()
