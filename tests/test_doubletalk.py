"""Double-talk: the user's voice told from the coach's echo by what the canceller removed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coach.hearing.aec import EchoCanceller, LiveEchoCancel, OutputTimeline
from coach.hearing.doubletalk import DoubleTalk
from coach.settings.hearing import AecSettings, DoubleTalkSettings
from tests.test_aec import RATE, room, speech_like

BLOCK = 480


def feed(detector: DoubleTalk, mic: npt.NDArray[np.int16], far: npt.NDArray[np.int16],
         cleaned: npt.NDArray[np.int16], lag: int = 0) -> None:
    for i in range(0, len(mic), BLOCK):
        detector.observe(mic[i : i + BLOCK], far[i : i + BLOCK], cleaned[i : i + BLOCK],
                         heard_at=i / RATE, lag=lag)


def test_echo_removed_well_is_the_coach_alone() -> None:
    far = speech_like(6.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    cleaned = (mic * 0.01).astype(np.int16)  # 40 dB removed
    detector = DoubleTalk()
    feed(detector, mic, far, cleaned)
    assert detector.user_spoke(4.0, 5.0) is False


def test_a_voice_the_filter_leaves_in_is_the_users() -> None:
    far = speech_like(6.0, seed=5)
    user = np.zeros_like(far)
    user[4 * RATE : 5 * RATE] = speech_like(1.0, seed=6)
    mic = (far * 0.5 + user).astype(np.int16)
    cleaned = (far * 0.005 + user).astype(np.int16)
    detector = DoubleTalk()
    feed(detector, mic, far, cleaned)
    assert detector.user_spoke(4.0, 5.0) is True
    assert detector.user_spoke(1.0, 2.0) is False


def test_it_cannot_tell_before_the_filter_works_or_when_the_coach_is_silent() -> None:
    far = speech_like(6.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    detector = DoubleTalk()
    feed(detector, mic, far, (mic * 0.5).astype(np.int16))  # 6 dB removed: not yet adapted
    assert detector.user_spoke(4.0, 5.0) is None
    silent = DoubleTalk()
    nothing = np.zeros_like(far)
    feed(silent, mic, nothing, mic)
    assert silent.user_spoke(4.0, 5.0) is None
    assert DoubleTalk().user_spoke(0.0, 1.0) is None


def test_the_cancellers_lag_is_taken_into_account() -> None:
    """The canceller's output comes 50 ms late: levels pair each input with its output.
    Over a coach who never pauses, a user speaks in 50 ms bursts. Misaligned by one burst,
    each burst at the microphone would meet an output without it (all removed: the echo)
    and each output burst an input without it (added: the filter's estimate): no user."""
    rng = np.random.default_rng(7)
    far = (3000 * rng.standard_normal(4 * RATE)).astype(np.int16)
    bursts = np.concatenate([np.zeros(2 * RATE), np.tile(np.repeat([1.0, 0.0], 800), 20)])
    user = (6000 * rng.standard_normal(len(far)) * bursts).astype(np.int16)
    mic = (far * 0.5 + user).astype(np.int16)
    lag = 800
    cleaned = np.concatenate([np.zeros(lag, np.int16), (far * 0.005 + user).astype(np.int16)])
    aligned, misaligned = DoubleTalk(), DoubleTalk()
    feed(aligned, mic, far, cleaned[: len(mic)], lag=lag)
    feed(misaligned, mic, far, cleaned[: len(mic)], lag=0)
    assert aligned.user_spoke(0.5, 1.9) is False
    assert aligned.user_spoke(2.0, 3.9) is True
    assert misaligned.user_spoke(2.0, 3.9) is False


def test_through_the_real_canceller() -> None:
    """speexdsp on a room's echo, a user speaking over it late on."""
    far = speech_like(10.0, seed=2)
    echo = room(far, delay_s=0.0)
    user = np.zeros_like(far)
    user[8 * RATE : 9 * RATE] = speech_like(1.0, seed=3)
    heard = (echo.astype(np.int32) + user).clip(-32768, 32767).astype(np.int16)
    timeline = OutputTimeline(AecSettings(timeline_keep_s=12.0))
    timeline.write(far, RATE, heard_at=0.0)
    live = LiveEchoCancel(timeline, EchoCanceller())
    for i in range(0, len(heard), BLOCK):
        live(heard[i : i + BLOCK], i / RATE)
    assert live.double_talk.user_spoke(6.0, 7.5) is False
    assert live.double_talk.user_spoke(8.0, 9.0) is True


def _live_over(far: npt.NDArray[np.int16], user: npt.NDArray[np.int16]) -> list[tuple[float, bool]]:
    """speexdsp on a room's echo plus `user`, block by block as the audio thread runs it:
    (end of each block, whether the user is talking over the coach then)."""
    echo = room(far, delay_s=0.0)
    heard = (echo.astype(np.int32) + user).clip(-32768, 32767).astype(np.int16)
    timeline = OutputTimeline(AecSettings(timeline_keep_s=len(far) / RATE + 2.0))
    timeline.write(far, RATE, heard_at=0.0)
    live = LiveEchoCancel(timeline, EchoCanceller())
    states = []
    for i in range(0, len(heard), BLOCK):
        live(heard[i : i + BLOCK], i / RATE)
        states.append(((i + BLOCK) / RATE, live.double_talk.talking_over()))
    return states


def test_talking_over_the_coach_is_seen_within_a_few_frames() -> None:
    far = speech_like(12.0, seed=2)
    user = np.zeros_like(far)
    user[8 * RATE : 10 * RATE] = speech_like(2.0, seed=3)
    states = _live_over(far, user)
    first = next(at for at, over in states if over)
    assert 8.0 < first <= 8.0 + 0.1  # the voice's first syllable is at its start
    assert all(over for at, over in states if 8.2 < at < 9.8)
    assert not any(over for at, over in states if at > 10.0 + 0.7)  # back up after the hold


def test_the_coach_alone_is_never_taken_for_the_user() -> None:
    far = speech_like(12.0, seed=2)
    states = _live_over(far, np.zeros_like(far))
    assert not any(over for _, over in states)


def test_a_cough_ducks_only_for_a_moment() -> None:
    far = speech_like(12.0, seed=2)
    user = np.zeros_like(far)
    burst = np.random.default_rng(4).standard_normal(round(0.15 * RATE)) * 5000
    user[8 * RATE : 8 * RATE + len(burst)] = burst.astype(np.int16)
    states = _live_over(far, user)
    ducked = [at for at, over in states if over]
    assert ducked and 8.0 < ducked[0] < 8.2
    assert ducked[-1] < 8.15 + DoubleTalkSettings().duck_hold_s + 0.1


def test_nothing_is_ducked_before_the_filter_works() -> None:
    far = speech_like(6.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    detector = DoubleTalk()
    feed(detector, mic, far, (mic * 0.5).astype(np.int16))  # 6 dB removed: not yet adapted
    assert not detector.talking_over()


def test_the_filters_own_estimate_is_not_a_voice() -> None:
    """The speaker's signal ahead of its echo: the microphone is quiet while the canceller's
    output holds its estimate of an echo that has not arrived. Louder out than in is not
    a voice left in."""
    far = speech_like(6.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    cleaned = (mic * 0.01).astype(np.int16)
    mic[4 * RATE : 5 * RATE] = (far[4 * RATE : 5 * RATE] * 0.0005).astype(np.int16)
    cleaned[4 * RATE : 5 * RATE] = (far[4 * RATE : 5 * RATE] * 0.2).astype(np.int16)
    detector = DoubleTalk()
    ducked = []
    for i in range(0, len(mic), BLOCK):
        detector.observe(mic[i : i + BLOCK], far[i : i + BLOCK], cleaned[i : i + BLOCK],
                         heard_at=i / RATE)
        ducked.append(detector.talking_over())
    assert detector.user_spoke(4.0, 5.0) is False
    assert not any(ducked)


def test_a_filter_slipping_from_a_deep_removal_is_still_the_echo() -> None:
    """Where the filter usually removes 40 dB, a stretch with 20 dB removed is the echo
    with the filter slipping, not a user: a user at the microphone is not 20 dB below it."""
    far = speech_like(6.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    cleaned = (mic * 0.01).astype(np.int16)  # 40 dB removed
    cleaned[4 * RATE : 5 * RATE] = (mic[4 * RATE : 5 * RATE] * 0.1).astype(np.int16)  # 20 dB
    detector = DoubleTalk()
    feed(detector, mic, far, cleaned)
    assert detector.user_spoke(4.0, 5.0) is False


def test_a_filter_that_lost_the_echo_just_before_cannot_tell() -> None:
    """Removing 40 dB for a long while, then nothing for the last seconds (its reference
    slipped): what it leaves in now is the coach's voice as much as anyone's."""
    far = speech_like(12.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    cleaned = (mic * 0.01).astype(np.int16)
    cleaned[8 * RATE :] = mic[8 * RATE :]  # nothing removed from 8 s on
    detector = DoubleTalk()
    feed(detector, mic, far, cleaned)
    assert detector.user_spoke(10.5, 11.5) is None


def test_a_few_scattered_frames_in_a_long_utterance_are_not_a_voice() -> None:
    """A filter slipping on the coach's voice for 30 ms now and then leaves a few frames in
    a 3 s utterance; a user talking over the coach fills most of what they say."""
    far = speech_like(10.0, seed=5)
    mic = (far * 0.5).astype(np.int16)
    cleaned = (mic * 0.01).astype(np.int16)
    for at in np.arange(6.0, 9.0, 0.5):
        slip = slice(round(at * RATE), round((at + 0.03) * RATE))
        cleaned[slip] = mic[slip]
    detector = DoubleTalk()
    feed(detector, mic, far, cleaned)
    assert detector.user_spoke(6.0, 9.0) is False
