"""A phrase list as the smallest word graph that accepts exactly those phrases.

The command templates expand to thousands of sentences ("start my cooldown stretches", "let's
do the hinging", ...). Given to a grammar decoder as a flat list of alternatives, each sentence
is its own path and the search is slow (seconds per command in PocketSphinx). Sentences share
beginnings and endings, so merging them gives a graph of a few hundred states: the same
language, far less to search.

Pure: no device or speech library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["WordGraph", "word_graph"]

Arc = tuple[int, int, str | None]
"""(from state, to state, word); word None is an empty step (to the final state)."""


@dataclass(frozen=True)
class WordGraph:
    """An acyclic word graph with one start and one final state."""

    states: int
    start: int
    final: int
    arcs: tuple[Arc, ...]

    def accepts(self, words: Sequence[str]) -> bool:
        """Whether the graph reads `words` from start to final."""
        current = {self.start}
        for word in words:
            current = {dst for src, dst, label in self.arcs if src in current and label == word}
        return any(src in current and label is None and dst == self.final
                   for src, dst, label in self.arcs)


@dataclass
class _Node:
    ends_here: bool = False
    children: dict[str, _Node] = field(default_factory=dict)


def word_graph(phrases: Iterable[Sequence[str]]) -> WordGraph:
    """The minimal graph of `phrases` (each a word sequence; empty ones are skipped).

    A prefix tree, then every two subtrees that accept the same endings are merged (bottom
    up, by signature), so shared endings ("... the warm up") are stored once.
    """
    root = _Node()
    for phrase in phrases:
        if not phrase:
            continue
        node = root
        for word in phrase:
            node = node.children.setdefault(word, _Node())
        node.ends_here = True
    if not root.children:
        raise ValueError("no phrase to build a word graph from")
    ids: dict[tuple[bool, tuple[tuple[str, int], ...]], int] = {}
    arcs: list[Arc] = []
    ending: list[int] = []

    def state_of(node: _Node) -> int:
        edges = tuple(sorted((word, state_of(child)) for word, child in node.children.items()))
        signature = (node.ends_here, edges)
        if signature not in ids:
            state = ids[signature] = len(ids)
            arcs.extend((state, child, word) for word, child in edges)
            if node.ends_here:
                ending.append(state)
        return ids[signature]

    start = state_of(root)
    final = len(ids)
    arcs.extend((state, final, None) for state in ending)
    return WordGraph(states=final + 1, start=start, final=final, arcs=tuple(arcs))
