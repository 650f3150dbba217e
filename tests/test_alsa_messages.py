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


_RETRY_WITH_NOISE = textwrap.dedent("""
    import logging, os, sys
    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
    from coach.audio.c_stderr import c_library_lines_to_log
    with c_library_lines_to_log(logging.getLogger("coach.retry")):
        os.write(2, b"Expression 'r' failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 2097\\n")
        os.write(2, b"ALSA lib pcm_pulse.c:758:(pulse_prepare) Unable to create stream\\n")
        print("a warning of another thread", file=sys.stderr)
    print("after", file=sys.stderr)
""")


def test_a_retry_keeps_portaudios_lines_off_the_terminal_and_loses_nothing_else() -> None:
    result = subprocess.run([sys.executable, "-c", _RETRY_WITH_NOISE], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stderr.splitlines() == ["a warning of another thread", "after"]
    assert "coach.retry Expression 'r' failed" in result.stdout
    assert "coach.retry ALSA lib pcm_pulse.c" in result.stdout
