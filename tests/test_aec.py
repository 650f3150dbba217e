"""Echo cancellation: the output timeline (pure) and speexdsp's canceller (the real library)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from coach.hearing.aec import EchoCanceller, EchoDelay, LiveEchoCancel, OutputTimeline
from coach.settings.hearing import AecSettings

RATE = 16_000


def test_timeline_reads_what_was_heard_at_another_rate() -> None:
    timeline = OutputTimeline()
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(9600) / 48_000)).astype(np.int16)
    timeline.write(tone[:4800], 48_000, heard_at=10.0)
    timeline.write(tone[4800:], 48_000, heard_at=10.1 + 0.004)  # a late callback
    got = timeline.read(10.05, 1600).astype(np.float64)
    expected = tone[2400::3][:1600].astype(np.float64)  # the same times, at 16 kHz
    assert np.sqrt(np.mean((got - expected) ** 2)) < 50.0  # of 8000: band-limited, in time


def test_timeline_resamples_without_aliases() -> None:
    """A 12 kHz tone from a 48 kHz speaker is above what 16 kHz can hold: a microphone's
    resampler removes it, and so must the reference (naive decimation would fold it to
    4 kHz)."""
    timeline = OutputTimeline()
    high = (8000 * np.sin(2 * np.pi * 12_000 * np.arange(48_000) / 48_000)).astype(np.int16)
    for i in range(0, len(high), 960):
        timeline.write(high[i : i + 960], 48_000, heard_at=1.0 + i / 48_000)
    assert np.abs(timeline.read(1.5, 1600)).max() < 200


def test_timeline_is_silent_where_nothing_was_played() -> None:
    timeline = OutputTimeline(AecSettings(timeline_keep_s=1.0))
    assert not timeline.read(0.0, 160).any()  # nothing written yet
    timeline.write(np.full(16_000, 1000, np.int16), RATE, heard_at=5.0)
    assert not timeline.read(4.5, 1600).any()  # before it played
    assert timeline.read(5.5, 160).tolist() == [1000] * 160
    assert not timeline.read(6.5, 160).any()  # after the last block
    for second in range(1, 4):  # more than keep_s later: the old audio is gone
        timeline.write(np.zeros(16_000, np.int16), RATE, heard_at=5.0 + second)
    assert not timeline.read(5.5, 160).any()


def speech_like(seconds: float, seed: int) -> npt.NDArray[np.int16]:
    """Noise shaped by a syllable-rate envelope: broadband like a voice, with pauses."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 6)), 0, None) ** 0.5
    voiced = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    out: npt.NDArray[np.int16] = (6000 * envelope * voiced / voiced.std()).astype(np.int16)
    return out


def room(far: npt.NDArray[np.int16], delay_s: float = 0.03) -> npt.NDArray[np.int16]:
    """A speaker heard across a room: delayed, attenuated, with a short reverberant tail."""
    rng = np.random.default_rng(1)
    tail = rng.standard_normal(1600) * np.exp(-np.arange(1600) / 300) * 0.05
    response = np.concatenate([np.zeros(round(delay_s * RATE)), [0.6], tail])
    heard = np.convolve(far.astype(np.float64), response)[: len(far)]
    return np.clip(heard, -32768, 32767).astype(np.int16)


def power_db(x: npt.NDArray[np.int16]) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def cancel(canceller: EchoCanceller, near: npt.NDArray[np.int16],
           far: npt.NDArray[np.int16], block: int = 480) -> npt.NDArray[np.int16]:
    parts = [canceller.process(near[i : i + block], far[i : i + block])
             for i in range(0, len(near), block)]
    lag = canceller.frame_samples
    return np.concatenate([*parts, np.zeros(lag, np.int16)])[lag:]


def test_canceller_removes_the_echo_and_keeps_the_user() -> None:
    far = speech_like(8.0, seed=2)
    echo = room(far)
    user = np.zeros_like(far)
    user[6 * RATE : 7 * RATE] = speech_like(1.0, seed=3)  # said over the coach, late on
    cleaned = cancel(EchoCanceller(), echo + user, far)
    echo_only = slice(4 * RATE, 6 * RATE)  # after the filter has converged
    assert power_db(echo[echo_only]) - power_db(cleaned[echo_only]) >= 15.0
    over = slice(6 * RATE, 7 * RATE)
    assert abs(power_db(cleaned[over]) - power_db(user[over])) <= 3.0


