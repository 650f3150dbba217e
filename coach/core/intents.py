"""Command templates -> phrase list (the recogniser's grammar); text -> Intent.

Templates are parsed with hassil's parser (`hassil.parse_sentence`), which gives an
expression tree of alternatives, optionals, permutations and list references. hassil's
own sampler only yields strings, so a small walker here expands the tree while keeping
track of which slot value produced each sentence.

Matching: normalise, drop fillers, look the sentence up in the table of expanded
phrases (score 1.0); then read it as phrases of one command wrapped in carrier words
(coach.core.carriers: "can you pause now", score 1.0, `carried`); otherwise score the
closest phrases with a mix of a character measure (tolerates recognition slips such
as "pawse") and a word measure (tolerates word order, punishes words no command uses).
A fuzzy match is accepted only above a threshold and with a margin over the best phrase
meaning something else; the words inside the carriers are scored too.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

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

from coach.content.lexicon import Lexicon, shipped_lexicon
from coach.content.model import CommandSet
from coach.core.carriers import Carriers
from coach.core.textnorm import drop_fillers, match_form, spoken_form, strip_dangling
from coach.settings.text import MatchSettings

__all__ = ["Intent", "IntentMatcher", "expand_template"]

_LOGGER = logging.getLogger(__name__)

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
    carried: bool = False
    """Whether carrier words (commands.yaml `carriers`) or a second phrase surround the
    phrase found: "can you pause", "stop, I'm done"."""


@dataclass(frozen=True)
class _Meaning:
    intent: str
    slots: Slots


def expand_template(
    template: str,
    slot_values: Mapping[str, Mapping[str, str]],
    settings: MatchSettings | None = None,
    lexicon: Lexicon | None = None,
) -> _Expansion:
    """Every sentence a template stands for, with the slot values used for it.

    Sentences are in spoken form. Raises ValueError for a syntax error, an unknown
    slot or a template that expands to more than `settings.max_expansions` sentences.
    """
    try:
        sentence = parse_sentence(template)
    except Exception as exc:  # hassil raises several error types
        raise ValueError(f"bad template {template!r}: {exc}") from exc
    lexicon = lexicon or shipped_lexicon()
    limit = (settings or MatchSettings()).max_expansions
    expanded = _Expander(slot_values, limit, lexicon).expand(sentence.expression)
    spoken = ((spoken_form(text, lexicon), slots) for text, slots in expanded)
    return [(text, slots) for text, slots in spoken if text]


@dataclass(frozen=True)
class _Expander:
    """Walks hassil's expression tree, keeping track of the slot values of each sentence."""

    slot_values: Mapping[str, Mapping[str, str]]
    limit: int
    """Most sentences one template may expand to."""
    lexicon: Lexicon

    def expand(self, expression: Expression) -> _Expansion:
        if isinstance(expression, TextChunk):
            return [(expression.original_text, ())]
        if isinstance(expression, ListReference):
            return self._slot(expression)
        if isinstance(expression, Alternative):
            return [item for sub in expression.items for item in self.expand(sub)]
        if isinstance(expression, Permutation):
            return self._permutation(expression)
        if isinstance(expression, Group):
            return self._sequence(expression.items)
        raise ValueError(f"unsupported template element: {type(expression).__name__}")

    def _slot(self, reference: ListReference) -> _Expansion:
        values = self.slot_values.get(reference.list_name)
        if not values:
            raise ValueError(f"unknown slot {{{reference.list_name}}}")
        # "warm-up" and "warm up" sound the same: keep one sentence per spoken value.
        spoken_values = {
            spoken_form(spoken, self.lexicon): value for spoken, value in values.items()
        }
        return [
            (f" {spoken} ", ((reference.slot_name, value),))
            for spoken, value in spoken_values.items()
        ]

    def _sequence(self, items: Sequence[Expression]) -> _Expansion:
        sentences: _Expansion = [("", ())]
        for item in items:
            parts = self.expand(item)
            if len(sentences) * len(parts) > self.limit:
                raise ValueError(f"template expands to more than {self.limit} sentences")
            sentences = [
                (text + part, tuple(sorted(slots + part_slots)))
                for text, slots in sentences
                for part, part_slots in parts
            ]
        return sentences

    def _permutation(self, permutation: Permutation) -> _Expansion:
        sentences: _Expansion = []
        for order in itertools.permutations(permutation.items):
            spaced: list[Expression] = []
            for item in order:
                spaced += [item, TextChunk(" ")]
            sentences += self._sequence(spaced)
        return sentences


