"""The decision policy on its own: any decoder with decode, score and alternatives will do."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coach.content.recognizer import default_recognizer_words
from coach.core.textnorm import normalise_text
from coach.core.transcripts import Decoded
from coach.hearing.asr.base import KeepsMeaning
from coach.hearing.asr.policy import DecisionPolicy, UtteranceDecoder
from coach.hearing.endpoint import EndpointSettings, EnergyClassifier, UtteranceSegmenter
from coach.settings.hearing import DecisionSettings
from tests.speech_fixtures import concat, silence
from tests.test_asr_whisper import tone


class OneWordDecoder:
    """Hears every clip as `text`; cannot score texts or give alternatives (like an engine
    without forced decoding)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def decode(self, pcm: np.ndarray, prompt: str | None = None) -> Decoded:
        return Decoded(self.text, -0.2, 0.0, 0.0)

    def score(self, decoded: Decoded, texts: Sequence[str]) -> list[float] | None:
        return None

    def alternatives(self, decoded: Decoded, prompt: str | None, count: int) -> list[str]:
        return []


def decide(text: str, settings: DecisionSettings | None = None) -> list[tuple[str, float]]:
    decoder: UtteranceDecoder = OneWordDecoder(text)
    segmenter = UtteranceSegmenter(EnergyClassifier(), EndpointSettings(chatter_gate=False))
    policy = DecisionPolicy(decoder, segmenter, default_recognizer_words(), settings=settings,
                            is_complete=lambda said: normalise_text(said) == "pause")
    policy.set_phrases(["pause", "next"], prompt=None)
    audio = concat(silence(0.5), tone(0.6), silence(1.0))
    found = []
    for begin in range(0, len(audio), 480):
        found.extend(policy.handle(segmenter.push(audio[begin : begin + 480])))
    found.extend(policy.handle(segmenter.flush()))
    return [(d.decoded.text, d.segment.closed_at_s - d.segment.end_s) for d in found]


def test_a_whole_command_is_decided_at_the_pause() -> None:
    [(text, waited)] = decide("Pause.")
    assert text == "Pause." and waited < 0.25


def test_junk_is_dropped_and_other_words_wait_for_the_silence() -> None:
    assert decide("Thank you.") == []
    [(text, waited)] = decide("Hello there.")
    assert text == "Hello there." and waited >= 0.3


def test_too_little_voice_is_not_decoded_when_it_closes() -> None:
    assert decide("Hello there.", DecisionSettings(min_voice_s=1.0)) == []


class ScoringDecoder(OneWordDecoder):
    """Hears every clip as `text` and scores texts from a table (unknown texts: far worse)."""

    def __init__(self, text: str, scores: dict[str, float]) -> None:
        super().__init__(text)
        self.scores = scores
        self.scored: list[str] = []

    def score(self, decoded: Decoded, texts: Sequence[str]) -> list[float] | None:
        self.scored.extend(texts[1:])
        return [self.scores.get(text, -100.0) for text in texts]


def second_look(keeps_meaning: KeepsMeaning | None) -> tuple[str, list[str]]:
    """A question heard in words the coach understands; a pain phrase the audio supports
    about as well."""
    heard, pain = "How come my lower back pain.", "i popped my lower back"
    decoder = ScoringDecoder(heard, {heard: -15.6, pain: -17.5})
    segmenter = UtteranceSegmenter(EnergyClassifier(), EndpointSettings(chatter_gate=False))
    policy = DecisionPolicy(decoder, segmenter, default_recognizer_words(),
                            is_complete=lambda said: normalise_text(said) == pain,
                            keeps_meaning=keeps_meaning)
    policy.set_phrases([pain, "how come my lower back hurts"], prompt=None)
    audio = concat(silence(0.5), tone(0.6), silence(1.0))
    found = []
    for begin in range(0, len(audio), 480):
        found.extend(policy.handle(segmenter.push(audio[begin : begin + 480])))
    found.extend(policy.handle(segmenter.flush()))
    return found[0].decoded.text, decoder.scored


def test_the_second_look_keeps_what_the_words_mean() -> None:
    pain = "i popped my lower back"
    assert second_look(None)[0] == pain  # the audio alone would make it a pain report
    text, scored = second_look(lambda heard, phrase: phrase != pain)
    assert text == "How come my lower back pain." and pain not in scored
