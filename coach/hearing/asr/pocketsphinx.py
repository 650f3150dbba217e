"""PocketSphinx 5 (US-English model from its wheel): streaming decoder, finite-state grammar or LM.

Utterances are cut by `endpoint.UtteranceSegmenter`. With `streaming` on, audio is fed to the
decoder as it arrives (closing costs only the final search), but live cepstral mean normalisation
starts cold and cost accuracy here ("how much time is left" -> "how"), so by default each closed
utterance is decoded whole (full_utt, batch CMN): 30-60 ms per command on this machine.

A grammar forces every sound onto some phrase, so it can optionally hold a loop of common
filler words (routines/recognizer.yaml) that absorbs out-of-grammar speech; it is off by
default (`PocketSphinxSettings.fillers`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.content.recognizer import RecognizerWords, default_recognizer_words
from coach.core.textnorm import normalise_text as _normalise
from coach.core.wordgraph import WordGraph, word_graph
from coach.hearing.asr.base import SAMPLE_RATE, EngineUnavailableError, Pcm, Transcript
from coach.hearing.endpoint import (
    SegmenterEvent,
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    UtteranceSegmenter,
)
from coach.settings.hearing import PocketSphinxSettings

__all__ = ["GrammarPlan", "PocketSphinxRecognizer", "plan_grammar"]

_LOGGER = logging.getLogger(__name__)
_INSTALL_HINT = "pip install pocketsphinx==5.1.1"

@dataclass(frozen=True)
class GrammarPlan:
    """What a phrase list becomes for PocketSphinx."""

    graph: WordGraph
    """The kept phrases as a minimal word graph (the decoder's finite-state grammar)."""
    fillers: tuple[str, ...]
    """Words that may loop from the start instead of a phrase (absorbing other speech)."""
    phrases: tuple[str, ...]
    """Normalised phrases kept in the grammar."""
    dropped: tuple[str, ...]
    """Phrases with a word missing from the dictionary."""

    def transitions(self) -> list[tuple[int, int, float] | tuple[int, int, float, str]]:
        """The grammar as `Decoder.create_fsg` takes it: every step from a state equally
        likely; the filler loop is one more state."""
        graph = self.graph
        arcs = list(graph.arcs)
        if self.fillers:
            loop = graph.states
            arcs += [(graph.start, loop, word) for word in self.fillers]
            arcs += [(loop, loop, word) for word in self.fillers]
            arcs.append((loop, graph.final, None))
        leaving = Counter(src for src, _, _ in arcs)
        return [
            (src, dst, 1.0 / leaving[src]) if word is None else (src, dst, 1.0 / leaving[src], word)
            for src, dst, word in arcs
        ]


def plan_grammar(
    phrases: Sequence[str],
    known: set[str] | None = None,
    *,
    fillers: bool = True,
    filler_words: Sequence[str] | None = None,
) -> GrammarPlan:
    """Phrase list -> grammar plan; `known` (None = all) are the dictionary's words, and
    `filler_words` (None: the shipped recognizer.yaml's) the words the filler loop may use."""
    if filler_words is None:
        filler_words = default_recognizer_words().filler_words
    kept: dict[str, None] = {}
    dropped: list[str] = []
    for phrase in phrases:
        words = _normalise(phrase).split()
        if not words:
            continue
        if known is not None and any(w not in known for w in words):
            dropped.append(phrase)
            continue
        kept.setdefault(" ".join(words), None)
    if not kept:
        raise ValueError("no phrase of the grammar is in the dictionary")
    grammar_words = {w for p in kept for w in p.split()}
    filler = [w for w in filler_words if w not in grammar_words and (known is None or w in known)]
    graph = word_graph(p.split() for p in kept)
    return GrammarPlan(graph, tuple(filler) if fillers else (), tuple(kept), tuple(dropped))


class PocketSphinxRecognizer:
    """Recognizer on PocketSphinx with our endpointer."""

    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        phrases: Sequence[str] | None = None,
        *,
        segmenter: UtteranceSegmenter | None = None,
        settings: PocketSphinxSettings | None = None,
        words: RecognizerWords | None = None,
    ) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineUnavailableError(f"PocketSphinx missing: {_INSTALL_HINT}") from exc
        self._decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._lm_search: str = self._decoder.current_search()
        self.segmenter = segmenter or UtteranceSegmenter()
        self.settings = settings or PocketSphinxSettings()
        self.words = words or default_recognizer_words()
        self.fillers = self.settings.fillers
        self.streaming = self.settings.streaming
        self._tail = np.zeros(round(self.settings.tail_s * SAMPLE_RATE), np.int16)
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

    def _add_compound(self, word: str) -> None:
        """Teach the dictionary a word made of two it knows ("cooldown", "bodyweight")."""
        if self.knows(word):
            return
        for cut in range(2, len(word) - 1):
            head = self._decoder.lookup_word(word[:cut])
            tail = self._decoder.lookup_word(word[cut:])
            if head is not None and tail is not None:
                self._decoder.add_word(word, f"{head} {tail}", False)
                return

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False
        if phrases is None:
            self.plan = None
            self._decoder.activate_search(self._lm_search)
            return
        words = {w for p in phrases for w in _normalise(p).split()}
        for word in sorted(words):
            self._add_compound(word)
        known = {w for w in words | set(self.words.filler_words) if self.knows(w)}
        self.plan = plan_grammar(phrases, known, fillers=self.fillers,
                                 filler_words=self.words.filler_words)
        if self.plan.dropped:
            unknown = sorted({w for p in self.plan.dropped for w in _normalise(p).split()} - known)
            _LOGGER.warning("%d phrases left out: PocketSphinx's dictionary lacks %s",
                            len(self.plan.dropped), ", ".join(unknown))
        self._searches += 1
        name = f"grammar{self._searches}"
        graph = self.plan.graph
        fsg = self._decoder.create_fsg(name, graph.start, graph.final, self.plan.transitions())
        self._decoder.add_fsg(name, fsg)
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
                padded = np.concatenate([event.segment.audio, self._tail])
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
