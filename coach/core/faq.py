"""Question text -> the FAQ entry that answers it, with a score.

Each entry has several phrasings. A question is compared with every phrasing by the
overlap of their content words (stopwords out, light stemming, word families; a word the
phrasing lacks but that sounds like one of its words counts as that word), each
word weighted by how rare it is among the phrasings (IDF), and by a character measure
for near-verbatim questions. Words no phrasing uses weigh fully against a match, so
"how do I bake bread" finds nothing. A question about going on despite pain gets the entry
that declares `going_on` whatever else matches: no answer may sound like permission.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from coach.content.lexicon import Lexicon, shipped_lexicon
from coach.content.model import FaqEntry
from coach.core.safety import asks_to_go_on
from coach.core.textnorm import content_words, drop_fillers, match_form, sound_key, spoken_form
from coach.settings.text import FaqSettings

__all__ = ["FaqIndex", "FaqMatch"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaqMatch:
    """The best FAQ entry for a question."""

    entry: FaqEntry | None
    """None when no entry is close enough."""
    score: float
    """Similarity 0..1 of the best entry (also when it was rejected)."""


class _Weights:
    """IDF weights of content words over a collection of texts."""

    def __init__(self, texts: Sequence[frozenset[str]]) -> None:
        counts = Counter(word for words in texts for word in words)
        total = max(1, len(texts))
        self.idf = {word: math.log(1.0 + total / count) for word, count in counts.items()}
        self.unknown = math.log(1.0 + total)
        """Weight of a word no text uses: as rare as can be."""

    def mass(self, words: Iterable[str]) -> float:
        """Sum of squared weights."""
        return sum(self.idf.get(word, self.unknown) ** 2 for word in words)


@dataclass(frozen=True)
class _Phrasing:
    entry: FaqEntry
    text: str
    """Match form, fillers removed."""
    words: frozenset[str]
    """Stemmed content words."""
    sounds: dict[str, str]
    """Sound key -> the phrasing's word with that key (words long enough to tell)."""

    def heard_as(self, words: frozenset[str], keys: Mapping[str, str]) -> frozenset[str]:
        """`words` with each one this phrasing does not use read as its word that sounds the
        same, if any: a recogniser writes "week core" and "mad back" for "weak core" and
        "bad back", and "week" is a word the FAQ also uses. `keys`: each word's sound key."""
        return frozenset(
            word if word in self.words else self.sounds.get(keys[word], word) for word in words
        )


