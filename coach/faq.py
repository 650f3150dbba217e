"""Question text -> the FAQ entry that answers it, with a score.

Each entry has several phrasings. A question is compared with every phrasing by the
overlap of their content words (stopwords out, light stemming, word families), each
word weighted by how rare it is among the phrasings (IDF), and by a character measure
for near-verbatim questions. Words no phrasing uses weigh fully against a match, so
"how do I bake bread" finds nothing.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from coach.content.model import FaqEntry
from coach.textnorm import content_words, drop_fillers, match_form, spoken_form

__all__ = ["FaqIndex", "FaqMatch", "FaqSettings"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaqMatch:
    """The best FAQ entry for a question."""

    entry: FaqEntry | None
    """None when no entry is close enough."""
    score: float
    """Similarity 0..1 of the best entry (also when it was rejected)."""


@dataclass(frozen=True)
class FaqSettings:
    """Knobs of the FAQ matcher, tuned on the phrasings."""

    threshold: float = 0.45
    """Lowest score (0..1) that is accepted."""
    word_weight: float = 0.8
    """Share of the content-word measure in the score; the rest is the character measure."""
    word_similarity: float = 0.88
    """An unknown word is read as a known one from this character similarity (0..1) on."""
    min_prefix: int = 5
    """An unknown word that starts with a known one of at least this length is that word."""
    min_content_words: int = 2
    """Questions with fewer content words ("what time is it") must be near-verbatim."""
    verbatim: float = 0.9
    """Character similarity (0..1) from which a question counts as near-verbatim."""


@dataclass(frozen=True)
class _Phrasing:
    entry: FaqEntry
    text: str
    """Match form, fillers removed."""
    words: frozenset[str]
    """Stemmed content words."""
    norm: float


class FaqIndex:
    """Finds the FAQ entry whose phrasings are closest to a question."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        fillers: Sequence[str] = (),
        settings: FaqSettings | None = None,
    ) -> None:
        self._settings = settings or FaqSettings()
        self._fillers = tuple(match_form(filler) for filler in fillers)
        self._entries = tuple(entries)
        texts = [(entry, self._key(q)) for entry in self._entries for q in entry.questions]
        counts = Counter(word for _, text in texts for word in set(content_words(text.split())))
        total = max(1, len(texts))
        self._idf = {word: math.log(1.0 + total / count) for word, count in counts.items()}
        self._unknown_idf = math.log(1.0 + total)
        self._phrasings = [self._phrasing(entry, text) for entry, text in texts]
        _LOGGER.debug("%d FAQ phrasings, %d content words", len(texts), len(self._idf))

    def _key(self, text: str) -> str:
        return " ".join(drop_fillers(match_form(text).split(), self._fillers))

    def _phrasing(self, entry: FaqEntry, text: str) -> _Phrasing:
        words = frozenset(content_words(text.split()))
        return _Phrasing(entry, text, words, self._norm(words))

    def _norm(self, words: frozenset[str]) -> float:
        return math.sqrt(sum(self._weight(word) ** 2 for word in words))

    def _weight(self, word: str) -> float:
        return self._idf.get(word, self._unknown_idf)

    def phrases(self) -> list[str]:
        """Every question phrasing in spoken form, without duplicates."""
        spoken = (spoken_form(q) for entry in self._entries for q in entry.questions)
        return list(dict.fromkeys(text for text in spoken if text))

    def best(self, text: str) -> FaqMatch:
        """The entry that answers `text`, or FaqMatch(None, best score)."""
        ranked = self.ranked(text)
        if not ranked:
            return FaqMatch(None, 0.0)
        entry, score = ranked[0]
        if score < self._settings.threshold:
            return FaqMatch(None, score)
        return FaqMatch(entry, score)

    def ranked(self, text: str) -> list[tuple[FaqEntry, float]]:
        """Every entry with its score, best first."""
        key = self._key(text)
        words = frozenset(self._known(word) for word in content_words(key.split()))
        if not words:
            return []
        best: dict[str, tuple[FaqEntry, float]] = {}
        for phrasing in self._phrasings:
            score = self._score(key, words, phrasing)
            known = best.get(phrasing.entry.id)
            if known is None or score > known[1]:
                best[phrasing.entry.id] = (phrasing.entry, score)
        return sorted(best.values(), key=lambda pair: pair[1], reverse=True)

    def _known(self, word: str) -> str:
        """`word`, or the known content word a recognition slip or inflection hides."""
        if word in self._idf:
            return word
        for known in self._idf:
            shorter, longer = sorted((word, known), key=len)
            if len(shorter) >= self._settings.min_prefix and longer.startswith(shorter):
                return known
            if fuzz.ratio(word, known) >= self._settings.word_similarity * 100.0:
                return known
        return word

    def _score(self, key: str, words: frozenset[str], phrasing: _Phrasing) -> float:
        characters = fuzz.token_sort_ratio(key, phrasing.text) / 100.0
        few_words = len(words) < self._settings.min_content_words
        if few_words and characters < self._settings.verbatim:
            return 0.0
        shared = sum(self._weight(word) ** 2 for word in words & phrasing.words)
        norms = self._norm(words) * phrasing.norm
        cosine = shared / norms if norms else 0.0
        weight = self._settings.word_weight
        return weight * cosine + (1.0 - weight) * characters
