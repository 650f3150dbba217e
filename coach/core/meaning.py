"""Understanding by meaning: the last resort when no template or FAQ phrasing matches.

The templates say exactly what a command sounds like; people say it in words no template
foresaw ("could you give me a sec" for pause). A sentence-meaning model (in the `meaning`
layer) compares the sentence with every example the templates and the FAQ phrasings spell
out and reports, per meaning, how close the nearest example is. This module holds the pure
part: what the examples are, and when a closest meaning is close enough to act on.

Pure: the model stays behind the `MeaningLookup` protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Example", "Meaning", "MeaningLookup", "closest_meaning", "unique_examples"]


@dataclass(frozen=True, order=True)
class Meaning:
    """What an example sentence means: an intent with its slots."""

    intent: str
    slots: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, intent: str, slots: Mapping[str, str]) -> Meaning:
        return cls(intent, tuple(sorted(slots.items())))

    def slot_dict(self) -> dict[str, str]:
        return dict(self.slots)


@dataclass(frozen=True)
class Example:
    """A sentence that means `meaning`, as the templates or the FAQ spell it."""

    text: str
    meaning: Meaning


class MeaningLookup(Protocol):
    """Closeness of a sentence to every known meaning."""

    def closest(self, text: str) -> Sequence[tuple[Meaning, float]]:
        """Each meaning with the similarity (0..1) of its nearest example, best first."""
        ...

    def prepare(self, texts: Sequence[str]) -> None:
        """Work out the closeness of several sentences at once, ahead of `closest` asking
        about them one by one (one run of the model for many is cheaper than many runs)."""
        ...


def closest_meaning(
    ranked: Sequence[tuple[Meaning, float]], threshold: float, margin: float
) -> tuple[Meaning, float] | None:
    """The best meaning when it is both close (>= threshold) and clearly closer than the
    runner-up (by >= margin); None when the sentence is near nothing, or near two meanings
    alike (then acting on either would be a guess)."""
    if not ranked:
        return None
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < threshold or score - runner_up < margin:
        return None
    return best, score


def unique_examples(examples: Iterable[Example]) -> list[Example]:
    """Examples without repeated sentences; the first meaning given for a sentence wins."""
    seen: dict[str, Example] = {}
    for example in examples:
        seen.setdefault(example.text, example)
    return list(seen.values())