def test_blocks_of_any_length_come_back_at_their_length() -> None:
    canceller = EchoCanceller()
    for length in (480, 100, 333, 0, 1024):
        block = np.zeros(length, np.int16)
        assert len(canceller.process(block, block)) == length


def test_microphone_and_reference_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        EchoCanceller().process(np.zeros(480, np.int16), np.zeros(479, np.int16))


@pytest.mark.parametrize("delay_s", [0.05, 0.3, -0.15])
def test_live_cancel_finds_the_echo_wherever_it_comes(delay_s: float) -> None:
    """The speaker reports 48 kHz blocks with their times, the microphone 30 ms blocks with
    theirs; the echo comes `delay_s` after (or, for a device that reports too much latency,
    before) its reported time. It is measured, and removed."""
    far = speech_like(8.0, seed=4)
    far_48k = np.repeat(far, 3)  # the speaker runs at 48 kHz
    shift = round(abs(delay_s) * RATE)
    heard = room(far, delay_s=max(delay_s, 0.0))
    if delay_s < 0:
        heard = np.concatenate([heard[shift:], np.zeros(shift, np.int16)])
    timeline = OutputTimeline()
    live = LiveEchoCancel(timeline, EchoCanceller())
    cleaned = []
    ahead = 3840  # the speaker's blocks are sent 0.24 s before they are reported heard
    for i in range(-ahead, len(far), 480):  # as the stream goes
        if 0 <= i + ahead < len(far):
            j = 3 * (i + ahead)
            timeline.write(far_48k[j : j + 1440], 48_000, heard_at=2.0 + (i + ahead) / RATE)
        if i < 0:
            continue
        cleaned.append(live(heard[i : i + 480], 2.0 + i / RATE))
    assert live.delay.delay_s == pytest.approx(delay_s, abs=0.002)
    late = slice(6 * RATE, 8 * RATE)
    assert power_db(heard[late]) - power_db(np.concatenate(cleaned)[late]) >= 15.0


def test_doctor_reports_echo_cancellation(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes.util

    from coach.cli.doctor import check_echo_cancel
    from coach.settings import AudioSettings, Settings

    assert check_echo_cancel(Settings()).ok  # the real library, installed by scripts/setup
    off = check_echo_cancel(Settings(audio=AudioSettings(echo_cancel=False)))
    assert off.ok and "off" in off.detail
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    missing = check_echo_cancel(Settings())
    assert not missing.ok and "libspeexdsp1" in missing.fix


def test_echo_delay_moves_only_when_two_measurements_agree() -> None:
    """In CI a count ("3, 2, 1", a second apart) once matched at 968 ms; the reference jumped
    there and back, and the filter took seconds to adapt again."""
    delay = EchoDelay(AecSettings(delay_window_s=0.5, delay_search_s=0.25))
    far = np.random.default_rng(8).standard_normal(16_000) * 3000

    def measure(lag_s: float) -> float | None:
        lag = round(lag_s * RATE)
        output = far[: delay.window + 2 * delay.search]
        mic = output[delay.search - lag : delay.search - lag + delay.window]
        return delay.measure(mic.astype(np.int16), output.astype(np.int16))

    assert measure(0.02) == pytest.approx(0.02, abs=0.001)
    assert delay.delay_s == pytest.approx(0.02, abs=0.001)  # the first is taken at once
    assert measure(0.2) == pytest.approx(0.2, abs=0.001)
    assert delay.delay_s == pytest.approx(0.02, abs=0.001)  # a lone outlier is not
    measure(0.025)
    measure(0.1)
    measure(0.102)
    assert delay.delay_s == pytest.approx(0.102, abs=0.001)  # two in a row are


def test_callback_jitter_does_not_move_the_timeline() -> None:
    """A callback's reported time jitters, or shifts without the sound moving; the anchor
    follows only a large, lasting change (the stream restarted or skipped)."""
    timeline = OutputTimeline(AecSettings(timeline_keep_s=2.0))
    ramp = np.arange(160, dtype=np.int16)
    for block in range(21):
        early = 0.03 if block == 20 else 0.0
        timeline.write(ramp, RATE, heard_at=1.0 + block * 0.01 - early)
    assert timeline.read(1.19, 160).tolist() == ramp.tolist()  # where it was
    for block in range(21, 80):  # the stream skipped 300 ms for good
        timeline.write(ramp, RATE, heard_at=1.3 + block * 0.01)
    assert timeline.read(1.3 + 0.7, 160).tolist() == ramp.tolist()
