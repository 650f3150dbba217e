"""PocketSphinx 5 (US-English model from its wheel): streaming decoder, JSGF grammar or LM.

Utterances are cut by `endpoint.UtteranceSegmenter`. With `streaming=True` audio is fed to the
decoder as it arrives (closing costs only the final search), but live cepstral mean normalisation
starts cold and cost accuracy here ("how much time is left" -> "how"), so by default each closed
utterance is decoded whole (full_utt, batch CMN): 30-60 ms per command on this machine.

A grammar forces every sound onto some phrase, so it can optionally hold a loop of common
filler words that absorbs out-of-grammar speech.
Measured here it is off by default: it made decoding 10-30x slower and swallowed real commands.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.speech.asr.base import SAMPLE_RATE, EngineUnavailableError, Pcm, Transcript
from coach.speech.asr.base import normalise_text as _normalise
from coach.speech.endpoint import (
    SegmenterEvent,
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    UtteranceSegmenter,
)

__all__ = ["FILLER_WORDS", "GrammarPlan", "PocketSphinxRecognizer", "plan_grammar"]

_LOGGER = logging.getLogger(__name__)
_INSTALL_HINT = "pip install pocketsphinx==5.1.1"
_TAIL = np.zeros(SAMPLE_RATE * 3 // 10, np.int16)

FILLER_WORDS = [
    "the",
    "a",
    "to",
    "and",
    "of",
    "in",
    "it",
    "is",
    "that",
    "you",
    "i",
    "was",
    "he",
    "she",
    "for",
    "on",
    "with",
    "as",
    "they",
    "be",
    "at",
    "this",
    "have",
    "from",
    "or",
    "one",
    "had",
    "by",
    "word",
    "but",
    "not",
    "what",
    "all",
    "were",
    "we",
    "when",
    "your",
    "can",
    "said",
    "there",
    "use",
    "an",
    "each",
    "which",
    "do",
    "how",
    "their",
    "if",
    "will",
    "up",
    "other",
    "about",
    "out",
    "many",
    "then",
    "them",
    "these",
    "so",
    "some",
    "her",
    "would",
    "make",
    "like",
    "him",
    "into",
    "time",
    "has",
    "look",
    "two",
    "more",
    "write",
    "go",
    "see",
    "number",
    "no",
    "way",
    "could",
    "people",
]
"""Common words that absorb out-of-grammar speech (those in the grammar itself are skipped)."""


@dataclass(frozen=True)
class GrammarPlan:
    """What a phrase list becomes for PocketSphinx."""

    jsgf: str
    phrases: tuple[str, ...]
    """Normalised phrases kept in the grammar."""
    dropped: tuple[str, ...]
    """Phrases with a word missing from the dictionary."""


def plan_grammar(
    phrases: Sequence[str], known: set[str] | None = None, *, fillers: bool = True
) -> GrammarPlan:
    """Phrase list -> JSGF; `known` (None = all) are the dictionary's words."""
    kept: dict[str, None] = {}
    dropped: list[str] = []
    for phrase in phrases:
        words = _normalise(phrase).replace("'", "").split()
        if not words:
            continue
        if known is not None and any(w not in known for w in words):
            dropped.append(phrase)
            continue
        kept.setdefault(" ".join(words), None)
    if not kept:
        raise ValueError("no phrase of the grammar is in the dictionary")
    grammar_words = {w for p in kept for w in p.split()}
    filler = [w for w in FILLER_WORDS if w not in grammar_words and (known is None or w in known)]
    body = " | ".join(kept)
    lines = ["#JSGF V1.0;", "grammar coach;"]
    if fillers and filler:
        lines.append("<filler> = " + " | ".join(filler) + ";")
        body += " | <filler>+"
    lines.append(f"public <command> = {body};")
    return GrammarPlan("\n".join(lines) + "\n", tuple(kept), tuple(dropped))


