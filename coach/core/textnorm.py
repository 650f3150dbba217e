"""Text normalisation shared by command matching and FAQ matching.

Two forms of a sentence exist:

* the *spoken* form: lowercase words as a recogniser writes them ("what's next",
  "warm up"), used for the recogniser's grammar;
* the *match* form: the spoken form without apostrophes ("whats next"), so that
  recognisers that drop or keep apostrophes compare equal.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

__all__ = [
    "FRAME_WORDS",
    "QUESTION_STARTERS",
    "STOPWORDS",
    "content_words",
    "drop_fillers",
    "is_question",
    "match_form",
    "normalise_text",
    "number_to_words",
    "phrase_words",
    "sound_key",
    "spoken_form",
    "stem",
    "strip_dangling",
]


def _listed(words: str) -> tuple[str, ...]:
    """Words of a whitespace-separated string: long word lists stay readable."""
    return tuple(words.split())


_ONES = _listed(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = _listed("_ _ twenty thirty forty fifty sixty seventy eighty ninety")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_SEPARATORS = re.compile(r"[-_/]+")
_NUMBER = re.compile(r"\d+")
# Anything that is not a letter, a digit, an apostrophe or a space goes.
_PUNCTUATION = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")

QUESTION_STARTERS = frozenset(
    _listed(
        "why how what whats when where which who whom whose should shall is are am was were "
        "does do did can could will would may might explain describe teach"
    )
)
"""First words that make a sentence a question or a request to be told something."""

STOPWORDS = frozenset(
    _listed(
        """a an the and or but if so to of in on at by for from with without into onto about
    while than then that this these those there here it its
    is are am was were be been being do does did doing done have has had having
    i im ive id me my mine myself you your youre we our us he she they them their his her
    whats who where can could would will shall may might must
    not no dont doesnt any some just really very much more most also too up down out off
    get got gets make makes way thing things something one ones
    explain describe teach tell"""
    )
)
"""Words that carry no topic (match form); FAQ matching ignores them. Question words
("why", "how", "should") and time words ("after", "during") stay: they tell a cause
from a treatment, and IDF already weighs them down where they are common."""

FRAME_WORDS = frozenset(_listed("why how what which when should after during before workout"))
"""Content words that frame a question without naming its topic."""

# Word families the FAQ matcher treats as one word: people say the same thing
# many ways ("aches", "hurts", "is painful"). Kept small and topic-neutral.
_WORD_FAMILIES: dict[str, tuple[str, ...]] = {
    "pain": _listed("pain pains painful hurt hurts hurting ache aches aching achy"),
    "sore": _listed("sore soreness stiff stiffness tight tightness"),
    "workout": _listed(
        "workout workouts train training trained gym exercise exercises exercising session sessions"
    ),
    "leg": _listed("leg legs"),
    "prevent": _listed(
        "prevent preventing prevention avoid avoiding protect protecting safe safely"
    ),
    "cause": _listed("cause causes causing caused reason reasons trigger triggers triggering"),
    "treat": _listed(
        "treat treating treatment treatments relieve relief remedy remedies cure heal healing"
    ),
    "doctor": _listed("doctor doctors physician physio physiotherapist professional medical"),
    "serious": _listed(
        "serious dangerous worry worried worrying concern concerned injury injured alarming"
    ),
    "squat": _listed("squat squats squatting squatted"),
    "deadlift": _listed("deadlift deadlifts deadlifting"),
    "bend": _listed("bend bending bent bends"),
    "hinge": _listed("hinge hinging hinges"),
    "correct": _listed("correct correctly right properly proper"),
    "need": _listed("need needs needed necessary important essential"),
}
_FAMILY_OF = {word: head for head, words in _WORD_FAMILIES.items() for word in words}

_ENDINGS = ("ing", "ed", "es", "ly")


def number_to_words(number: int) -> str:
    """Spell a non-negative integer below one million in English words."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] if ones == 0 else f"{_TENS[tens]} {_ONES[ones]}"
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        head = f"{_ONES[hundreds]} hundred"
        return head if rest == 0 else f"{head} {number_to_words(rest)}"
    if number < 1_000_000:
        thousands, rest = divmod(number, 1000)
        head = f"{number_to_words(thousands)} thousand"
        return head if rest == 0 else f"{head} {number_to_words(rest)}"
    return " ".join(_ONES[int(digit)] for digit in str(number))


def spoken_form(text: str) -> str:
    """Lowercase words as a recogniser would write them: "Warm-up, 30s!" -> "warm up thirty s"."""
    text = text.lower().translate(_APOSTROPHES)
    text = _SEPARATORS.sub(" ", text)
    text = _NUMBER.sub(lambda found: f" {number_to_words(int(found.group()))} ", text)
    text = _PUNCTUATION.sub(" ", text)
    # Apostrophes only survive inside words ("what's"), not as quotes.
    words = (word.strip("'") for word in text.split())
    return " ".join(word for word in words if word)


def match_form(text: str) -> str:
    """The spoken form without apostrophes, the form all matching works on."""
    return _SPACES.sub(" ", spoken_form(text).replace("'", "")).strip()