class FaqIndex:
    """Finds the FAQ entry whose phrasings are closest to a question."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        fillers: Sequence[str] = (),
        settings: FaqSettings | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        """`lexicon`: the words text matching treats specially; None for the shipped one."""
        self._settings = settings or FaqSettings()
        self._lexicon = lexicon or shipped_lexicon()
        self._fillers = tuple(match_form(filler, self._lexicon) for filler in fillers)
        self._filler_words = frozenset(word for filler in self._fillers for word in filler.split())
        self._entries = tuple(entries)
        self._going_on = next((entry for entry in self._entries if entry.going_on), None)
        self._phrasings = [
            self._phrasing(entry, self._key(question))
            for entry in self._entries
            for question in entry.questions
        ]
        self._documents = {entry.id: self._document(entry) for entry in self._entries}
        self._phrasing_weights = _Weights([phrasing.words for phrasing in self._phrasings])
        self._entry_weights = _Weights(list(self._documents.values()))
        self._vocabulary = frozenset(self._entry_weights.idf)
        self._sorted_vocabulary = sorted(self._vocabulary)
        self._by_sound = self._words_by_sound(
            Counter(word for phrasing in self._phrasings for word in phrasing.words)
        )
        _LOGGER.debug("%d FAQ phrasings, %d words", len(self._phrasings), len(self._vocabulary))

    def _key(self, text: str) -> str:
        return " ".join(drop_fillers(match_form(text, self._lexicon).split(), self._fillers))

    def _unprefixed(self, text: str) -> list[str]:
        """Match-form words of `text` without the fillers it opens with; the fillers inside
        stay ("is it ok to train")."""
        words = match_form(text, self._lexicon).split()
        start = 0
        while start < len(words) and words[start] in self._filler_words:
            start += 1
        return words[start:]

    def _sound_key(self, word: str) -> str:
        return sound_key(word, self._lexicon)

    def _phrasing(self, entry: FaqEntry, key: str) -> _Phrasing:
        words = self._words(key)
        return _Phrasing(entry, key, words, self._sounds(words))

    def _words(self, key: str) -> frozenset[str]:
        return frozenset(content_words(key.split(), self._lexicon))

    def _document(self, entry: FaqEntry) -> frozenset[str]:
        texts = [*entry.questions, entry.answer, entry.details]
        return frozenset().union(
            *(self._words(match_form(text, self._lexicon)) for text in texts)
        )

    def phrases(self) -> list[str]:
        """Every question phrasing in spoken form, without duplicates."""
        spoken = (
            spoken_form(q, self._lexicon) for entry in self._entries for q in entry.questions
        )
        return list(dict.fromkeys(text for text in spoken if text))

    @property
    def going_on_id(self) -> str | None:
        """The entry every question about going on despite pain gets (the red flags)."""
        return self._going_on.id if self._going_on is not None else None

    def spoken_questions(self) -> list[tuple[FaqEntry, str]]:
        """Every question phrasing in spoken form, with its entry."""
        spoken = (
            (entry, spoken_form(q, self._lexicon)) for entry in self._entries
            for q in entry.questions
        )
        return [(entry, text) for entry, text in spoken if text]

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
        words = frozenset(self._known(word) for word in self._words(key))
        if not words:
            return []
        going_on = self._going_on
        if going_on is not None and going_on.going_on is not None and asks_to_go_on(
            self._unprefixed(text), going_on.going_on, self._lexicon.family_of
        ):
            return [(going_on, 1.0), *((entry, 0.0) for entry in self._entries
                                       if entry is not going_on)]
        closest: dict[str, tuple[float, float]] = {}
        shared: Counter[str] = Counter()  # most topic words any one phrasing shares with it
        keys = {word: self._sound_key(word) for word in words}  # once, not once per phrasing
        frame_words = self._lexicon.frame_words
        for phrasing in self._phrasings:
            heard = phrasing.heard_as(words, keys)
            scores = (self._phrasing_score(heard, phrasing), _characters(key, phrasing.text))
            known = closest.get(phrasing.entry.id)
            if known is None or sum(scores) > sum(known):
                closest[phrasing.entry.id] = scores
            common = len((heard & phrasing.words) - frame_words)
            shared[phrasing.entry.id] = max(shared[phrasing.entry.id], common)
        few_words = len(words - frame_words) < self._settings.min_content_words
        ranked = [
            (entry, self._combine(words, entry, *closest.get(entry.id, (0.0, 0.0)),
                                  shared[entry.id], few_words))
            for entry in self._entries
        ]
        return sorted(ranked, key=lambda pair: pair[1], reverse=True)

    def _combine(
        self,
        words: frozenset[str],
        entry: FaqEntry,
        phrasing: float,
        characters: float,
        shared: int,
        few_words: bool,
    ) -> float:
        thin = few_words or shared < self._settings.min_shared_words
        if thin and characters < self._settings.verbatim:
            return 0.0
        settings = self._settings
        return (
            settings.phrasing_weight * phrasing
            + settings.entry_weight * self._entry_score(words, entry)
            + settings.character_weight * characters
        )

    def _known(self, word: str) -> str:
        """`word`, or the known content word a recognition slip or inflection hides."""
        if word in self._vocabulary:
            return word
        best, best_similarity = word, self._settings.word_similarity * 100.0
        for known in self._sorted_vocabulary:
            shorter, longer = sorted((word, known), key=len)
            if len(shorter) >= self._settings.min_prefix and longer.startswith(shorter):
                return known
            similarity = fuzz.ratio(word, known)
            if similarity >= best_similarity:
                best, best_similarity = known, similarity
        if best == word and len(word) >= self._settings.min_sound_letters:
            return self._by_sound.get(self._sound_key(word), word)
        return best

    def _sounds(self, words: frozenset[str]) -> dict[str, str]:
        """Sound key -> word, for the words of one phrasing that have a key no other shares."""
        min_letters = self._settings.min_sound_letters
        keys = {word: self._sound_key(word) for word in words if len(word) >= min_letters}
        counts = Counter(keys.values())
        return {key: word for word, key in keys.items() if counts[key] == 1}

    def _words_by_sound(self, counts: Counter[str]) -> dict[str, str]:
        """Sound key -> the known word a misheard word with that key most likely is.

        Of words sharing a key the most used one wins if it is used `sound_majority` times
        as often as the others together ("back" over "pack"); otherwise the key is ambiguous.
        """
        owners: dict[str, list[str]] = {}
        for word in counts:
            if len(word) >= self._settings.min_sound_letters:
                owners.setdefault(self._sound_key(word), []).append(word)
        chosen: dict[str, str] = {}
        for key, words in owners.items():
            words.sort(key=lambda word: counts[word], reverse=True)
            rest = sum(counts[word] for word in words[1:])
            if counts[words[0]] >= self._settings.sound_majority * rest:
                chosen[key] = words[0]
        return chosen

    def _phrasing_score(self, words: frozenset[str], phrasing: _Phrasing) -> float:
        """Cosine of the IDF-weighted word sets."""
        weights = self._phrasing_weights
        norms = math.sqrt(weights.mass(words) * weights.mass(phrasing.words))
        return weights.mass(words & phrasing.words) / norms if norms else 0.0

    def _entry_score(self, words: frozenset[str], entry: FaqEntry) -> float:
        """Share of the question's weight that the entry's text covers."""
        weights = self._entry_weights
        total = weights.mass(words)
        return weights.mass(words & self._documents[entry.id]) / total if total else 0.0


def _characters(key: str, phrasing: str) -> float:
    return fuzz.token_sort_ratio(key, phrasing) / 100.0
