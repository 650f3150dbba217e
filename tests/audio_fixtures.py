"""Pytest plugin: real audio devices on a machine without a sound card.

Enable it in a conftest with ``pytest_plugins = ["tests.audio_fixtures"]``. Tests that use
`pulse_devices` should carry ``@pytest.mark.audio``.

`pulse_devices` starts one private PulseAudio server for the session (tests.support.pulse),
points this process at it (PULSE_SERVER) and re-initialises PortAudio so sounddevice lists
its ``pulse`` and ``default`` devices; on teardown it stops the server and restores the
environment. The yielded VirtualAudio gives:

- ``mic_fifo``: write s16le mono 16 kHz here (or call ``write_mic(pcm)``): the mic hears it;
- ``sink`` / ``monitor``: "speaker" / "speaker.monitor"; ``record_sink(seconds)`` or
  ``SinkRecorder(audio)`` record what is played;
- ``env`` / ``child_env()``: environment for subprocesses that should use these devices.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.pulse import VirtualAudio, start_virtual_audio

__all__ = ["pulse_devices"]


@pytest.fixture(scope="session")
def pulse_devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualAudio]:
    """A private PulseAudio with a null-sink speaker and a fifo microphone."""
    audio = start_virtual_audio(tmp_path_factory.mktemp("pulse"))
    saved = {name: os.environ.get(name) for name in audio.env}
    audio.apply_env()
    try:
        _reload_portaudio()
        yield audio
    finally:
        audio.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reload_portaudio()


def _reload_portaudio() -> None:
    # Imported here: collecting tests must not need PortAudio.
    from coach.audio.devices import reload_portaudio

    reload_portaudio()
