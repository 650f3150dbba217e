"""Accuracy of text understanding on the held-out sets and the everyday phrasing sets.

    python -m bench.text_eval [--routines DIR] [--data DIR] [--hide-misses SET ...]
                              [--only SET ...] [--no-meanings]

Prints commands understood / wrong / rejected, unrelated sentences falsely accepted and
FAQ questions answered with the right entry, then lists every miss: first for the original
held-out sets, then one section per everyday set (tests/data/everyday_*.yaml). A set named
with --hide-misses (e.g. everyday_heldout, which must never be tuned on) prints its figures
only. tests/test_understanding.py and tests/test_everyday.py hold the figures to their targets.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coach.content.loader import load_content
from coach.content.model import CommandSet, FaqEntry
from coach.core.intents import Intent
from coach.core.understanding import QUESTION, Understanding
from coach.session.policy import ANSWERS
from coach.session.understand import attach_meanings

__all__ = [
    "CommandCase",
    "FaqCase",
    "Figures",
    "evaluate",
    "load_everyday",
    "load_heldout",
    "load_shipped",
    "main",
]

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = ROOT / "routines"
DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class CommandCase:
    """A held-out command with the decision it should produce."""

    text: str
    intent: str
    slots: dict[str, str]


@dataclass(frozen=True)
class FaqCase:
    """A held-out question with the FAQ entry that answers it."""

    text: str
    ids: tuple[str, ...]
    """Entries that answer it (several only when the question is genuinely ambiguous)."""


@dataclass(frozen=True)
class Miss:
    """One held-out sentence that was not understood as expected."""

    kind: str
    text: str
    expected: str
    got: str


@dataclass(frozen=True)
class Figures:
    """Held-out accuracy (fractions 0..1)."""

    commands: int
    understood: float
    wrong: float
    rejected: float
    unrelated: int
    false_accept: float
    faq: int
    faq_right: float
    misses: list[Miss] = field(default_factory=list)
    guessed_right: float = 0.0
    """Commands not understood that the coach asks about rightly ("Did you mean: ...?")."""
    guessed_wrong: float = 0.0
    """Commands not understood that it asks about as another command."""
    unrelated_guessed: float = 0.0
    """Unrelated sentences it would ask about, were they meant for it."""


def load_shipped(routines: Path = ROUTINES) -> tuple[CommandSet, tuple[FaqEntry, ...]]:
    """Commands (with routine names as slot values) and FAQ entries of a routines folder.

    Raises ValueError when the folder has content errors: figures over half-loaded
    content would mislead.
    """
    content, problems = load_content([routines])
    if problems:
        raise ValueError("content errors:\n" + "\n".join(str(problem) for problem in problems))
    return content.commands, content.faq


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def load_heldout(
    data: Path = DATA,
) -> tuple[list[CommandCase], list[str], list[FaqCase]]:
    """The three held-out sets: commands, unrelated sentences, FAQ questions."""
    commands = [
        CommandCase(item["text"], item["intent"], dict(item.get("slots") or {}))
        for item in _read(data / "heldout_commands.yaml")
    ]
    lines = (data / "heldout_unrelated.txt").read_text(encoding="utf-8").splitlines()
    unrelated = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    faq = [FaqCase(item["text"], _ids(item["id"])) for item in _read(data / "heldout_faq.yaml")]
    return commands, unrelated, faq


def load_everyday(path: Path) -> tuple[list[CommandCase], list[str], list[FaqCase]]:
    """An everyday set (a list of {text, intent, slots}) split like the held-out sets:
    commands, sentences to reject (intent null), FAQ questions (intent question, slot id)."""
    commands: list[CommandCase] = []
    unrelated: list[str] = []
    faq: list[FaqCase] = []
    for item in _read(path):
        text, intent, slots = item["text"], item["intent"], dict(item.get("slots") or {})
        if intent is None:
            unrelated.append(text)
        elif intent == QUESTION:
            faq.append(FaqCase(text, _ids(slots["id"])))
        else:
            commands.append(CommandCase(text, intent, slots))
    return commands, unrelated, faq


def everyday_sets(data: Path = DATA) -> list[Path]:
    """The everyday phrasing sets of a data folder, by name."""
    return sorted(data.glob("everyday_*.yaml"))


def _ids(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def evaluate(
    understanding: Understanding,
    commands: Sequence[CommandCase],
    unrelated: Sequence[str],
    faq: Sequence[FaqCase],
) -> Figures:
    """Run every held-out sentence through `understanding` and count."""
    misses: list[Miss] = []
    right = rejected = guessed_right = guessed_wrong = 0
    for case in commands:
        got = understanding.interpret(case.text)
        if got.name == case.intent and got.slots == case.slots:
            right += 1
            continue
        rejected += got.name is None
        guess = understanding.guess(case.text) if got.name is None else None
        if guess is not None:
            is_right = guess.name == case.intent and guess.slots == case.slots
            guessed_right += is_right
            guessed_wrong += not is_right
            got = guess
        shown = _shown(got) + (" (asked)" if guess is not None else "")
        misses.append(Miss("command", case.text, _show(case.intent, case.slots), shown))
    accepted = guessed = 0
    for text in unrelated:
        got = understanding.interpret(text)
        if got.name is not None and got.name not in ANSWERS:  # a lone "yes" does nothing
            accepted += 1
            misses.append(Miss("unrelated", text, "-", _shown(got)))
        elif got.name is None and (guess := understanding.guess(text)) is not None:
            guessed += 1
            misses.append(Miss("unrelated", text, "-", _shown(guess) + " (asked)"))
    faq_right = 0
    for question in faq:
        got = understanding.interpret(question.text)
        if got.name == QUESTION and got.slots.get("id") in question.ids:
            faq_right += 1
        else:
            misses.append(Miss("faq", question.text, "|".join(question.ids), _shown(got)))
    return Figures(
        commands=len(commands),
        understood=_fraction(right, len(commands)),
        wrong=_fraction(len(commands) - right - rejected, len(commands)),
        rejected=_fraction(rejected, len(commands)),
        unrelated=len(unrelated),
        false_accept=_fraction(accepted, len(unrelated)),
        faq=len(faq),
        faq_right=_fraction(faq_right, len(faq)),
        misses=misses,
        guessed_right=_fraction(guessed_right, len(commands)),
        guessed_wrong=_fraction(guessed_wrong, len(commands)),
        unrelated_guessed=_fraction(guessed, len(unrelated)),
    )


def _fraction(count: int, total: int) -> float:
    return count / total if total else 0.0


def _show(name: str | None, slots: dict[str, str]) -> str:
    inner = ", ".join(f"{key}={value}" for key, value in sorted(slots.items()))
    return f"{name}({inner})" if inner else str(name)


def _shown(intent: Intent) -> str:
    return f"{_show(intent.name, intent.slots)} {intent.score:.2f}"


def _print_table(figures: Figures, out: Callable[[str], None]) -> None:
    rows = [
        (f"commands understood ({figures.commands})", figures.understood, ">= 90%"),
        ("commands with wrong intent/slots", figures.wrong, ""),
        ("commands rejected", figures.rejected, ""),
        (f"unrelated falsely accepted ({figures.unrelated})", figures.false_accept, "<= 5%"),
        (f"faq right entry ({figures.faq})", figures.faq_right, ">= 85%"),
    ]
    out(f"{'measure':<42} {'value':>7}  target")
    for label, value, target in rows:
        out(f"{label:<42} {value:>7.1%}  {target}")


def _print_misses(misses: Sequence[Miss], out: Callable[[str], None]) -> None:
    if not misses:
        return
    out("")
    out(f"misses ({len(misses)}):")
    for miss in misses:
        out(f"  {miss.kind:<9} {miss.text!r:<55} expected {miss.expected:<24} got {miss.got}")


def _print_everyday(
    name: str, figures: Figures, show_misses: bool, out: Callable[[str], None]
) -> None:
    out("")
    out(f"== {name} ==")
    rows = [
        (f"commands understood ({figures.commands})", figures.understood, ">= 95%"),
        ("commands with wrong intent/slots", figures.wrong, ""),
        ("commands rejected", figures.rejected, ""),
        ("  of them asked about as meant", figures.guessed_right, ""),
        ("  of them asked about as another", figures.guessed_wrong, ""),
        (f"unrelated accepted ({figures.unrelated})", figures.false_accept, "0"),
        ("unrelated asked about, if meant", figures.unrelated_guessed, ""),
        (f"faq right entry ({figures.faq})", figures.faq_right, ">= 90%"),
    ]
    out(f"{'measure':<42} {'value':>7}  target")
    for label, value, target in rows:
        out(f"{label:<42} {value:>7.1%}  {target}")
    if show_misses:
        _print_misses(figures.misses, out)
    else:
        out(f"(misses hidden: {len(figures.misses)})")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures and the misses; exit status 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.text_eval", description=__doc__)
    parser.add_argument("--routines", type=Path, default=ROUTINES)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--hide-misses", action="append", default=[], metavar="SET",
        help="print only the figures of this everyday set (e.g. everyday_heldout)",
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="SET",
        help="evaluate only these everyday sets (default: all)",
    )
    parser.add_argument(
        "--no-meanings", dest="meanings", action="store_false",
        help="templates and FAQ phrasings alone, without the sentence-meaning model",
    )
    args = parser.parse_args(argv)
    commands, faq_entries = load_shipped(args.routines)
    understanding = Understanding(commands, faq_entries)
    if args.meanings:
        problem = attach_meanings(understanding)
        if problem is not None:
            print(f"sentence-meaning model not used: {problem}")
    print(f"sentence-meaning model: {'on' if args.meanings else 'off'}")
    figures = evaluate(understanding, *load_heldout(args.data))
    _print_table(figures, print)
    _print_misses(figures.misses, print)
    for path in everyday_sets(args.data):
        if args.only and path.stem not in args.only:
            continue
        everyday = evaluate(understanding, *load_everyday(path))
        _print_everyday(path.stem, everyday, path.stem not in args.hide_misses, print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