def drop_fillers(words: Sequence[str], fillers: Iterable[str]) -> list[str]:
    """Remove filler words and filler word sequences ("hey coach") from `words`.

    `fillers` must already be in match form. Longer fillers are removed first so
    "thank you" goes as a whole.
    """
    sequences = sorted(
        {tuple(filler.split()) for filler in fillers if filler.strip()},
        key=len,
        reverse=True,
    )
    kept: list[str] = []
    index = 0
    while index < len(words):
        length = _filler_length_at(words, index, sequences)
        if length:
            index += length
        else:
            kept.append(words[index])
            index += 1
    return kept


def _filler_length_at(
    words: Sequence[str], index: int, sequences: Sequence[tuple[str, ...]]
) -> int:
    for sequence in sequences:
        if tuple(words[index : index + len(sequence)]) == sequence:
            return len(sequence)
    return 0


_DANGLING = frozenset(_listed("the a an to my of and"))
_LEADING = frozenset(_listed("and then but"))


def strip_dangling(words: Sequence[str]) -> list[str]:
    """Drop function words a recogniser left hanging at the end ("resume the") and the
    conjunction a command is chained on with ("and resume", "then next")."""
    kept = list(words)
    while len(kept) > 1 and kept[-1] in _DANGLING:
        kept.pop()
    while len(kept) > 1 and kept[0] in _LEADING:
        kept.pop(0)
    return kept


def is_question(words: Sequence[str]) -> bool:
    """Whether a sentence (match-form words, fillers removed) is phrased as a question.

    A question word first ("why does...", "explain...") or "why" anywhere ("my back
    hurts, why is that").
    """
    return bool(words) and (words[0] in QUESTION_STARTERS or "why" in words)


def stem(word: str) -> str:
    """Very light stemming: word families first, then common English endings.

    "causes", "causing", "caused" and "cause" all become "caus"; "squatting" "squat".
    """
    family = _FAMILY_OF.get(word)
    if family is not None:
        return family
    stemmed = _strip_ending(word)
    if len(stemmed) > 3 and stemmed.endswith("e"):
        stemmed = stemmed[:-1]
    if len(stemmed) > 3 and stemmed[-1] == stemmed[-2] and stemmed[-1] not in "aeiouls":
        stemmed = stemmed[:-1]
    return _FAMILY_OF.get(stemmed, stemmed)


def _strip_ending(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


# Two-word forms that mean one content word; "out" and "up" alone are stopwords.
_COMPOUNDS = {
    ("work", "out"): "workout",
    ("working", "out"): "workout",
    ("worked", "out"): "workout",
    ("leg", "day"): "leg workout",
    ("leg", "days"): "leg workout",
    ("warm", "up"): "warm",
    ("warming", "up"): "warm",
    ("cool", "down"): "cool",
    ("cooling", "down"): "cool",
    # recognisers split what people say as one word
    ("over", "training"): "overtraining",
    ("over", "train"): "overtraining",
    ("over", "trained"): "overtraining",
    ("over", "trains"): "overtraining",
    ("dead", "lift"): "deadlift",
    ("dead", "lifts"): "deadlifts",
    ("dead", "lifting"): "deadlifting",
}

_NEGATIONS = frozenset(_listed("doesnt dont wont not never"))
"""Before a pain word they turn it into prevention: "so my back doesn't hurt"."""


def _join_compounds(words: Sequence[str]) -> list[str]:
    joined: list[str] = []
    index = 0
    while index < len(words):
        pair = (words[index], words[index + 1]) if index + 1 < len(words) else None
        compound = _COMPOUNDS.get(pair) if pair else None
        if compound is None:
            joined.append(words[index])
            index += 1
        else:
            joined += compound.split()
            index += 2
    return joined


def content_words(words: Sequence[str]) -> list[str]:
    """Stemmed words that carry the topic of a sentence (match-form input)."""
    joined = _join_compounds(words)
    found = [stem(word) for word in joined if word not in STOPWORDS]
    if any(a in _NEGATIONS and _FAMILY_OF.get(b) == "pain" for a, b in pairwise(joined)):
        found.append("prevent")
    return found


# Consonants that a recogniser confuses on a noisy or synthetic voice ("back" heard as "mac"
# or "mag"): one letter per class of similar sounds. h, w and y are dropped.
_SOUND_DIGRAPHS = (("ph", "f"), ("ck", "k"), ("gh", ""), ("th", "t"), ("sh", "s"),
                   ("ch", "s"), ("qu", "kw"), ("wh", "w"))
_SOUND_CLASSES = str.maketrans("bpmdtgkcqxvfzjsnlrhwy", "BBBTTKKKKKFFSSSNLR___")
_VOWEL_RUN = re.compile(r"[aeiou]+")
_VOWEL_R = re.compile(r"(?<=[aeiou])R(?![aeiou])")


def sound_key(word: str) -> str:
    """A rough key of how a word sounds: "back", "mac", "mag" and "mark" share "BaK".

    Consonants fold into classes of sounds a recogniser mixes up, each vowel run keeps
    its first vowel (so "back" and "big" stay apart), and an r after a vowel goes
    (non-rhotic speech). Only for recovering words a recogniser misspelt.
    """
    key = word.lower()
    for digraph, sound in _SOUND_DIGRAPHS:
        key = key.replace(digraph, sound)
    key = "".join(ch for ch in key if ch.isalpha())
    key = _VOWEL_RUN.sub(lambda run: run.group()[0], key.translate(_SOUND_CLASSES))
    key = _VOWEL_R.sub("", key.replace("_", ""))
    return re.sub(r"(.)\1+", r"\1", key)


_NON_WORD = re.compile(r"[^\w' ]+")


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
