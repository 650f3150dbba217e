"""The bench's SNR definition: mixing at X dB measures X dB (within 0.1 dB)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.audio import (
    RATE,
    SPEECH_DBFS,
    Voice,
    active_span,
    make_noise,
    measured_snr_db,
    mix_at_snr,
    normalise_speech,
    speak,
)

SENTENCES = ("the parking lot was full again", "did you see the game last night")


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    lead = np.zeros(RATE // 2, np.int16)
    return np.concatenate([lead, normalise_speech(speak("start the warm up", Voice("en-us", 160))),
                           lead])


@pytest.mark.parametrize("kind", ["pink", "music", "babble"])
@pytest.mark.parametrize("snr_db", [20.0, 10.0, 5.0, 0.0])
def test_mixing_at_snr_measures_that_snr(speech: np.ndarray, kind: str, snr_db: float) -> None:
    noise = make_noise(kind, len(speech), SENTENCES, seed=4)
    mixed = mix_at_snr(speech, noise, snr_db)
    assert abs(measured_snr_db(speech, mixed) - snr_db) < 0.1


def test_snr_is_over_the_active_span_only(speech: np.ndarray) -> None:
    # Noise outside the speech span must not count: silence it there and the SNR is unchanged.
    noise = make_noise("pink", len(speech), SENTENCES, seed=4)
    first, last = active_span(speech)
    outside = noise.copy()
    outside[:first] *= 10
    outside[last:] *= 10
    assert abs(measured_snr_db(speech, mix_at_snr(speech, outside, 10.0)) - 10.0) < 0.1


def test_normalised_speech_has_the_target_level(speech: np.ndarray) -> None:
    first, last = active_span(speech)
    rms = np.sqrt(np.mean(speech[first:last].astype(np.float64) ** 2)) / 32768
    assert abs(20 * np.log10(rms) - SPEECH_DBFS) < 0.1


def test_noise_kinds_differ_in_spectrum() -> None:
    # Pink noise puts more power below 500 Hz than white noise's 1/16 share; music is tonal.
    samples = 4 * RATE
    pink = np.abs(np.fft.rfft(make_noise("pink", samples, SENTENCES))) ** 2
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    assert pink[freqs < 500].sum() / pink.sum() > 0.5
    music = np.abs(np.fft.rfft(make_noise("music", samples, SENTENCES))) ** 2
    assert np.sort(music)[-20:].sum() / music.sum() > 0.2


def test_unknown_noise_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown noise kind"):
        make_noise("traffic", 100, SENTENCES)


def test_piper_speaks_a_sentence_the_same_in_every_run_and_order() -> None:
    # Piper draws each sentence's prosody from noise: unseeded, the bench's audio (and the
    # frames of everything after it in a stream) changed from run to run.
    pytest.importorskip("piper")
    joe = Voice("piper:joe", 175)
    first = speak.__wrapped__("push push push", joe)
    speak.__wrapped__("did you see the game last night", joe)
    again = speak.__wrapped__("push push push", joe)
    other = speak.__wrapped__("push push push", Voice("piper:joe", 150))
    assert np.array_equal(first, again)
    assert len(first) > RATE // 2
    assert not np.array_equal(first[: len(other)], other[: len(first)])
