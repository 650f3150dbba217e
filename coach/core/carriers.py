"""Carrier phrases: the everyday words every command may come wrapped in.

commands.yaml `carriers` declares them as hassil-style templates, in three kinds:

* before: a frame in front of a command ("can you", "i want to", "yeah");
* after: a tail behind it ("real quick", "then", "a bit");
* asides: the start of a clause after a whole command that says why ("hang on, i need
  to tie my shoe"); the aside and everything after it are ignored.

A sentence is read as commands of one meaning with carriers around each of them:
(before* phrase after*)+ [aside ...]. "okay that's enough, let's stop" is two stop
phrases; "can you stop by the store" is not read, since "by the store" is neither a
phrase nor a carrier. Carriers are applied when matching, never expanded into the
phrase table, so they add nothing to the recogniser's grammar.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["Carriers", "Span"]

Words = tuple[str, ...]


class _Last(Enum):
    """What the parse read last: carriers are only allowed next to a phrase."""

    START = "start"
    BEFORE = "before"
    PHRASE = "phrase"
    AFTER = "after"


@dataclass(frozen=True)
class Span:
    """A stretch of a sentence's words left once the carriers around it are stripped."""

    start: int
    end: int
    """Index after the last word."""
    aside: bool
    """Whether an aside was cut off behind it (then only a whole phrase may fill it)."""


@dataclass(frozen=True)
class Carriers:
    """The carrier word sequences (match form, fillers removed), grouped by kind."""

    before: frozenset[Words] = frozenset()
    after: frozenset[Words] = frozenset()
    asides: frozenset[Words] = frozenset()

    @classmethod
    def of(
        cls,
        before: Iterable[str],
        after: Iterable[str],
        asides: Iterable[str],
        words_of: Callable[[str], Iterable[Words]],
    ) -> Carriers:
        """Build from templates; `words_of` expands one template into word sequences."""

        def expand(templates: Iterable[str]) -> frozenset[Words]:
            return frozenset(
                words for template in templates for words in words_of(template) if words
            )

        return cls(expand(before), expand(after), expand(asides))

    def __bool__(self) -> bool:
        return bool(self.before or self.after or self.asides)

    def spans(self, words: Sequence[str]) -> list[Span]:
        """Every stretch left by stripping carriers from the ends, widest first.

        The whole sentence is not among them.
        """
        starts = _reach(words, 0, self.before, forward=True)
        ends = {end: False for end in _reach(words, len(words), self.after, forward=False)}
        for index in range(1, len(words)):
            if _starts_with(words, index, self.asides):
                for end in _reach(words, index, self.after, forward=False):
                    ends.setdefault(end, True)
        spans = [
            Span(start, end, aside)
            for start in starts
            for end, aside in ends.items()
            if start < end and (start, end) != (0, len(words))
        ]
        return sorted(spans, key=lambda span: (span.start - span.end, span.start))

    def unframed(self, words: Sequence[str]) -> list[str]:
        """`words` without the longest run of frames in front, at least one word kept:
        "can you give me a tip" is a request for a tip, not a question."""
        start = max(_reach(words, 0, self.before, forward=True))
        return list(words[start:] if start < len(words) else words[-1:])

    def chain_end(self, words: Sequence[str], phrase_ends: Callable[[int], Iterable[int]]) -> bool:
        """Whether `words` read as (before* phrase after*)+ [aside ...] with at least two
        phrases or one phrase and a carrier, where `phrase_ends(i)` gives the ends of the
        phrases (of one meaning) that start at word i."""
        seen: set[tuple[int, _Last]] = set()
        todo = [(0, _Last.START)]
        while todo:
            state = todo.pop()
            if state in seen:
                continue
            seen.add(state)
            index, last = state
            if last in (_Last.PHRASE, _Last.AFTER) and (
                index == len(words) or _starts_with(words, index, self.asides)
            ):
                return True
            todo += self._steps(words, index, last, phrase_ends)
        return False

    def _steps(
        self,
        words: Sequence[str],
        index: int,
        last: _Last,
        phrase_ends: Callable[[int], Iterable[int]],
    ) -> list[tuple[int, _Last]]:
        steps = [(end, _Last.PHRASE) for end in phrase_ends(index)]
        steps += [(end, _Last.BEFORE) for end in _ends_at(words, index, self.before)]
        if last in (_Last.PHRASE, _Last.AFTER):
            steps += [(end, _Last.AFTER) for end in _ends_at(words, index, self.after)]
        return steps


def _starts_with(words: Sequence[str], index: int, sequences: Iterable[Words]) -> bool:
    return any(tuple(words[index : index + len(seq)]) == seq for seq in sequences)


def _ends_at(words: Sequence[str], index: int, sequences: Iterable[Words]) -> list[int]:
    """Where each of `sequences` found at `index` ends."""
    return [
        index + len(seq) for seq in sequences if tuple(words[index : index + len(seq)]) == seq
    ]


def _reach(
    words: Sequence[str], origin: int, sequences: frozenset[Words], *, forward: bool
) -> list[int]:
    """Positions reached from `origin` by stepping over any number of `sequences`, forward
    from the start or backward from the end."""
    reached = {origin}
    todo = [origin]
    while todo:
        index = todo.pop()
        for seq in sequences:
            size = len(seq)
            if size > (len(words) - index if forward else index):
                continue
            stretch = words[index : index + size] if forward else words[index - size : index]
            if tuple(stretch) == seq:
                step = index + size if forward else index - size
                if step not in reached:
                    reached.add(step)
                    todo.append(step)
    return sorted(reached)
