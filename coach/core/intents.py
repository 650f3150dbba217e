"""Command templates -> phrase list (the recogniser's grammar); text -> Intent.

Templates are parsed with hassil's parser (`hassil.parse_sentence`), which gives an
expression tree of alternatives, optionals, permutations and list references. hassil's
own sampler only yields strings, so a small walker here expands the tree while keeping
track of which slot value produced each sentence.

Matching: normalise, drop fillers, look the sentence up in the table of expanded
phrases (score 1.0); otherwise score the closest phrases with a mix of a character
measure (tolerates recognition slips such as "pawse") and a word measure (tolerates
word order, punishes words no command uses). A fuzzy match is accepted only above a
threshold and with a margin over the best phrase meaning something else.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hassil import parse_sentence
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    TextChunk,
)
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from coach.content.model import CommandSet
from coach.core.textnorm import drop_fillers, match_form, spoken_form, strip_dangling

__all__ = ["MAX_EXPANSIONS", "Intent", "IntentMatcher", "MatchSettings", "expand_template"]

_LOGGER = logging.getLogger(__name__)

MAX_EXPANSIONS = 20_000
"""Most sentences one template may expand to; more means a template is too loose."""

_BEST_FUZZY = 0.99
"""Highest score of a fuzzy match; 1.0 means an exact phrase."""

Slots = tuple[tuple[str, str], ...]
"""Slot name/value pairs, sorted: hashable form of a slot dict."""

_Expansion = list[tuple[str, Slots]]


@dataclass(frozen=True)
class Intent:
    """What a sentence asks for."""

    name: str | None
    """Intent name, e.g. "pause"; None when the sentence was rejected."""
    slots: dict[str, str] = field(default_factory=dict)
    """Slot name -> canonical value, e.g. {"routine": "warm-up"}."""
    score: float = 0.0
    """Confidence 0..1; 1.0 for an exact phrase."""
    text: str = ""
    """The normalised input (match form, fillers removed)."""


@dataclass(frozen=True)
class MatchSettings:
    """Knobs of the fuzzy matcher, tuned on the templates."""

    threshold: float = 0.8
    """Lowest fuzzy score (0..1) that is accepted."""
    margin: float = 0.04
    """How far the best phrase must beat the best phrase meaning something else."""
    candidates: int = 40
    """Phrases pre-selected by the fast character measure before rescoring."""
    word_similarity: float = 0.75
    """Two words count as the same word from this edit similarity (0..1) on."""


@dataclass(frozen=True)
class _Meaning:
    intent: str
    slots: Slots


def expand_template(template: str, slot_values: Mapping[str, Mapping[str, str]]) -> _Expansion:
    """Every sentence a template stands for, with the slot values used for it.

    Sentences are in spoken form. Raises ValueError for a syntax error, an unknown
    slot or a template that expands to more than MAX_EXPANSIONS sentences.
    """
    try:
        sentence = parse_sentence(template)
    except Exception as exc:  # hassil raises several error types
        raise ValueError(f"bad template {template!r}: {exc}") from exc
    expanded = _expand(sentence.expression, slot_values)
    return [(spoken_form(text), slots) for text, slots in expanded if spoken_form(text)]


def _expand(expression: Expression, slot_values: Mapping[str, Mapping[str, str]]) -> _Expansion:
    if isinstance(expression, TextChunk):
        return [(expression.original_text, ())]
    if isinstance(expression, ListReference):
        return _expand_slot(expression, slot_values)
    if isinstance(expression, Alternative):
        return [item for sub in expression.items for item in _expand(sub, slot_values)]
    if isinstance(expression, Permutation):
        return _expand_permutation(expression, slot_values)
    if isinstance(expression, Group):
        return _expand_sequence(expression.items, slot_values)
    raise ValueError(f"unsupported template element: {type(expression).__name__}")


def _expand_slot(
    reference: ListReference, slot_values: Mapping[str, Mapping[str, str]]
) -> _Expansion:
    values = slot_values.get(reference.list_name)
    if not values:
        raise ValueError(f"unknown slot {{{reference.list_name}}}")
    # "warm-up" and "warm up" sound the same: keep one sentence per spoken value.
    spoken_values = {spoken_form(spoken): value for spoken, value in values.items()}
    return [
        (f" {spoken} ", ((reference.slot_name, value),)) for spoken, value in spoken_values.items()
    ]


def _expand_sequence(
    items: Sequence[Expression], slot_values: Mapping[str, Mapping[str, str]]
) -> _Expansion:
    sentences: _Expansion = [("", ())]
    for item in items:
        parts = _expand(item, slot_values)
        if len(sentences) * len(parts) > MAX_EXPANSIONS:
            raise ValueError(f"template expands to more than {MAX_EXPANSIONS} sentences")
        sentences = [
            (text + part, tuple(sorted(slots + part_slots)))
            for text, slots in sentences
            for part, part_slots in parts
        ]
    return sentences


def _expand_permutation(
    permutation: Permutation, slot_values: Mapping[str, Mapping[str, str]]
) -> _Expansion:
    sentences: _Expansion = []
    for order in itertools.permutations(permutation.items):
        spaced: list[Expression] = []
        for item in order:
            spaced += [item, TextChunk(" ")]
        sentences += _expand_sequence(spaced, slot_values)
    return sentences


class IntentMatcher:
    """Turns text into an Intent using the templates of a CommandSet."""

    def __init__(self, commands: CommandSet, settings: MatchSettings | None = None) -> None:
        self._settings = settings or MatchSettings()
        self._fillers = tuple(match_form(filler) for filler in commands.fillers)
        self._spoken: dict[str, str] = {}
        self._table: dict[str, _Meaning] = {}
        self.conflicts: list[tuple[str, str, str]] = []
        """(sentence, kept intent, ignored intent) for sentences two intents claim."""
        for spec in commands.intents:
            for template in spec.templates:
                for text, slots in expand_template(template, commands.slots):
                    self._add(text, _Meaning(spec.name, slots))
        self._choices = list(self._table)
        self._meanings = [self._table[choice] for choice in self._choices]
        _LOGGER.debug("%d command phrases", len(self._choices))

    def _add(self, spoken: str, meaning: _Meaning) -> None:
        key = " ".join(drop_fillers(match_form(spoken).split(), self._fillers))
        if not key:
            return
        self._spoken.setdefault(spoken, meaning.intent)
        known = self._table.get(key)
        if known is None:
            self._table[key] = meaning
        elif known != meaning:
            self.conflicts.append((key, known.intent, meaning.intent))
            _LOGGER.warning("%r means both %s and %s", key, known.intent, meaning.intent)

    def phrases(self) -> list[str]:
        """Every expanded sentence in spoken form, without duplicates."""
        return list(self._spoken)

    def phrases_of(self, intent: str) -> list[str]:
        """The expanded sentences of one intent (spoken form)."""
        return [phrase for phrase, name in self._spoken.items() if name == intent]

    def vocabulary(self) -> set[str]:
        """Every word of the phrases and the fillers (spoken form)."""
        words = {word for phrase in self._spoken for word in phrase.split()}
        return words | {word for filler in self._fillers for word in filler.split()}

    def normalise(self, text: str) -> str:
        """Match form of `text` without fillers and dangling function words."""
        words = drop_fillers(match_form(text).split(), self._fillers)
        return " ".join(strip_dangling(words)) if words else ""

    def mentions(self, text: str, intent: str) -> bool:
        """Whether some stretch of consecutive words of `text` is a phrase of `intent`.

        Finds "my back hurts" inside "ouch my back hurts when I bend".
        """
        words = self.normalise(text).split()
        return any(
            self._meaning_of(words[start:end]) == intent
            for start in range(len(words))
            for end in range(start + 1, len(words) + 1)
        )

    def _meaning_of(self, words: Sequence[str]) -> str | None:
        meaning = self._table.get(" ".join(words))
        return meaning.intent if meaning is not None else None

    def match(self, text: str) -> Intent:
        """The intent `text` expresses, or Intent(None, ...) if it is not a command."""
        key = self.normalise(text)
        if not key:
            return Intent(None, {}, 0.0, key)
        exact = self._table.get(key)
        if exact is not None:
            return Intent(exact.intent, dict(exact.slots), 1.0, key)
        return self._fuzzy(key)

    def _fuzzy(self, key: str) -> Intent:
        scored = self._rescored_candidates(key)
        if not scored:
            return Intent(None, {}, 0.0, key)
        best_score, best = scored[0]
        rival = next((score for score, meaning in scored if meaning != best), 0.0)
        _LOGGER.debug("%r ~ %s %.2f (rival %.2f)", key, best.intent, best_score, rival)
        accepted = (
            best_score >= self._settings.threshold
            and best_score - rival >= self._settings.margin
            and not self._lacks_the_telling_word(key)
        )
        if not accepted:
            return Intent(None, {}, best_score, key)
        # Both measures ignore word order: keep 1.0 for phrases that are really exact.
        return Intent(best.intent, dict(best.slots), min(best_score, _BEST_FUZZY), key)

    def _lacks_the_telling_word(self, key: str) -> bool:
        """Whether `key` is, word for word, a shortening of phrases of two intents: "turn it"
        fits "turn it up" and "turn it down", and the word it lacks is the one that decides."""
        words = key.split()
        found = process.extract(key, self._choices, scorer=fuzz.partial_ratio,
                                limit=self._settings.candidates)
        intents = {
            self._meanings[index].intent
            for choice, _, index in found
            if _contains_in_order(choice.split(), words)
        }
        return len(intents) > 1

    def _rescored_candidates(self, key: str) -> list[tuple[float, _Meaning]]:
        found = process.extract(
            key, self._choices, scorer=fuzz.token_sort_ratio, limit=self._settings.candidates
        )
        scored = [
            (self._similarity(key, choice), self._meanings[index]) for choice, _, index in found
        ]
        return sorted(scored, key=lambda pair: pair[0], reverse=True)

    def _similarity(self, key: str, phrase: str) -> float:
        characters = fuzz.token_sort_ratio(key, phrase) / 100.0
        words = _soft_word_f1(key.split(), phrase.split(), self._settings.word_similarity)
        return (characters + words) / 2.0


def _contains_in_order(phrase: Sequence[str], words: Sequence[str]) -> bool:
    """Whether every word of `words` occurs in `phrase`, in the same order."""
    remaining = iter(phrase)
    return all(word in remaining for word in words)


def _soft_word_f1(said: Sequence[str], phrase: Sequence[str], floor: float) -> float:
    """F1 of word overlap where near-identical words ("pawse", "pause") count partly."""
    if not said or not phrase:
        return 0.0
    precision = sum(_best_word_match(word, phrase, floor) for word in said) / len(said)
    recall = sum(_best_word_match(word, said, floor) for word in phrase) / len(phrase)
    if precision + recall == 0.0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def _best_word_match(word: str, others: Sequence[str], floor: float) -> float:
    # Levenshtein, not Indel: "pawse"/"pause" (one substitution) stays close while
    # "wow"/"ow" (a third of a short word) does not.
    best = max(Levenshtein.normalized_similarity(word, other) for other in others)
    return best if best >= floor else 0.0