class PocketSphinxRecognizer:
    """Recognizer on PocketSphinx with our endpointer."""

    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        phrases: Sequence[str] | None = None,
        *,
        segmenter: UtteranceSegmenter | None = None,
        fillers: bool = False,
        streaming: bool = False,
    ) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineUnavailableError(f"PocketSphinx missing: {_INSTALL_HINT}") from exc
        self._decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._lm_search: str = self._decoder.current_search()
        self.segmenter = segmenter or UtteranceSegmenter()
        self.fillers = fillers
        self.streaming = streaming
        self.plan: GrammarPlan | None = None
        self._searches = 0
        self._in_utterance = False
        self.set_phrases(phrases)

    @property
    def dropped_phrases(self) -> tuple[str, ...]:
        """Phrases left out of the grammar because a word is not in the dictionary."""
        return self.plan.dropped if self.plan else ()

    def knows(self, word: str) -> bool:
        """True if the word is in the pronunciation dictionary."""
        return self._decoder.lookup_word(word) is not None

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False
        if phrases is None:
            self.plan = None
            self._decoder.activate_search(self._lm_search)
            return
        words = {w for p in phrases for w in _normalise(p).replace("'", "").split()}
        known = {w for w in words | set(FILLER_WORDS) if self.knows(w)}
        self.plan = plan_grammar(phrases, known, fillers=self.fillers)
        if self.plan.dropped:
            _LOGGER.warning("not in the PocketSphinx dictionary: %s", ", ".join(self.plan.dropped))
        self._searches += 1
        name = f"grammar{self._searches}"
        self._decoder.add_jsgf_string(name, self.plan.jsgf)
        self._decoder.activate_search(name)

    def accept(self, pcm: Pcm) -> list[Transcript]:
        return self._handle(self.segmenter.push(pcm))

    def flush(self) -> list[Transcript]:
        return self._handle(self.segmenter.flush())

    def _handle(self, events: list[SegmenterEvent]) -> list[Transcript]:
        found: list[Transcript] = []
        for event in events:
            if isinstance(event, SpeechEnded) and not self.streaming:
                self._decoder.start_utt()
                self._in_utterance = True
                # the segment stops at its last voiced frame; the models expect a silent tail
                padded = np.concatenate([event.segment.audio, _TAIL])
                self._decoder.process_raw(padded.tobytes(), False, True)
                segment = event.segment
                transcript = self._finish(segment.start_s, segment.end_s, segment.closed_at_s)
                found.extend([transcript] if transcript else [])
            elif not self.streaming:
                continue
            elif isinstance(event, SpeechStarted):
                self._decoder.start_utt()
                self._in_utterance = True
                self._feed(event.audio)
            elif isinstance(event, SpeechAudio) and self._in_utterance:
                self._feed(event.audio)
            elif isinstance(event, SpeechEnded) and self._in_utterance:
                transcript = self._finish(
                    event.segment.start_s, event.segment.end_s, event.segment.closed_at_s
                )
                found.extend([transcript] if transcript else [])
        return found

    def _feed(self, pcm: Pcm) -> None:
        self._decoder.process_raw(pcm.tobytes(), False, False)

    def _finish(self, start: float, end: float, at: float) -> Transcript | None:
        self._decoder.end_utt()
        self._in_utterance = False
        hypothesis = self._decoder.hyp()
        text = hypothesis.hypstr.strip() if hypothesis is not None else ""
        if not text or not self._accepted(text):
            _LOGGER.debug("pocketsphinx rejected %r", text)
            return None
        # Posterior probability of the best path (from the lattice); 1.0 when it has no rival.
        confidence = float(self._decoder.get_logmath().exp(hypothesis.prob))
        return Transcript(start, end, at, text, min(1.0, max(0.0, confidence)))

    def _accepted(self, text: str) -> bool:
        """With a grammar, only whole phrases count (filler-word runs are rejected)."""
        return self.plan is None or text in self.plan.phrases
