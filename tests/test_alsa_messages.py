"""ALSA's own lines (an underrun on a busy machine) never reach the user's terminal: the coach
takes them into its debug log. Checked through a private PulseAudio, a real stream starved on
purpose, in a process of its own (libasound's handler is per process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.support.pulse import VirtualAudio

pytestmark = pytest.mark.audio

_STARVED_STREAM = textwrap.dedent("""
    import logging, sys, time
    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
    if sys.argv[1] == "coach":
        from coach.voice.playback import _sounddevice
        sd = _sounddevice()
    else:
        import sounddevice as sd

    def slower_than_real_time(outdata, frames, when, status):
        time.sleep(0.05)
        outdata.fill(0)

    with sd.OutputStream(device="pulse", samplerate=48000, channels=1, dtype="int16",
                         blocksize=480, callback=slower_than_real_time):
        time.sleep(1.5)
""")


def _starve(audio: VirtualAudio, how: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _STARVED_STREAM, how], env=audio.child_env(),
                          capture_output=True, text=True, timeout=60, check=True)


def test_underruns_go_to_the_log_not_the_terminal(pulse_devices: VirtualAudio) -> None:
    plain = _starve(pulse_devices, "plain")
    assert "underrun occurred" in plain.stderr  # what a user saw before
    routed = _starve(pulse_devices, "coach")
    assert "ALSA" not in routed.stderr
    assert "coach.audio.alsa ALSA pcm.c" in routed.stdout  # kept, for `coach -v`
