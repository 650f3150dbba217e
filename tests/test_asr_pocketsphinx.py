"""PocketSphinx with a finite-state grammar on espeak-ng commands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.content.loader import load_content
from coach.core.understanding import Understanding
from coach.hearing.asr.base import Transcript
from coach.hearing.asr.pocketsphinx import PocketSphinxRecognizer, plan_grammar
from tests.speech_fixtures import concat, espeak_available, pink_noise, silence, speak

ROUTINES = Path(__file__).resolve().parent.parent / "routines"

COMMANDS = ["pause", "resume", "stop", "next exercise", "how much time is left", "repeat that"]


def test_plan_grammar_drops_unknown_words_and_duplicates() -> None:
    known = {"pause", "stop", "the", "a", "i'm", "done"}
    plan = plan_grammar(["Pause", "pause.", "stop", "flibber stop", "I'm done"], known,
                        fillers=True)
    assert plan.phrases == ("pause", "stop", "i'm done")  # the dictionary has "i'm"
    assert plan.dropped == ("flibber stop",)
    assert plan.fillers == ("the", "a")
    assert plan.graph.accepts(["i'm", "done"]) and not plan.graph.accepts(["done"])


def test_plan_grammar_transitions_leave_each_state_with_probability_one() -> None:
    plan = plan_grammar(["pause", "stop it", "pause it"], {"pause", "stop", "it", "the"},
                        fillers=True)
    leaving: dict[int, float] = {}
    for arc in plan.transitions():
        leaving[arc[0]] = leaving.get(arc[0], 0.0) + arc[2]
    assert leaving and all(total == pytest.approx(1.0) for total in leaving.values())
    fillers = [arc for arc in plan.transitions() if len(arc) == 4 and arc[3] == "the"]
    assert len(fillers) == 2  # into the filler loop, and round it


def test_plan_grammar_without_any_known_phrase_fails() -> None:
    with pytest.raises(ValueError, match="dictionary"):
        plan_grammar(["zzzq"], set())


@pytest.fixture(scope="module")
def recognizer() -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer([*COMMANDS, "qwzxy now"])


def run(rec: PocketSphinxRecognizer, audio: np.ndarray) -> list[Transcript]:
    found: list[Transcript] = []
    for begin in range(0, len(audio), 1600):
        found.extend(rec.accept(audio[begin : begin + 1600]))
    return found + rec.flush()


@pytest.mark.slow
def test_out_of_dictionary_phrase_is_reported(recognizer: PocketSphinxRecognizer) -> None:
    assert recognizer.dropped_phrases == ("qwzxy now",)
    assert recognizer.knows("pause") and not recognizer.knows("qwzxy")


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_recognises_commands_with_grammar(recognizer: PocketSphinxRecognizer) -> None:
    """PocketSphinx is weak on espeak voices (29/60 in the engine comparison): demand half."""
    correct = 0
    for phrase in COMMANDS:
        found = run(recognizer, concat(silence(0.5), speak(phrase), silence(1.0)))
        assert len(found) <= 1
        for transcript in found:
            assert transcript.text in COMMANDS  # a grammar only ever yields its phrases
            assert 0.0 <= transcript.confidence <= 1.0
            assert transcript.at >= transcript.end > transcript.start
        correct += [t.text for t in found] == [phrase]
    assert correct >= len(COMMANDS) // 2


@pytest.mark.slow
def test_nothing_from_pink_noise(recognizer: PocketSphinxRecognizer) -> None:
    assert run(recognizer, pink_noise(3.0)) == []


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_open_vocabulary_mode_returns_text() -> None:
    rec = PocketSphinxRecognizer(None)
    found = run(rec, concat(silence(0.5), speak("go forward ten meters"), silence(1.0)))
    assert found and all(t.text for t in found)


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_the_coachs_whole_grammar() -> None:
    """Thousands of expanded sentences share their words: the graph the decoder searches is
    a small fraction of them (as a flat list, a command took 7 to 30 s to decode here)."""
    content, errors = load_content([ROUTINES])
    assert not errors
    phrases = Understanding(content.commands, content.faq).phrases()
    rec = PocketSphinxRecognizer(phrases)
    assert rec.plan is not None and len(rec.plan.phrases) > 5000
    assert rec.plan.graph.states < len(rec.plan.phrases) // 5
    assert rec.knows("cooldown") and rec.knows("bodyweight")  # taught as compounds
    assert "i'm done" in rec.plan.phrases  # apostrophes are in the dictionary
    said = ["start the warm up", "pause", "skip this one", "how much time is left"]
    heard = [run(rec, concat(silence(0.5), speak(text, "en-us", 150), silence(1.0)))
             for text in said]
    assert all(t.text in rec.plan.phrases for found in heard for t in found)
    right = [[t.text for t in found] == [text] for found, text in zip(heard, said, strict=True)]
    assert sum(right) >= 2, heard
