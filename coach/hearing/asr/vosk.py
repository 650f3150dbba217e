"""Vosk (Kaldi) recognizer: runtime JSON grammar, streaming partials, word confidences.

Vosk endpoints utterances itself; we add a hard cap so continuous noise can't keep one open.
With a grammar, a result must be exactly one grammar phrase: anything else (an "[unk]", or a
string of command words glued onto out-of-grammar speech) is rejected, not forced onto the
nearest command. Some models reject "[unk]" (the Korean small model does); Vosk says so on
stderr when the grammar is built, which is read here to know which words the model lacks.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.hearing.asr.base import SAMPLE_RATE, EngineUnavailableError, Pcm, Transcript
from coach.settings.hearing import VoskSettings

__all__ = [
    "UNK",
    "VoskGrammar",
    "VoskRecognizer",
    "build_grammar",
    "missing_words_from_log",
    "read_model_words",
]

_LOGGER = logging.getLogger(__name__)
_INSTALL_HINT = "pip install vosk (then `coach models download` for the English model)"
_MISSING_WORD = "Ignoring word missing in vocabulary: '"
_STDERR_LOCK = threading.Lock()

UNK = "[unk]"


@dataclass(frozen=True)
class VoskGrammar:
    """A phrase list as Vosk takes it."""

    phrases: tuple[str, ...]
    """Lower-cased phrases kept."""
    dropped: tuple[str, ...]
    """Phrases with a word the model doesn't know."""
    with_unk: bool

    def to_json(self) -> str:
        items = [*self.phrases, UNK] if self.with_unk else list(self.phrases)
        return json.dumps(items, ensure_ascii=False)


def read_model_words(model_path: Path) -> set[str] | None:
    """The model's vocabulary from words.txt (graph/ or top level), or None if it has none."""
    for candidate in (model_path / "graph" / "words.txt", model_path / "words.txt"):
        if candidate.is_file():
            lines = candidate.read_text(encoding="utf-8").splitlines()
            return {line.split()[0] for line in lines if line.strip()}
    return None


def build_grammar(
    phrases: Sequence[str], vocabulary: set[str] | None, *, with_unk: bool = True
) -> VoskGrammar:
    """Phrase list -> grammar; phrases with a word outside `vocabulary` are dropped."""
    kept: dict[str, None] = {}
    dropped: list[str] = []
    for phrase in phrases:
        text = " ".join(phrase.lower().split())
        if not text:
            continue
        if vocabulary is not None and any(w not in vocabulary for w in text.split()):
            dropped.append(phrase)
            continue
        kept.setdefault(text, None)
    if not kept:
        raise ValueError("no phrase of the grammar is in the model's vocabulary")
    unk_ok = with_unk and (vocabulary is None or UNK in vocabulary)
    return VoskGrammar(tuple(kept), tuple(dropped), unk_ok)


def missing_words_from_log(log: str) -> set[str]:
    """Words Vosk reported as missing while building a grammar."""
    found: set[str] = set()
    for line in log.splitlines():
        if _MISSING_WORD in line:
            found.add(line.split(_MISSING_WORD, 1)[1].rstrip("'\n "))
    return found


