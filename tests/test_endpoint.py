"""Endpointing: pure state machine on synthetic probabilities, then real audio with Silero VAD."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from coach.hearing.endpoint import (
    ChatterGate,
    Closed,
    CloseReason,
    EndpointSettings,
    EndpointStateMachine,
    EnergyClassifier,
    Opened,
    Paused,
    Quieted,
    Segment,
    SileroClassifier,
    SpeechEnded,
    SpeechPaused,
    UtteranceSegmenter,
)
from coach.hearing.wavsource import read_wav, to_mono_16k
from tests.speech_fixtures import (
    babble,
    concat,
    espeak_available,
    mix_at_snr,
    pink_noise,
    silence,
    speak,
    voiced_bounds,
    with_gaps,
)

SETTINGS = EndpointSettings()  # 512-sample (32 ms) frames
FRAME_S = SETTINGS.frame_samples / SETTINGS.sample_rate
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")


def run_machine(probabilities: list[float], settings: EndpointSettings = SETTINGS) -> list[object]:
    machine = EndpointStateMachine(settings)
    decisions: list[object] = []
    for p in probabilities:
        decisions.extend(machine.step(p))
    return decisions


def test_short_blip_does_not_open() -> None:
    assert run_machine([0.0] * 10 + [0.9, 0.9] + [0.0] * 30) == []


def test_voice_opens_with_pre_roll_and_closes_on_silence() -> None:
    decisions = run_machine([0.0] * 20 + [0.9] * 20 + [0.0] * 30)
    pre_roll = round(0.2 / FRAME_S)
    assert decisions[0] == Opened(20 - pre_roll, 20)
    closed = [d for d in decisions if isinstance(d, Closed)]
    assert closed == [Closed(40, CloseReason.SILENCE)]


def test_quiet_and_pause_events_come_before_close() -> None:
    decisions = run_machine([0.9] * 10 + [0.0] * 30)
    kinds = [type(d) for d in decisions]
    assert kinds == [Opened, Quieted, Paused, Closed]


def test_quiet_event_after_look_ms_of_silence_each_time_voice_stops() -> None:
    """A recogniser decodes ahead at every short gap; voice resuming re-arms the event."""
    look = SETTINGS.frames(SETTINGS.look_ms)
    decisions = run_machine([0.9] * 10 + [0.0] * look + [0.9] * 5 + [0.0] * 30)
    quiets = [d for d in decisions if isinstance(d, Quieted)]
    assert quiets == [Quieted(9), Quieted(9 + look + 5)]


def test_a_long_utterance_gets_more_time_for_a_pause_than_a_short_one() -> None:
    """A question may pause mid-sentence ("why does my back ... hurt"); a command is done."""
    short_end = SETTINGS.frames(SETTINGS.end_silence_ms)
    long_end = SETTINGS.frames(SETTINGS.long_end_silence_ms)
    gap = [0.0] * (short_end + 1)
    assert short_end + 1 < long_end
    short = run_machine([0.9] * 10 + gap + [0.9] * 10 + [0.0] * 40)
    assert [type(d) for d in short].count(Opened) == 2  # the gap ended the first
    voiced = SETTINGS.frames(1000.0 * SETTINGS.long_after_s)
    long = run_machine([0.9] * voiced + gap + [0.9] * 10 + [0.0] * 40)
    assert [d for d in long if isinstance(d, Closed)] == [
        Closed(voiced + len(gap) + 10, CloseReason.SILENCE)
    ]


def test_hysteresis_keeps_utterance_open_on_weak_frames() -> None:
    decisions = run_machine([0.9] * 10 + [0.4] * 20 + [0.0] * 20)
    closed = [d for d in decisions if isinstance(d, Closed)]
    assert closed == [Closed(30, CloseReason.SILENCE)]


def test_continuous_voice_is_capped_and_reopens() -> None:
    settings = EndpointSettings(max_utterance_s=2.0)
    decisions = run_machine([0.9] * 200, settings)
    closes = [d for d in decisions if isinstance(d, Closed)]
    opens = [d for d in decisions if isinstance(d, Opened)]
    assert closes and all(c.reason is CloseReason.CAP for c in closes)
    for opened, closed in zip(opens, closes, strict=False):
        assert (closed.end_frame - opened.start_frame) * FRAME_S <= 2.0 + FRAME_S
    # the next utterance never starts inside the previous one
    for closed, reopened in zip(closes, opens[1:], strict=False):
        assert reopened.start_frame >= closed.end_frame


def tone(seconds: float, level: float = 8000.0) -> np.ndarray:
    t = np.arange(round(seconds * 16000)) / 16000
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def segments_of(
    segmenter: UtteranceSegmenter, audio: np.ndarray, chunk: int = 1000
) -> list[Segment]:
    found: list[Segment] = []
    for begin in range(0, len(audio), chunk):
        events = segmenter.push(audio[begin : begin + chunk])
        found.extend(e.segment for e in events if isinstance(e, SpeechEnded))
    found.extend(e.segment for e in segmenter.flush() if isinstance(e, SpeechEnded))
    return found


def test_energy_segmenter_gives_exact_sample_positions() -> None:
    audio = concat(silence(1.0), tone(0.5), silence(1.0), tone(0.8), silence(0.3))
    found = segments_of(UtteranceSegmenter(EnergyClassifier()), audio)
    assert len(found) == 2
    truths = [(1.0, 1.5), (2.5, 3.3)]
    for segment, (start, end) in zip(found, truths, strict=True):
        assert abs(segment.start_s - start) < 0.07 and abs(segment.end_s - end) < 0.07
        assert len(segment.audio) == segment.end - segment.audio_start
        assert segment.start - segment.audio_start >= 0.15 * 16000  # pre-roll kept
        assert np.array_equal(segment.audio, audio[segment.audio_start : segment.end])
    assert found[1].reason is CloseReason.FLUSH  # only 0.3 s of silence before the end


def test_close_now_ends_at_last_voice() -> None:
    segmenter = UtteranceSegmenter(EnergyClassifier())
    events = segmenter.push(concat(silence(0.5), tone(0.6), silence(0.2)))
    assert any(isinstance(e, SpeechPaused) for e in events)
    ended = [e for e in segmenter.close_now() if isinstance(e, SpeechEnded)]
    assert len(ended) == 1 and ended[0].segment.reason is CloseReason.EARLY
    assert abs(ended[0].segment.end_s - 1.1) < 0.07
    assert not segmenter.is_open


def test_wav_reader_converts_rate_channels_and_width(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(rate) / rate
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    path = tmp_path / "stereo24.wav"
    as_int = np.rint(stereo * (1 << 23)).astype(np.int32)
    raw = np.stack([as_int & 0xFF, (as_int >> 8) & 0xFF, (as_int >> 16) & 0xFF], axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(3)
        out.setframerate(rate)
        out.writeframes(raw.astype(np.uint8).tobytes())
    pcm = read_wav(path)
    assert pcm.dtype == np.int16 and abs(len(pcm) - 16000) <= 2
    peak = np.abs(pcm[1000:-1000]).max()
    assert abs(peak - 0.5 * 32768) < 600
    direct = to_mono_16k(stereo.astype(np.float32), rate, channels=2)
    assert np.abs(direct.astype(np.int32) - pcm.astype(np.int32)).max() <= 2


@pytest.fixture(scope="module")
def silero() -> SileroClassifier:
    return SileroClassifier()


@needs_espeak
def test_three_phrases_give_three_segments(silero: SileroClassifier) -> None:
    phrases = ["pause", "start the warm up", "how much time is left"]
    audio, truth = with_gaps([speak(p) for p in phrases], gap_s=1.0)
    found = segments_of(UtteranceSegmenter(silero), audio)
    assert len(found) == 3
    for segment, (start, end) in zip(found, truth, strict=True):
        assert abs(segment.start_s - start) < 0.15, (segment.start_s, start)
        assert abs(segment.end_s - end) < 0.15, (segment.end_s, end)
        assert segment.reason is CloseReason.SILENCE


@needs_espeak
def test_speech_in_continuous_noise_closes_within_cap(silero: SileroClassifier) -> None:
    cap = 4.0
    speech = concat(silence(1.0), speak("start the warm up"), silence(6.0))
    noisy = mix_at_snr(speech, pink_noise(3.0, seed=3), snr_db=5.0)
    segmenter = UtteranceSegmenter(silero, EndpointSettings(max_utterance_s=cap))
    found = segments_of(segmenter, noisy)
    assert found, "the speech was not detected"
    for segment in found:
        assert segment.end_s - segment.audio_start / 16000 <= cap + 0.05
        assert segment.closed_at_s - segment.start_s <= cap + 0.5


def test_stream_goes_on_after_flush_with_exact_positions() -> None:
    pieces = [concat(silence(0.5), tone(0.4), silence(0.1)) for _ in range(4)]
    stream = concat(*pieces)
    segmenter = UtteranceSegmenter(EnergyClassifier())
    found: list[Segment] = []
    for piece in pieces:  # lengths are not whole frames, so a flush leaves a partial frame
        found.extend(segments_of(segmenter, piece[:-37]))
        found.extend(segments_of(segmenter, piece[-37:]))
    assert len(found) == 4
    for segment in found:
        assert np.array_equal(segment.audio, stream[segment.audio_start : segment.end])
    starts = [s.start_s for s in found]
    assert np.allclose(np.diff(starts), 1.0, atol=0.07)


# --- chatter --------------------------------------------------------------------------


def _gate_after(frames: list[tuple[float, float]], settings: EndpointSettings = SETTINGS
                ) -> ChatterGate:
    gate = ChatterGate(settings)
    for probability, level in frames:
        gate.weigh(probability, level)
    return gate


def test_chatter_is_measured_from_a_room_full_of_voices() -> None:
    rng = np.random.default_rng(1)
    gate = _gate_after([(0.9, -33.0 + rng.normal(0, 2)) for _ in range(200)])
    chatter = gate.chatter_db
    assert chatter is not None and -36.5 < chatter < -33.0
    assert gate.weigh(0.9, chatter) == 0.0  # as loud as the room: not the user
    assert gate.weigh(0.9, chatter + 10.0) == 0.9  # clearly louder: the user
    held = gate.weigh(0.9, chatter + 6.0)  # keeps an utterance open, never opens one
    assert SETTINGS.silence_threshold <= held < SETTINGS.speech_threshold


def test_chatter_alone_does_not_hold_an_utterance_open_once_the_user_stops() -> None:
    """Between the open and hold levels, chatter keeps an utterance open only shortly after
    the user's last loud syllable: babble's louder moments would otherwise hold it for
    seconds."""
    rng = np.random.default_rng(1)
    gate = _gate_after([(0.9, -33.0 + rng.normal(0, 2)) for _ in range(200)])
    chatter = gate.chatter_db
    assert chatter is not None
    hold_frames = SETTINGS.frames(1000.0 * SETTINGS.chatter_hold_s)
    assert gate.weigh(0.9, chatter + 10.0) == 0.9  # the user's syllable
    held = [gate.weigh(0.9, chatter + 6.0) for _ in range(hold_frames + 3)]
    assert all(p >= SETTINGS.silence_threshold for p in held[:hold_frames])
    assert held[-1] == 0.0
    assert gate.weigh(0.9, chatter + 10.0) == 0.9  # the user again: held once more
    assert gate.weigh(0.9, chatter + 6.0) >= SETTINGS.silence_threshold


def test_music_noise_quiet_and_the_users_own_talk_are_not_chatter() -> None:
    music = _gate_after([(0.02, -30.0)] * 200)
    assert music.chatter_db is None and music.weigh(0.9, -30.0) == 0.9
    # the user talking a third of the time, in a quiet room
    talk = _gate_after([(0.9, -25.0)] * 20 + [(0.01, -70.0)] * 40 + [(0.9, -25.0)] * 20
                       + [(0.01, -70.0)] * 40)
    assert talk.chatter_db is None
    # ... or asking a long question after a short silence: mostly voice, but it pauses
    phrase = [(0.9, -25.0)] * 14 + [(0.2, -62.0)] * 2
    question = _gate_after([(0.01, -70.0)] * 30 + phrase * 8)
    assert question.chatter_db is None


def test_chatter_gate_can_be_turned_off() -> None:
    settings = EndpointSettings(chatter_gate=False)
    gate = _gate_after([(0.9, -33.0)] * 200, settings)
    assert gate.chatter_db is not None and gate.weigh(0.9, -33.0) == 0.9


@pytest.fixture(scope="module")
def room_chatter() -> np.ndarray:
    return babble(30.0, level_dbfs=-33.0)


@needs_espeak
def test_chatter_alone_opens_nothing_once_the_room_is_known(
    silero: SileroClassifier, room_chatter: np.ndarray
) -> None:
    found = segments_of(UtteranceSegmenter(silero), room_chatter)
    settled = [s for s in found if s.start_s > 3.0]
    assert settled == [], [(s.start_s, s.end_s, s.reason) for s in settled]
    ungated = segments_of(UtteranceSegmenter(silero, EndpointSettings(chatter_gate=False)),
                          room_chatter)
    assert len([s for s in ungated if s.start_s > 3.0]) >= 4  # the VAD alone hears it all


@needs_espeak
def test_a_command_over_chatter_closes_when_the_user_stops(
    silero: SileroClassifier, room_chatter: np.ndarray
) -> None:
    command = speak("how much time is left")
    first, last = voiced_bounds(command)
    at = 10.0
    scene = concat(silence(at), command, silence(30.0 - at - len(command) / 16000))
    mixed = mix_at_snr(scene, room_chatter, snr_db=10.0)
    found = [s for s in segments_of(UtteranceSegmenter(silero), mixed) if s.start_s > 3.0]
    assert len(found) == 1, [(s.start_s, s.end_s, s.reason) for s in found]
    segment = found[0]
    start, end = at + first / 16000, at + last / 16000
    assert segment.start_s < start + 0.1 and segment.end_s > end - 0.25
    assert segment.reason is CloseReason.SILENCE and segment.closed_at_s < end + 0.8


@needs_espeak
def test_a_long_question_in_a_quiet_room_is_never_taken_for_chatter(
    silero: SileroClassifier,
) -> None:
    question = speak("my back is sore after leg day, what should I do about it, "
                     "and is it safe to train again tomorrow")
    audio = concat(silence(1.0), question, silence(1.0))
    segmenter = UtteranceSegmenter(silero)
    for start in range(0, len(audio), 512):
        segmenter.push(audio[start : start + 512])
        assert segmenter.chatter_db is None, start / 16000
