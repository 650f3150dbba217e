"""faq.yaml: the questions the coach answers, with short spoken answers and details."""

from __future__ import annotations

import re
from typing import Any

from coach.content.fields import Fields, expect_mapping
from coach.content.model import FaqEntry, SourcePos
from coach.content.report import Report
from coach.content.yamlpos import YamlList, YamlMap

__all__ = ["MAX_ANSWER_SENTENCES", "parse_faq"]

MAX_ANSWER_SENTENCES = 2
"""A short FAQ answer is spoken mid-workout: longer ones belong in `details`."""

_FAQ_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_FAQ_KEYS = ("entries",)
_FAQ_ENTRY_KEYS = ("id", "questions", "answer", "details")


# Schema (faq.yaml):
#   entries:
#     - id: squat-back-pain    required; lowercase letters, digits, dashes, underscores; unique
#       questions: [..]        required; at least one way to ask it
#       answer: text           required; short spoken answer, two sentences at most (warning)
#       details: text          required; the longer answer for "tell me more"
def parse_faq(data: YamlMap, report: Report) -> tuple[FaqEntry, ...]:
    fields = Fields(data, report, "faq.yaml", _FAQ_KEYS, _FAQ_KEYS)
    items = fields.list("entries", empty_hint="add at least one entry")
    if items is None:
        return ()
    seen_ids: dict[str, SourcePos] = {}
    seen_questions: dict[str, str] = {}
    entries: list[FaqEntry] = []
    for index, item in enumerate(items):
        entry = _parse_faq_entry(item, items.item_pos(index), report, seen_ids, seen_questions)
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _parse_faq_entry(
    item: Any,
    pos: SourcePos,
    report: Report,
    seen_ids: dict[str, SourcePos],
    seen_questions: dict[str, str],
) -> FaqEntry | None:
    data = expect_mapping(
        item, pos, report, "each FAQ entry", "a mapping", "with id, questions, answer, details"
    )
    if data is None:
        return None
    fields = Fields(data, report, "an FAQ entry", _FAQ_ENTRY_KEYS, _FAQ_ENTRY_KEYS)
    entry = FaqEntry(
        id=fields.text("id"),
        questions=fields.text_list("questions", empty_hint="give at least one way to ask it"),
        answer=fields.text("answer"),
        details=fields.text("details"),
    )
    _check_faq_id(entry.id, fields.pos("id"), report, seen_ids)
    _check_questions(fields, entry.id, seen_questions)
    _check_answer_length(entry.answer, fields.pos("answer"), report)
    return entry


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

