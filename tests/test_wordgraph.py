"""The minimal word graph a grammar decoder searches."""

from __future__ import annotations

import itertools

import pytest

from coach.core.wordgraph import word_graph

PHRASES = [
    "start the warm up",
    "start my warm up",
    "begin the warm up",
    "start the core",
    "pause",
    "pause it",
    "stop it",
]


def split(phrases: list[str]) -> list[list[str]]:
    return [p.split() for p in phrases]


def test_accepts_exactly_its_phrases() -> None:
    graph = word_graph(split(PHRASES))
    for phrase in PHRASES:
        assert graph.accepts(phrase.split()), phrase
    for other in ["start the", "warm up", "start my core it", "pause pause", "stop", ""]:
        assert not graph.accepts(other.split()), other


def test_shared_endings_are_stored_once() -> None:
    """Every verb x article x routine: a flat list has one path each, the graph one per word."""
    verbs, articles, routines = ["start", "begin", "do", "run"], ["the", "my"], ["core", "abs"]
    phrases = [" ".join(words) for words in itertools.product(verbs, articles, routines)]
    graph = word_graph(split(phrases))
    assert all(graph.accepts(p.split()) for p in phrases)
    # start, after the verb, after the article, after the routine, final (32 paths flat)
    assert graph.states == 5
    assert len(graph.arcs) == len(verbs) + len(articles) + len(routines) + 1


def test_arcs_stay_inside_the_graph() -> None:
    graph = word_graph(split(PHRASES))
    assert {s for arc in graph.arcs for s in arc[:2]} <= set(range(graph.states))
    assert all(dst == graph.final for _, dst, word in graph.arcs if word is None)
    assert not any(src == graph.final for src, _, _ in graph.arcs)


def test_no_phrase_is_an_error() -> None:
    with pytest.raises(ValueError, match="no phrase"):
        word_graph([[], []])
