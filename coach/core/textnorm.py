"""Text normalisation shared by command matching and FAQ matching.

Two forms of a sentence exist:

* the *spoken* form: lowercase words as a recogniser writes them ("what's next",
  "warm up"), used for the recogniser's grammar;
* the *match* form: the spoken form without apostrophes ("whats next"), so that
  recognisers that drop or keep apostrophes compare equal.

The English words these functions treat specially (stopwords, word families, number
words, ...) come from a `Lexicon` (routines/lexicon.yaml). Functions called from many places
take it as an optional last argument and use the shipped one by default, read on first use;
the others need it passed.

Pure: no device or speech library; the shipped lexicon is read once, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from itertools import pairwise

from coach.content.lexicon import Lexicon, shipped_lexicon

__all__ = [
    "content_words",
    "drop_fillers",
    "is_question",
    "match_form",
    "normalise_text",
    "number_to_words",
    "phrase_words",
    "sentences",
    "sound_key",
    "spoken_form",
    "stem",
    "strip_dangling",
]

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_SEPARATORS = re.compile(r"[-_/]+")
_NUMBER = re.compile(r"\d+")
# Anything that is not a letter, a digit, an apostrophe or a space goes.
_PUNCTUATION = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def number_to_words(number: int, lexicon: Lexicon | None = None) -> str:
    """Spell a non-negative integer in words; from one million on, digit by digit."""
    words = (lexicon or shipped_lexicon()).numbers
    if number < 20:
        return words.ones[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        ten = words.tens[tens - 2]
        return ten if ones == 0 else f"{ten} {words.ones[ones]}"
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        head = f"{words.ones[hundreds]} {words.hundred}"
        return head if rest == 0 else f"{head} {number_to_words(rest, lexicon)}"
    if number < 1_000_000:
        thousands, rest = divmod(number, 1000)
        head = f"{number_to_words(thousands, lexicon)} {words.thousand}"
        return head if rest == 0 else f"{head} {number_to_words(rest, lexicon)}"
    return " ".join(words.ones[int(digit)] for digit in str(number))


def spoken_form(text: str, lexicon: Lexicon | None = None) -> str:
    """Lowercase words as a recogniser would write them: "Warm-up, 30s!" -> "warm up thirty s"."""
    text = text.lower().translate(_APOSTROPHES)
    text = _SEPARATORS.sub(" ", text)
    text = _NUMBER.sub(lambda found: f" {number_to_words(int(found.group()), lexicon)} ", text)
    text = _PUNCTUATION.sub(" ", text)
    # Apostrophes only survive inside words ("what's"), not as quotes.
    words = (word.strip("'") for word in text.split())
    return " ".join(word for word in words if word)


def match_form(text: str, lexicon: Lexicon | None = None) -> str:
    """The spoken form without apostrophes, the form all matching works on."""
    return _SPACES.sub(" ", spoken_form(text, lexicon).replace("'", "")).strip()


def drop_fillers(words: Sequence[str], fillers: Iterable[str]) -> list[str]:
    """Remove filler words and filler word sequences ("hey coach") from `words`.

    `fillers` must already be in match form. Longer fillers are removed first so
    "thank you" goes as a whole.
    """
    by_first = _fillers_by_first_word(fillers if isinstance(fillers, tuple) else tuple(fillers))
    kept: list[str] = []
    index = 0
    while index < len(words):
        length = _filler_length_at(words, index, by_first.get(words[index], ()))
        if length:
            index += length
        else:
            kept.append(words[index])
            index += 1
    return kept


@lru_cache(maxsize=32)
def _fillers_by_first_word(fillers: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """First word -> the filler sequences starting with it, longest first. Made once per
    filler list: every phrase of the templates is cleaned of fillers when the coach starts."""
    sequences = sorted({tuple(filler.split()) for filler in fillers if filler.strip()},
                       key=len, reverse=True)
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for sequence in sequences:
        by_first.setdefault(sequence[0], []).append(sequence)
    return {first: tuple(found) for first, found in by_first.items()}


def _filler_length_at(
    words: Sequence[str], index: int, sequences: Sequence[tuple[str, ...]]
) -> int:
    for sequence in sequences:
        if tuple(words[index : index + len(sequence)]) == sequence:
            return len(sequence)
    return 0


def strip_dangling(words: Sequence[str], lexicon: Lexicon) -> list[str]:
    """Drop function words a recogniser left hanging at the end ("resume the") and the
    conjunction a command is chained on with ("and resume", "then next")."""
    kept = list(words)
    while len(kept) > 1 and kept[-1] in lexicon.dangling:
        kept.pop()
    while len(kept) > 1 and kept[0] in lexicon.leading:
        kept.pop(0)
    return kept


def is_question(words: Sequence[str], lexicon: Lexicon | None = None) -> bool:
    """Whether a sentence (match-form words, fillers removed) is phrased as a question.

    A question word first ("why does...", "explain...") or "why" anywhere ("my back
    hurts, why is that").
    """
    lexicon = lexicon or shipped_lexicon()
    return bool(words) and (
        words[0] in lexicon.question_starters
        or not lexicon.question_anywhere.isdisjoint(words)
    )


def stem(word: str, lexicon: Lexicon) -> str:
    """Very light stemming: word families first, then common English endings.

    "causes", "causing", "caused" and "cause" all become "caus"; "squatting" "squat".
    """
    family_of = lexicon.family_of
    family = family_of.get(word)
    if family is not None:
        return family
    stemmed = _strip_ending(word, lexicon.endings)
    if len(stemmed) > 3 and stemmed.endswith("e"):
        stemmed = stemmed[:-1]
    if len(stemmed) > 3 and stemmed[-1] == stemmed[-2] and stemmed[-1] not in "aeiouls":
        stemmed = stemmed[:-1]
    return family_of.get(stemmed, stemmed)


def _strip_ending(word: str, endings: Sequence[str]) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _join_compounds(words: Sequence[str], lexicon: Lexicon) -> list[str]:
    """`words` with each listed pair ("work out") replaced by its words ("workout")."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        pair = (words[index], words[index + 1]) if index + 1 < len(words) else None
        compound = lexicon.compounds.get(pair) if pair else None
        if compound is None:
            joined.append(words[index])
            index += 1
        else:
            joined += compound
            index += 2
    return joined


def content_words(words: Sequence[str], lexicon: Lexicon) -> list[str]:
    """Stemmed words that carry the topic of a sentence (match-form input).

    A negation before a word of a listed family adds that family's word: "so my back
    doesn't hurt" asks about prevention.
    """
    joined = _join_compounds(words, lexicon)
    found = [stem(word, lexicon) for word in joined if word not in lexicon.stopwords]
    negated = (
        lexicon.negated.get(lexicon.family_of.get(second, ""))
        for first, second in pairwise(joined)
        if first in lexicon.negations
    )
    return found + list(dict.fromkeys(word for word in negated if word is not None))


_VOWEL_RUN = re.compile(r"[aeiou]+")
_RHOTIC = "r"
"""The letter whose sound goes after a vowel in non-rhotic speech ("mark" sounds "mak")."""


def sound_key(word: str, lexicon: Lexicon | None = None) -> str:
    """A rough key of how a word sounds: "back", "mac", "mag" and "mark" share "BaK".

    Consonants fold into classes of sounds a recogniser mixes up, each vowel run keeps
    its first vowel (so "back" and "big" stay apart), and an r after a vowel goes
    (non-rhotic speech). Only for recovering words a recogniser misspelt.
    """
    rules = (lexicon or shipped_lexicon()).sound
    key = word.lower()
    for digraph, sound in rules.digraphs:
        key = key.replace(digraph, sound)
    key = "".join(ch for ch in key if ch.isalpha())
    key = _VOWEL_RUN.sub(lambda run: run.group()[0], key.translate(rules.table))
    key = _after_vowel(_RHOTIC.translate(rules.table)).sub("", key.replace("_", ""))
    return re.sub(r"(.)\1+", r"\1", key)


@cache
def _after_vowel(letter: str) -> re.Pattern[str]:
    """`letter` after a vowel and not before one."""
    return re.compile(rf"(?<=[aeiou]){re.escape(letter)}(?![aeiou])")


_NON_WORD = re.compile(r"[^\w' ]+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def sentences(text: str) -> list[str]:
    """The sentences of a recogniser's punctuated text ("Okay, it's off. Let's go on." ->
    two); one for unpunctuated text."""
    return [part for part in (p.strip() for p in _SENTENCE_END.split(text)) if part]


def normalise_text(text: str) -> str:
    """Lower-case, strip punctuation and squeeze spaces: "Pause." -> "pause"."""
    text = text.lower().replace("-", " ")
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def phrase_words(phrases: Iterable[str]) -> list[str]:
    """Distinct normalised words of the phrases, in first-seen order."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        for word in normalise_text(phrase).split():
            seen.setdefault(word, None)
    return list(seen)