def _capture_stderr(action: Callable[[], Any]) -> tuple[Any, str]:
    """Run `action` with file descriptor 2 redirected, return its result and what it wrote."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            result = action()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return result, sink.read().decode("utf-8", "replace")


class VoskRecognizer:
    """Recognizer on a Vosk model directory."""

    name = "vosk"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_path: Path,
        phrases: Sequence[str] | None = None,
        *,
        settings: VoskSettings | None = None,
        is_complete: Callable[[str], bool] | None = None,
    ) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise EngineUnavailableError(f"Vosk missing: {_INSTALL_HINT}") from exc
        vosk.SetLogLevel(-1)  # warnings stay on: they name the words a grammar lacks
        self._vosk: Any = vosk
        self.model_path = Path(model_path)
        self._model: Any = vosk.Model(str(self.model_path))
        self.vocabulary = read_model_words(self.model_path)
        self.settings = settings or VoskSettings()
        self.is_complete = is_complete
        self.grammar: VoskGrammar | None = None
        self.partial = ""
        """Text of the open utterance so far."""
        self._recognizer: Any = None
        self._consumed = 0
        self._origin = 0  # stream sample where the current Kaldi recognizer started
        self._open_since: int | None = None
        self.set_phrases(phrases)

    @property
    def position(self) -> float:
        """Seconds of audio consumed since the stream started."""
        return self._consumed / SAMPLE_RATE

    @property
    def dropped_phrases(self) -> tuple[str, ...]:
        return self.grammar.dropped if self.grammar else ()

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self._origin = self._consumed
        self._open_since = None
        self.partial = ""
        if phrases is None:
            self.grammar = None
            self._recognizer = self._make_recognizer(None)
            return
        grammar = build_grammar(phrases, self.vocabulary)
        recognizer, log = _capture_stderr(lambda: self._make_recognizer(grammar.to_json()))
        missing = missing_words_from_log(log)
        if missing:
            grammar = self._without(grammar, missing, phrases)
            recognizer = self._make_recognizer(grammar.to_json())
        self.grammar = grammar
        self._recognizer = recognizer

    def _without(
        self, grammar: VoskGrammar, missing: set[str], phrases: Sequence[str]
    ) -> VoskGrammar:
        """Rebuild the grammar after Vosk named words it lacks ("[unk]" included)."""
        if missing - {UNK}:
            _LOGGER.warning("not in the Vosk model: %s", ", ".join(sorted(missing - {UNK})))
        known = [p for p in grammar.phrases if not set(p.split()) & missing]
        dropped = grammar.dropped + tuple(p for p in grammar.phrases if p not in known)
        if not known:
            raise EngineUnavailableError(
                f"the Vosk model {self.model_path} knows none of the coach's words; is it an "
                "English model? `coach models download` gets one"
            )
        return VoskGrammar(tuple(known), dropped, grammar.with_unk and UNK not in missing)

    def _make_recognizer(self, grammar_json: str | None) -> Any:
        args = (self._model, float(SAMPLE_RATE))
        recognizer = (
            self._vosk.KaldiRecognizer(*args, grammar_json)
            if grammar_json
            else (self._vosk.KaldiRecognizer(*args))
        )
        recognizer.SetWords(True)
        return recognizer

    def accept(self, pcm: Pcm) -> list[Transcript]:
        self._consumed += len(pcm)
        if self._recognizer.AcceptWaveform(np.asarray(pcm, np.int16).tobytes()):
            return self._final(self._recognizer.Result())
        self._update_partial()
        if self._should_close():
            return self._final(self._recognizer.FinalResult())
        return []

    def flush(self) -> list[Transcript]:
        return self._final(self._recognizer.FinalResult())

    def _update_partial(self) -> None:
        self.partial = str(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        if self.partial and self._open_since is None:
            self._open_since = self._consumed

    def _should_close(self) -> bool:
        """Hard cap reached, or the early-decision hook says the command is whole."""
        if self._open_since is None:
            return False
        if self._consumed - self._open_since >= self.settings.max_utterance_s * SAMPLE_RATE:
            return True
        return bool(self.is_complete and self.partial and self.is_complete(self.partial))

    def _final(self, result_json: str) -> list[Transcript]:
        self._open_since = None
        self.partial = ""
        result = json.loads(result_json)
        words = [w for w in result.get("result", []) if w.get("word") != UNK]
        text = " ".join(str(w["word"]) for w in words)
        if not words or not self._accepted(text, result):
            if result.get("text"):
                _LOGGER.debug("vosk rejected %r", result.get("text"))
            return []
        origin = self._origin / SAMPLE_RATE
        confidence = min(float(w.get("conf", 0.0)) for w in words)
        if confidence < self.settings.min_confidence:
            _LOGGER.debug("vosk low confidence %.2f for %r", confidence, text)
            return []
        return [
            Transcript(
                start=origin + float(words[0]["start"]),
                end=origin + float(words[-1]["end"]),
                at=self._consumed / SAMPLE_RATE,
                text=text,
                confidence=confidence,
            )
        ]

    def _accepted(self, text: str, result: dict[str, Any]) -> bool:
        if self.grammar is None:
            return True
        return UNK not in str(result.get("text", "")).split() and text in self.grammar.phrases
