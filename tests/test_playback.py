"""Playback through real (virtual PulseAudio) devices: audible, timed, interruptible."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from coach.settings.voice import VoiceSettings
from coach.voice.playback import NoOutputDeviceError, PcmPlayer, PlaybackEvent, list_output_devices
from coach.voice.speaker import SoundDeviceSpeaker
from coach.voice.tts import Pyttsx3Synth
from tests.support.pulse import SinkRecorder, VirtualAudio

pytestmark = pytest.mark.audio

LONG_PHRASE = (
    "Stand with your feet hip width apart, brace your core, and push your hips back "
    "as if closing a car door behind you."
)


@pytest.fixture(scope="module")
def speaker(pulse_devices: VirtualAudio) -> Iterator[SoundDeviceSpeaker]:
    spoken = SoundDeviceSpeaker(Pyttsx3Synth(VoiceSettings()), device="pulse")
    yield spoken
    spoken.close()


def loud_span(samples: npt.NDArray[np.int16], rate: int) -> float:
    """Seconds from the first to the last clearly non-silent sample (0 if silent)."""
    magnitude = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(magnitude > 300)
    return 0.0 if loud.size == 0 else float(loud[-1] - loud[0]) / rate


def test_pulse_device_is_listed(pulse_devices: VirtualAudio) -> None:
    assert "pulse" in [device.name for device in list_output_devices()]


def test_unknown_device_is_a_clear_error(pulse_devices: VirtualAudio) -> None:
    with pytest.raises(NoOutputDeviceError, match="coach devices"):
        PcmPlayer("no-such-device")


def test_long_phrase_is_heard_for_its_duration(
    pulse_devices: VirtualAudio, speaker: SoundDeviceSpeaker
) -> None:
    recorder = SinkRecorder(pulse_devices)
    recorder.start()
    seconds = speaker.say("Halfway. Keep your chest lifted.")
    assert speaker.is_speaking()
    assert speaker.wait(timeout=seconds + 2.0)
    time.sleep(0.2)
    recorded = recorder.stop()
    assert seconds == pytest.approx(speaker.duration("Halfway. Keep your chest lifted."))
    assert loud_span(recorded, recorder.rate) == pytest.approx(seconds, abs=0.25)


def test_stop_silences_within_100_ms(
    pulse_devices: VirtualAudio, speaker: SoundDeviceSpeaker
) -> None:
    events: list[PlaybackEvent] = []
    speaker.add_playback_listener(events.append)
    latencies = []
    for _ in range(3):
        events.clear()
        recorder = SinkRecorder(pulse_devices)
        recorder.start()
        seconds = speaker.say(LONG_PHRASE)
        time.sleep(1.0)
        stopped_at = time.monotonic()
        speaker.stop()
        while speaker.is_speaking() and time.monotonic() - stopped_at < 1.0:
            time.sleep(0.001)
        latencies.append(time.monotonic() - stopped_at)
        time.sleep(0.3)
        recorded = recorder.stop()
        started = next(e.at for e in events if e.playing)
        heard = loud_span(recorded, recorder.rate)
        assert seconds > 4.0
        assert 0.5 < heard <= stopped_at - started + 0.15
    median = statistics.median(latencies)
    print(f"stop latency (is_speaking false): median {median * 1000:.0f} ms, all {latencies}")
    assert median < 0.15


def test_queue_plays_in_order_and_reports_playback(speaker: SoundDeviceSpeaker) -> None:
    events: list[PlaybackEvent] = []
    speaker.add_playback_listener(events.append)
    speaker.say("3")
    speaker.say("2")
    assert speaker.wait(timeout=5.0)
    time.sleep(0.1)  # listeners run on a helper thread
    assert [(e.playing, e.label) for e in events[-4:]] == [
        (True, "3"),
        (False, "3"),
        (True, "2"),
        (False, "2"),
    ]
    assert speaker.playing_until <= time.monotonic()


def test_interrupt_cuts_in(speaker: SoundDeviceSpeaker) -> None:
    events: list[PlaybackEvent] = []
    speaker.add_playback_listener(events.append)
    speaker.say(LONG_PHRASE)
    time.sleep(0.3)
    speaker.say("Pause", interrupt=True)
    assert speaker.wait(timeout=5.0)
    time.sleep(0.1)
    long_events = [e for e in events if e.label == LONG_PHRASE]
    assert long_events[-1].at - long_events[0].at < 1.0


def test_virtual_mic_hears_what_is_written(pulse_devices: VirtualAudio) -> None:
    tone = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 16000) * 8000).astype(np.int16)
    command = [
        "parec",
        f"--device={pulse_devices.source}",
        "--format=s16le",
        "--rate=16000",
        "--channels=1",
        "--raw",
    ]
    with subprocess.Popen(command, env=pulse_devices.child_env(), stdout=subprocess.PIPE) as rec:
        time.sleep(0.2)
        pulse_devices.write_mic(tone)
        time.sleep(0.3)
        rec.terminate()
        data, _ = rec.communicate(timeout=5)
    heard = np.frombuffer(data, dtype="<i2")
    assert np.abs(heard.astype(np.int32)).max() > 4000


@pytest.mark.audio
def test_a_stalled_output_stream_is_restarted(pulse_devices: VirtualAudio) -> None:
    player = PcmPlayer()
    try:
        player._stream.stop()  # what a stalled ALSA stream looks like: no more callbacks
        deadline = time.monotonic() + 5.0
        while player.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert player.restarts == 1
        tone = (8000 * np.sin(np.arange(player.rate // 2) * 0.1)).astype(np.int16)
        from coach.voice.playback import Pcm

        player.play(Pcm(tone, player.rate))
        assert player.wait(timeout=5.0)  # the restarted stream plays again
    finally:
        player.close()
