"""Whisper tiny.en on utterances cut by our own endpointer.

Whisper is not a streaming model: `UtteranceSegmenter` closes each utterance and the whole
utterance is decoded at once. The recogniser is the wiring: segmenter events go to the
engine-neutral `DecisionPolicy` (early decision, second look), which decodes with
`WhisperDecoder`; each decided utterance becomes a `Transcript`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from coach.content.recognizer import RecognizerWords, default_recognizer_words
from coach.core.transcripts import build_prompt
from coach.hearing.asr.base import SAMPLE_RATE, IsComplete, KeepsMeaning, Pcm, Transcript
from coach.hearing.asr.policy import Decided, DecisionPolicy, DecisionStats, UtteranceDecoder
from coach.hearing.asr.whisper_decoder import WhisperDecoder, find_whisper_model, verify_tiny_en
from coach.hearing.endpoint import Segment, UtteranceSegmenter
from coach.settings.hearing import DecisionSettings, WhisperSettings

__all__ = [
    "WhisperDecoder",
    "WhisperRecognizer",
    "find_whisper_model",
    "verify_tiny_en",
]


def _check_window(settings: WhisperSettings, segmenter: UtteranceSegmenter) -> None:
    """The encoder window must hold the longest utterance the endpointer can cut."""
    endpoint = segmenter.settings
    longest = endpoint.max_utterance_s + endpoint.pre_roll_ms / 1000
    if settings.window_seconds is not None and settings.window_seconds < longest:
        raise ValueError(f"a {settings.window_seconds:g} s Whisper window cannot hold a "
                         f"{longest:g} s utterance (max_utterance_s + pre_roll_ms)")


class WhisperRecognizer:
    """Recognizer: endpointer + decision policy + Whisper decode of each utterance."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_path: Path | None = None,
        phrases: Sequence[str] | None = None,
        *,
        settings: WhisperSettings | None = None,
        decision: DecisionSettings | None = None,
        words: RecognizerWords | None = None,
        segmenter: UtteranceSegmenter | None = None,
        decoder: UtteranceDecoder | None = None,
        is_complete: IsComplete | None = None,
        keeps_meaning: KeepsMeaning | None = None,
    ) -> None:
        self.settings = settings or WhisperSettings()
        self.words = words or default_recognizer_words()
        self.decoder = decoder or WhisperDecoder(model_path, self.settings)
        self.segmenter = segmenter or UtteranceSegmenter()
        _check_window(self.settings, self.segmenter)
        self.policy = DecisionPolicy(self.decoder, self.segmenter, self.words,
                                     settings=decision, is_complete=is_complete,
                                     keeps_meaning=keeps_meaning)
        self.set_phrases(phrases)

    @property
    def stats(self) -> DecisionStats:
        """Decode and second-look timings, and how many transcripts were rescored."""
        return self.policy.stats

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        prompt = build_prompt(phrases, self.settings.prompt_max_words)
        if prompt and self.words.prompt_topic:
            prompt += " " + self.words.prompt_topic
        self.policy.set_phrases(phrases, prompt)

    def accept(self, pcm: Pcm) -> list[Transcript]:
        return [_to_transcript(d) for d in self.policy.handle(self.segmenter.push(pcm))]

    def flush(self) -> list[Transcript]:
        return [_to_transcript(d) for d in self.policy.handle(self.segmenter.flush())]

    def transcribe_segment(self, segment: Segment) -> Transcript | None:
        """Decode one closed utterance; None when it is rejected as a hallucination."""
        decided = self.policy.decide_segment(segment)
        return None if decided is None else _to_transcript(decided)


def _to_transcript(decided: Decided) -> Transcript:
    segment, decoded = decided.segment, decided.decoded
    confidence = math.exp(decoded.avg_logprob) * (1.0 - 0.5 * decoded.no_speech_prob)
    return Transcript(
        start=segment.start_s,
        end=segment.end_s,
        at=segment.closed_at_s,
        text=decoded.text,
        confidence=min(1.0, max(0.0, confidence)),
        heard_as=decoded.heard_as,
    )
