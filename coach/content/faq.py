"""faq.yaml: the questions the coach answers, with short spoken answers and details."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from coach.content.fields import Fields, expect_mapping
from coach.content.model import FaqEntry, GoingOnRule, SourcePos
from coach.content.report import Report
from coach.content.yamlpos import YamlList, YamlMap

__all__ = ["MAX_ANSWER_SENTENCES", "parse_faq"]

MAX_ANSWER_SENTENCES = 2
"""A short FAQ answer is spoken mid-workout: longer ones belong in `details`."""

_FAQ_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_CLAUSE_END = re.compile(r"[.!?,;:]")
_WORD = re.compile(r"[a-z0-9]+")
_PHRASE = re.compile(r"[a-z0-9]+( [a-z0-9]+)*")
_FAQ_KEYS = ("entries", "bare_openings")
_FAQ_REQUIRED = ("entries",)
_FAQ_ENTRY_KEYS = ("id", "questions", "answer", "details", "going_on")
_FAQ_ENTRY_REQUIRED = ("id", "questions", "answer", "details")
_GOING_ON_KEYS = ("pain", "going_on", "unless_after", "asking", "training", "safe_asking")


# Schema (faq.yaml):
#   entries:
#     - id: squat-back-pain    required; lowercase letters, digits, dashes, underscores; unique
#       questions: [..]        required; at least one way to ask it
#       answer: text           required; short spoken answer, two sentences at most (warning)
#       details: text          required; the longer answer for "tell me more"
#       going_on:              optional, one entry at most; the questions it always answers
#         pain: [pain, sore]   words naming pain (a family head: the whole family)
#         going_on: [keep]     words asking whether to go on or stop
#         unless_after: [how]  words that, before the going-on word, make it another question
#         asking: [can i]      openings asking leave: with a `training` word next, and pain
#         training: [squat]    named, the question asks whether to train with the pain
#         safe_asking: [should i]  openings asking if it is safe: with a `going_on` word or
#                              phrase next, the question asks whether to go on, pain or not
#   bare_openings: [..]        optional; an answer or details whose first sentence or clause
#                              is only one of these is an error (it sounds like permission)
def parse_faq(data: YamlMap, report: Report) -> tuple[FaqEntry, ...]:
    fields = Fields(data, report, "faq.yaml", _FAQ_KEYS, _FAQ_REQUIRED)
    items = fields.list("entries", empty_hint="add at least one entry")
    if items is None:
        return ()
    seen = _Seen(frozenset(" ".join(_words(text)) for text in fields.text_list("bare_openings")))
    entries = (_parse_faq_entry(item, items.item_pos(index), report, seen)
               for index, item in enumerate(items))
    return tuple(entry for entry in entries if entry is not None)


@dataclass
class _Seen:
    """What earlier entries used, for the checks across entries."""

    bare: frozenset[str]
    """Openings that sound like permission heard alone (match form)."""
    ids: dict[str, SourcePos] = field(default_factory=dict)
    questions: dict[str, str] = field(default_factory=dict)
    """Question (lowercase) -> the entry that asks it."""
    going_on: list[SourcePos] = field(default_factory=list)
    """Where entries declared `going_on`."""


def _parse_faq_entry(item: Any, pos: SourcePos, report: Report, seen: _Seen) -> FaqEntry | None:
    data = expect_mapping(
        item, pos, report, "each FAQ entry", "a mapping", "with id, questions, answer, details"
    )
    if data is None:
        return None
    fields = Fields(data, report, "an FAQ entry", _FAQ_ENTRY_KEYS, _FAQ_ENTRY_REQUIRED)
    entry = FaqEntry(
        id=fields.text("id"),
        questions=fields.text_list("questions", empty_hint="give at least one way to ask it"),
        answer=fields.text("answer"),
        details=fields.text("details"),
        going_on=_parse_going_on(fields),
    )
    _check_faq_id(entry.id, fields.pos("id"), report, seen.ids)
    _check_questions(fields, entry.id, seen.questions)
    _check_answer_length(entry.answer, fields.pos("answer"), report)
    _check_bare_opening(entry.answer, fields.pos("answer"), seen.bare, report)
    _check_bare_opening(entry.details, fields.pos("details"), seen.bare, report)
    if fields.has("going_on"):
        if seen.going_on:
            report.error(fields.key_pos("going_on"), "a second entry declares 'going_on'",
                         f"one entry answers those questions; the first is at {seen.going_on[0]}")
        seen.going_on.append(fields.key_pos("going_on"))
    return entry


def _parse_going_on(fields: Fields) -> GoingOnRule | None:
    data = fields.mapping("going_on", hint="with pain, going_on and unless_after word lists")
    if data is None:
        return None
    rule = Fields(data, fields.report, "'going_on'", _GOING_ON_KEYS, _GOING_ON_KEYS[:2])
    words = {key: frozenset(_match_words(rule, key)) for key in _GOING_ON_KEYS}
    if not (words["pain"] and words["going_on"]):
        return None
    asking = tuple(tuple(opening.split()) for opening in sorted(words["asking"]))
    safe_asking = tuple(tuple(opening.split()) for opening in sorted(words["safe_asking"]))
    return GoingOnRule(words["pain"], words["going_on"], words["unless_after"], asking,
                       words["training"], safe_asking)


def _match_words(fields: Fields, key: str) -> list[str]:
    """The words (or word sequences) under `key`, in match form; others are reported."""
    items = fields.list(key, hint=f"e.g. {key}: [first, second]", empty_hint="list some words")
    if items is None:
        return []
    found: list[str] = []
    for index, word in enumerate(items):
        if isinstance(word, str) and _PHRASE.fullmatch(word):
            found.append(word)
        else:
            fields.report.error(items.item_pos(index), f"'{word}' in '{key}' is not in match "
                                "form", "lowercase letters and digits, one space between words")
    return found


def _check_bare_opening(text: str, pos: SourcePos, bare: frozenset[str], report: Report) -> None:
    """Heard alone, a first sentence such as "Yes." sounds like permission: an error."""
    opening = " ".join(_words(_CLAUSE_END.split(text, maxsplit=1)[0]))
    if opening and opening in bare:
        report.error(pos, f"the answer opens with a bare '{opening}'",
                     "heard alone it sounds like permission; say what is true in full")


def _words(text: str) -> list[str]:
    """Lowercase words of `text`, apostrophes dropped ("It's" -> "its")."""
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


def _check_faq_id(
    entry_id: str, pos: SourcePos, report: Report, seen: dict[str, SourcePos]
) -> None:
    if not entry_id:
        return
    if not _FAQ_ID.fullmatch(entry_id):
        report.error(pos, f"FAQ id '{entry_id}' must be lowercase letters, digits, dashes or "
                          "underscores", "e.g. 'squat-back-pain'")
    elif entry_id in seen:
        report.error(pos, f"duplicate FAQ id '{entry_id}'", f"first used at {seen[entry_id]}")
    else:
        seen[entry_id] = pos


def _check_questions(fields: Fields, entry_id: str, seen: dict[str, str]) -> None:
    """The same question in two entries makes the answer a coin toss: warn."""
    items = fields.data.get("questions")
    if not isinstance(items, YamlList):
        return
    for index, question in enumerate(items):
        if not isinstance(question, str):
            continue
        key = " ".join(question.lower().split())
        owner = seen.setdefault(key, entry_id)
        if owner != entry_id:
            fields.report.warn(items.item_pos(index),
                               f"question '{question}' is also asked in entry '{owner}'")


def _check_answer_length(answer: str, pos: SourcePos, report: Report) -> None:
    sentences = len(_SENTENCE_END.findall(answer)) + (0 if _ends_sentence(answer) else 1)
    if answer and sentences > MAX_ANSWER_SENTENCES:
        report.warn(
            pos,
            f"the short answer has {sentences} sentences; keep it to {MAX_ANSWER_SENTENCES}",
            "move the rest to 'details'",
        )


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?"))

