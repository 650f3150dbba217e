"""Speech enhancement against the real denoisers (RNNoise, DeepFilterNet3): the room's noise
goes, speech passes, the stream keeps its length and stays a few ms behind."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.hearing.enhance import ENHANCERS, EnhanceError, make_enhancer
from tests.speech_fixtures import Pcm, espeak_available, pink_noise, speak

COACH = Path(sys.executable).parent / "coach"
RATE = 16_000
BLOCK = 480  # 30 ms, the microphone's block


def through(name: str, pcm: Pcm) -> Pcm:
    enhancer = make_enhancer(name, RATE)
    parts = [enhancer(pcm[i:i + BLOCK]) for i in range(0, len(pcm), BLOCK)]
    return np.concatenate([*parts, enhancer.drain()])


def rms_db(pcm: Pcm) -> float:
    return float(10 * np.log10(np.mean(pcm.astype(np.float64) ** 2) + 1e-9))


def delay(out: Pcm, reference: Pcm) -> int:
    n = min(len(out), len(reference), 3 * RATE)
    corr = np.correlate(out[:n].astype(np.float64), reference[:n].astype(np.float64), "full")
    return int(np.argmax(corr)) - (n - 1)


@pytest.mark.parametrize("name", sorted(ENHANCERS))
def test_noise_alone_is_taken_out(name: str) -> None:
    noise = pink_noise(3.0, level_dbfs=-30.0)
    out = through(name, noise)
    assert abs(len(out) - len(noise)) <= 2 * BLOCK  # the stream keeps its length
    # after the denoiser's first half second of learning the noise
    assert rms_db(out[RATE // 2:]) < rms_db(noise[RATE // 2:]) - 10.0


@pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup")
@pytest.mark.parametrize("name", sorted(ENHANCERS))
def test_speech_passes_a_few_ms_later(name: str) -> None:
    silence = np.zeros(RATE // 2, np.int16)
    speech = np.concatenate([silence, speak("how much time is left"), silence])
    out = through(name, speech)
    lag = delay(out, speech)
    assert 0 <= lag <= 0.05 * RATE  # under 50 ms behind the microphone
    aligned = out[lag:lag + len(speech)].astype(np.float64)
    kept = speech[:len(aligned)].astype(np.float64)
    assert rms_db(aligned.astype(np.int16)) > rms_db(speech) - 3.0  # speech is not removed
    similarity = np.dot(aligned, kept) / np.sqrt(np.dot(aligned, aligned) * np.dot(kept, kept))
    assert similarity > 0.8


def test_an_unknown_denoiser_says_which_there_are() -> None:
    with pytest.raises(EnhanceError, match="deepfilter"):
        make_enhancer("noisegate")


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup")
@pytest.mark.parametrize("name", sorted(ENHANCERS))
def test_the_coach_hears_through_the_denoiser(name: str, tmp_path: Path) -> None:
    from tests.speech_fixtures import mix_at_snr

    speech = np.concatenate([np.zeros(RATE, np.int16), speak("what's next"),
                             np.zeros(RATE, np.int16)])
    noisy = mix_at_snr(speech, pink_noise(len(speech) / RATE, seed=3), 20.0)
    wav = tmp_path / "noisy.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(noisy.tobytes())
    result = subprocess.run([str(COACH), "--engine", "whisper", "--enhance", name, "listen",
                             "--input", str(wav), "--json"],
                            capture_output=True, text=True, timeout=120, check=True)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["intent"] for line in lines] == ["whats_next"], lines
    assert abs(lines[0]["start"] - 1.0) < 0.3  # the denoiser's lag is a few ms


def test_doctor_names_the_denoiser(tmp_path: Path) -> None:
    result = subprocess.run([str(COACH), "--enhance", "deepfilter", "doctor"],
                            capture_output=True, text=True, timeout=120)
    assert "speech enhancement" in result.stdout and "deepfilter" in result.stdout