_UNKNOWN_WORDS = 3
"""Longest unknown slot value looked for (words): names of routines are short."""


class IntentMatcher:
    """Turns text into an Intent using the templates of a CommandSet."""

    def __init__(
        self,
        commands: CommandSet,
        settings: MatchSettings | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        """`lexicon`: the words text matching treats specially; None for the shipped one."""
        self._settings = settings or MatchSettings()
        self._lexicon = lexicon or shipped_lexicon()
        self._fillers = tuple(self._match_form(filler) for filler in commands.fillers)
        self._spoken: dict[str, str] = {}
        self._table: dict[str, _Meaning] = {}
        self.conflicts: list[tuple[str, str, str]] = []
        """(sentence, kept intent, ignored intent) for sentences two intents claim."""
        for spec in commands.intents:
            for template in spec.templates:
                expanded = expand_template(template, commands.slots, self._settings,
                                           self._lexicon)
                for text, slots in expanded:
                    self._add(text, _Meaning(spec.name, slots))
        self._stand_ins = {
            slot: self._key(spoken_form(next(iter(values)), self._lexicon))
            for slot, values in commands.slots.items() if values
        }
        """One known value of each slot, as matching writes it."""
        self._choices = list(self._table)
        self._meanings = [self._table[choice] for choice in self._choices]
        self._longest = max((len(choice.split()) for choice in self._choices), default=0)
        self.carriers = Carriers.of(
            commands.carriers_before, commands.carriers_after, commands.carriers_asides,
            self._carrier_words,
        )
        _LOGGER.debug("%d command phrases", len(self._choices))

    def _carrier_words(self, template: str) -> list[tuple[str, ...]]:
        """A carrier template's word sequences, in the form matching compares."""
        expanded = expand_template(template, {}, self._settings, self._lexicon)
        return [
            tuple(drop_fillers(self._match_form(text).split(), self._fillers))
            for text, _ in expanded
        ]

    def _key(self, spoken: str) -> str:
        return " ".join(drop_fillers(self._match_form(spoken).split(), self._fillers))

    def _add(self, spoken: str, meaning: _Meaning) -> None:
        key = self._key(spoken)
        if not key:
            return
        self._spoken.setdefault(spoken, meaning.intent)
        known = self._table.get(key)
        if known is None:
            self._table[key] = meaning
        elif known != meaning:
            self.conflicts.append((key, known.intent, meaning.intent))
            _LOGGER.warning("%r means both %s and %s", key, known.intent, meaning.intent)

    def _match_form(self, text: str) -> str:
        return match_form(text, self._lexicon)

    def phrases(self) -> list[str]:
        """Every expanded sentence in spoken form, without duplicates."""
        return list(self._spoken)

    def phrases_of(self, intent: str) -> list[str]:
        """The expanded sentences of one intent (spoken form)."""
        return [phrase for phrase, name in self._spoken.items() if name == intent]

    def examples(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every expanded sentence (spoken form) with the intent and slots it stands for."""
        found: list[tuple[str, str, dict[str, str]]] = []
        for spoken in self._spoken:
            key = " ".join(drop_fillers(self._match_form(spoken).split(), self._fillers))
            meaning = self._table.get(key)
            if meaning is not None:
                found.append((spoken, meaning.intent, dict(meaning.slots)))
        return found

    def vocabulary(self) -> set[str]:
        """Every word of the phrases and the fillers (spoken form)."""
        words = {word for phrase in self._spoken for word in phrase.split()}
        return words | {word for filler in self._fillers for word in filler.split()}

    def normalise(self, text: str) -> str:
        """Match form of `text` without fillers and dangling function words."""
        words = drop_fillers(self._match_form(text).split(), self._fillers)
        return " ".join(strip_dangling(words, self._lexicon)) if words else ""

    def mentions(self, text: str, intent: str) -> bool:
        """Whether some stretch of consecutive words of `text` is a phrase of `intent`.

        Finds "my back hurts" inside "ouch my back hurts when I bend".
        """
        words = self.normalise(text).split()
        return any(
            self._meaning_of(words[start:end]) == intent
            for start in range(len(words))
            for end in range(start + 1, min(len(words), start + self._longest) + 1)
        )

    def unknown_value(self, text: str, intent: str, slot: str) -> str | None:
        """The words where `slot` goes in a sentence otherwise phrased as `intent` ("yoga"
        in "start the yoga routine"); None when it is not phrased so.

        The unknown words (one to three) follow at least one other word and leave at least
        two: "let's go" does not ask for a routine called "go".
        """
        stand_in = self._stand_ins.get(slot)
        words = self.normalise(text).split()
        if stand_in is None or len(words) > self._longest + _UNKNOWN_WORDS:
            return None  # longer than any phrase with a value in it
        for start in range(1, len(words)):
            for end in range(start + 1, min(start + _UNKNOWN_WORDS, len(words)) + 1):
                if len(words) - (end - start) < 2:
                    continue
                phrased = [*words[:start], stand_in, *words[end:]]
                if self._meaning_of(phrased) == intent:
                    return " ".join(words[start:end])
        return None

    def _meaning_of(self, words: Sequence[str]) -> str | None:
        meaning = self._table.get(" ".join(words))
        return meaning.intent if meaning is not None else None

    def exact(self, text: str) -> Intent | None:
        """The intent `text` is a phrase of, word for word (carriers and fuzz not tried)."""
        key = self.normalise(text)
        meaning = self._table.get(key) if key else None
        return None if meaning is None else Intent(meaning.intent, dict(meaning.slots), 1.0, key)

    def match(self, text: str) -> Intent:
        """The intent `text` expresses, or Intent(None, ...) if it is not a command."""
        key = self.normalise(text)
        if not key:
            return Intent(None, {}, 0.0, key)
        exact = self._table.get(key)
        if exact is not None:
            return Intent(exact.intent, dict(exact.slots), 1.0, key)
        carried = self._carried(key.split())
        if carried is not None:
            return Intent(carried.intent, dict(carried.slots), 1.0, key, carried=True)
        return self._fuzzy(key)

    def _carried(self, words: Sequence[str]) -> _Meaning | None:
        """The one meaning whose phrases, with carriers around them, make up `words`."""
        if not self.carriers:
            return None
        found: dict[_Meaning, dict[int, list[int]]] = {}
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + self._longest) + 1):
                meaning = self._table.get(" ".join(words[start:end]))
                if meaning is not None:
                    found.setdefault(meaning, {}).setdefault(start, []).append(end)
        parsed = [
            meaning
            for meaning, ends in found.items()
            if self.carriers.chain_end(words, partial(_ends_from, ends))
        ]
        return parsed[0] if len(parsed) == 1 else None

    def _fuzzy(self, key: str) -> Intent:
        words = key.split()
        keys = [key] + [
            " ".join(words[span.start : span.end])
            for span in self.carriers.spans(words)
            if not span.aside
        ]
        best = Intent(None, {}, 0.0, key)
        for stretch in keys:
            intent = self._fuzzy_one(stretch)
            if intent.name is not None and (best.name is None or intent.score > best.score):
                best = intent
            elif best.name is None and intent.score > best.score:
                best = Intent(None, {}, intent.score, key)
        return replace(best, text=key, carried=best.name is not None and best.text != key)

    def _fuzzy_one(self, key: str) -> Intent:
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
        score = min(best_score, self._settings.best_fuzzy)
        return Intent(best.intent, dict(best.slots), score, key)

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


def _ends_from(ends: Mapping[int, list[int]], index: int) -> list[int]:
    return ends.get(index, [])


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
