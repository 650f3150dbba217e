"""What pain does to the conversation: nothing may sound like permission to train through it.

Two rules, both pure. A question about going on (or training) despite pain, or about
whether going on is safe at all, gets the FAQ entry that declares `going_on` in faq.yaml,
whatever else matches; and after a pain report
the workout stays paused until the user clearly says resume or stop: "next" or the same
routine again is not a clear "I feel fine".

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from coach.content.model import GoingOnRule, IntentName, Routine

__all__ = ["HELD_AFTER_PAIN", "asks_to_go_on", "held_after_pain"]

HELD_AFTER_PAIN = frozenset({IntentName.NEXT, IntentName.PREVIOUS, IntentName.RESTART})
"""Commands a pain pause answers with a reminder instead of starting the clock."""


def asks_to_go_on(words: Sequence[str], rule: GoingOnRule, family_of: Mapping[str, str]) -> bool:
    """Whether match-form `words` (leading fillers dropped) ask whether to go on, stop, or
    train despite pain, or whether going on is safe at all ("is it safe to go on", "should
    i stop"). `family_of`: word -> the head of its lexicon family."""
    for opening in rule.safe_asking:
        if tuple(words[: len(opening)]) == opening and _asks_about_going_on(
                words[len(opening):], rule):
            return True
    if not any(word in rule.pain or family_of.get(word) in rule.pain for word in words):
        return False
    for opening in rule.asking:
        after = words[len(opening) : len(opening) + 1]
        if tuple(words[: len(opening)]) == opening and after and after[0] in rule.training:
            return True
    for word in words:
        if word in rule.unless_after:
            return False
        if word in rule.going_on:
            return True
    return False


def _asks_about_going_on(words: Sequence[str], rule: GoingOnRule) -> bool:
    """Whether `words` (what follows an opening of `safe_asking`) are about going on: a
    going-on phrase ("go on", "keep going"), or a going-on word that ends the question or
    comes before a training word ("stop", "keep squatting"; not "keep my chest up")."""
    for item in rule.going_on:
        phrase = tuple(item.split())
        if tuple(words[: len(phrase)]) != phrase:
            continue
        after = words[len(phrase):len(phrase) + 1]
        if len(phrase) > 1 or not after or after[0] in rule.training:
            return True
    return False


def held_after_pain(command: str, slots: Mapping[str, str], routine: Routine | None) -> bool:
    """Whether a pain pause keeps the clock still for `command`: next, previous, restart, or
    starting the `routine` that is paused again."""
    if command == IntentName.START_ROUTINE:
        return routine is not None and slots.get("routine") == routine.id
    return command in HELD_AFTER_PAIN
