"""Test audio made at test time: espeak-ng speech, silence, pink noise, mixing at an SNR."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coach.hearing.wavsource import TARGET_RATE, read_wav

Pcm = npt.NDArray[np.int16]

ESPEAK_TIMEOUT_S = 20.0


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, voice: str = "en-us", speed: int = 160) -> Pcm:
    """espeak-ng speech as 16 kHz mono int16 (resampled with soxr)."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=ESPEAK_TIMEOUT_S,
        )
        return read_wav(wav)


def silence(seconds: float) -> Pcm:
    return np.zeros(round(seconds * TARGET_RATE), np.int16)


def concat(*parts: Pcm) -> Pcm:
    return np.concatenate([np.asarray(p, np.int16) for p in parts])


def with_gaps(
    utterances: list[Pcm], gap_s: float, lead_s: float = 0.5
) -> tuple[Pcm, list[tuple[float, float]]]:
    """Utterances separated by silence, and each one's true (start, end) in seconds.

    The truth is where the speech samples are (espeak's own leading/trailing silence trimmed).
    """
    parts: list[Pcm] = [silence(lead_s)]
    truth: list[tuple[float, float]] = []
    position = len(parts[0])
    for utterance in utterances:
        first, last = voiced_bounds(utterance)
        truth.append(((position + first) / TARGET_RATE, (position + last) / TARGET_RATE))
        parts.extend([utterance, silence(gap_s)])
        position += len(utterance) + round(gap_s * TARGET_RATE)
    return concat(*parts), truth


def voiced_bounds(pcm: Pcm, threshold: int = 300) -> tuple[int, int]:
    """First and one-past-last sample louder than `threshold`."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def pink_noise(seconds: float, level_dbfs: float = -25.0, seed: int = 7) -> Pcm:
    """Pink (1/f) noise at an RMS level, via spectral shaping of white noise."""
    count = round(seconds * TARGET_RATE)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1 / TARGET_RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, count)
    noise *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(noise**2))
    return np.clip(noise * 32768, -32768, 32767).astype(np.int16)


def mix_at_snr(speech: Pcm, noise: Pcm, snr_db: float) -> Pcm:
    """Speech plus noise scaled so speech RMS / noise RMS = snr_db (noise looped or cut)."""
    reps = -(-len(speech) // max(1, len(noise)))
    bed = np.tile(noise.astype(np.float64), reps)[: len(speech)]
    voiced = speech[np.abs(speech.astype(np.int32)) > 300].astype(np.float64)
    speech_rms = np.sqrt(np.mean(voiced**2)) if len(voiced) else 1.0
    noise_rms = np.sqrt(np.mean(bed**2)) or 1.0
    bed *= speech_rms / noise_rms / 10 ** (snr_db / 20)
    mixed = speech.astype(np.float64) + bed
    return np.clip(mixed, -32768, 32767).astype(np.int16)


BABBLE_LINES = (
    ("en-us", "I think the new place on the corner does a great breakfast on Sundays."),
    ("en-gb", "My brother finally sold his old car after trying for about three months."),
    ("en-us+f3", "Did you see how many people turned up for the match last night?"),
    ("en-us+m7", "We should book the tickets early this year because they always sell out."),
    ("en-gb+f2", "The train was late again so I walked the last part of the way home."),
)


def babble(seconds: float, level_dbfs: float = -28.0, seed: int = 5) -> Pcm:
    """Several people talking at once (espeak voices, each looped from a random point)."""
    count = round(seconds * TARGET_RATE)
    rng = np.random.default_rng(seed)
    total = np.zeros(count)
    for voice, line in BABBLE_LINES:
        talk = speak(line, voice).astype(np.float64)
        looped = np.tile(talk, -(-count // len(talk)) + 1)
        start = int(rng.integers(0, len(talk)))
        total += looped[start : start + count]
    total *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(total**2)) * 32768
    return np.clip(total, -32768, 32767).astype(np.int16)
