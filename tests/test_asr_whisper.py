"""Whisper tiny.en on espeak-ng speech: commands, noise and silence rejected, test recordings."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from coach.speech.asr.base import Transcript, normalise_text
from coach.speech.asr.whisper import (
    Decoded,
    WhisperDecoder,
    WhisperRecognizer,
    WhisperSettings,
    build_prompt,
    collapse_repeats,
    find_whisper_model,
    is_hallucination,
    verify_tiny_en,
)
from coach.speech.endpoint import UtteranceSegmenter
from coach.speech.wavsource import read_wav
from tests.speech_fixtures import concat, espeak_available, pink_noise, silence, speak, with_gaps

COMMANDS = ["pause", "resume", "stop", "start the warm up", "how much time is left", "next"]
TESTDATA = Path("/usr/share/pocketsphinx/test/data")

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")


def test_collapse_repeats_keeps_one_copy() -> None:
    assert collapse_repeats("Pause. Pause. Pau") == "Pause."
    assert collapse_repeats("How much time is left? How much time is left?") == (
        "How much time is left?"
    )
    assert collapse_repeats("stop, stop now") == "stop, stop now"


def test_prompt_is_short_vocabulary() -> None:
    phrases = ["Start the warm-up", "start the core", "start the warm up", "pause"]
    assert build_prompt(phrases, max_words=5) == "Start the warm up. Start the core."
    assert build_prompt(phrases, max_words=6) == "Start the warm up. Start the core. Pause."
    assert build_prompt(None) is None


@pytest.mark.parametrize(
    ("text", "logprob", "no_speech", "junk"),
    [
        ("Thank you.", -0.2, 0.1, True),
        ("[Music]", -0.2, 0.1, True),
        ("(upbeat music)", -0.2, 0.1, True),
        ("Pause.", -0.3, 0.9, False),
        ("Pause.", -1.2, 0.9, True),
        ("Pause.", -1.8, 0.0, True),
        ("go " * 40, -0.1, 0.0, True),
    ],
)
def test_hallucination_rules(text: str, logprob: float, no_speech: float, junk: bool) -> None:
    decoded = Decoded(text, logprob, no_speech, 0.0)
    assert is_hallucination(decoded, WhisperSettings()) is junk


@pytest.fixture(scope="module")
def decoder() -> WhisperDecoder:
    return WhisperDecoder()


def recognizer(decoder: WhisperDecoder) -> WhisperRecognizer:
    return WhisperRecognizer(decoder=decoder, phrases=COMMANDS)


def run(rec: WhisperRecognizer, audio: np.ndarray, chunk: int = 1600) -> list[Transcript]:
    found: list[Transcript] = []
    for begin in range(0, len(audio), chunk):
        found.extend(rec.accept(audio[begin : begin + chunk]))
    return found + rec.flush()


@pytest.mark.slow
def test_packaged_model_is_tiny_en() -> None:
    verify_tiny_en(find_whisper_model())


@pytest.mark.slow
@needs_espeak
@pytest.mark.parametrize("phrase", ["pause", "start the warm up", "how much time is left"])
def test_recognises_command(decoder: WhisperDecoder, phrase: str) -> None:
    found = run(recognizer(decoder), concat(silence(0.5), speak(phrase), silence(1.0)))
    assert len(found) == 1
    heard = normalise_text(found[0].text).split()
    for word in phrase.split():
        assert word in heard, (phrase, found[0].text)
    assert 0.0 < found[0].confidence <= 1.0
    assert found[0].at >= found[0].end > found[0].start


@pytest.mark.slow
@needs_espeak
def test_full_window_path_agrees(decoder: WhisperDecoder) -> None:
    full = WhisperDecoder(decoder.model_path, WhisperSettings(window_seconds=None))
    audio = concat(silence(0.3), speak("how much time is left"), silence(0.3))
    assert normalise_text(full.decode(audio).text) == normalise_text(decoder.decode(audio).text)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pink noise", "silence"])
def test_nothing_from_noise_or_silence(decoder: WhisperDecoder, name: str) -> None:
    audio = pink_noise(3.0) if name == "pink noise" else silence(3.0)
    assert run(recognizer(decoder), audio) == []


@pytest.mark.slow
@needs_espeak
def test_three_utterances_with_times(decoder: WhisperDecoder) -> None:
    phrases = ["pause", "start the warm up", "how much time is left"]
    audio, truth = with_gaps([speak(p) for p in phrases], gap_s=1.0)
    rec = recognizer(decoder)
    found = run(rec, audio)
    assert [normalise_text(t.text).split()[0] for t in found] == ["pause", "start", "how"]
    for transcript, (start, end) in zip(found, truth, strict=True):
        assert abs(transcript.start - start) < 0.15 and abs(transcript.end - end) < 0.15
    print("decode seconds:", [round(s, 3) for s in rec.stats.decode_seconds])


@pytest.mark.slow
@needs_espeak
def test_early_decision_closes_before_trailing_silence(decoder: WhisperDecoder) -> None:
    def is_complete(text: str) -> bool:
        return normalise_text(text) == "pause"

    rec = WhisperRecognizer(decoder=decoder, phrases=COMMANDS, is_complete=is_complete)
    found = run(rec, concat(silence(0.5), speak("pause"), silence(1.0)))
    assert len(found) == 1
    assert found[0].at - found[0].end < 0.35  # the 400 ms silence rule would need more


@pytest.mark.slow
@pytest.mark.skipif(not TESTDATA.is_dir(), reason="pocketsphinx-testdata not installed")
def test_pocketsphinx_testdata_recordings(decoder: WhisperDecoder) -> None:
    """Real non-command speech (later used for false-trigger tests); prints what Whisper hears."""
    recordings = {"goforward.raw": np.fromfile(TESTDATA / "goforward.raw", np.int16)}
    for wav in sorted((TESTDATA / "librivox").glob("*.wav")):
        recordings[wav.name] = read_wav(wav)
    texts: dict[str, str] = {}
    times: list[float] = []
    for name, audio in recordings.items():
        rec = WhisperRecognizer(decoder=decoder, segmenter=UtteranceSegmenter(), phrases=None)
        found = run(rec, audio)
        texts[name] = " | ".join(t.text for t in found)
        times.extend(rec.stats.decode_seconds)
        print(f"{name}: {texts[name]}")
    print("median decode seconds:", round(statistics.median(times), 3))
    assert "forward" in normalise_text(texts["goforward.raw"])
