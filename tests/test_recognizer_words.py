"""routines/recognizer.yaml: the speech engines' words as data, validated with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.content.errors import ContentFileError
from coach.content.loader import default_routine_dir
from coach.content.recognizer import (
    check_recognizer_words,
    default_recognizer_words,
    load_recognizer_words,
    recognizer_words_from_yaml,
)

JUNK = {"thank you", "thanks for watching", "thank you for watching", "you", "bye", "music",
        "upbeat music", "applause", "laughter", "silence", "blank_audio", "so", "oh", "uh", "um",
        "hmm"}
FILLER_TEXT = (
    "the a to and of in it is that you i was he she for on with as they be at this have from "
    "or one had by word but not what all were we when your can said there use an each which do "
    "how their if will up other about out many then them these so some her would make like him "
    "into time has look two more write go see number no way could people"
)
FILLERS = tuple(FILLER_TEXT.split())
TOPIC = "Questions about lower back pain during leg workouts, squats, deadlifts and the hip hinge."

GOOD = """\
junk_transcripts: [thank you, bye]
prompt_topic: Questions about squats.
filler_words: [the, "no"]
english_markers: [the, stop]
"""


def test_the_shipped_file_holds_the_words_the_engines_used() -> None:
    words = load_recognizer_words(default_routine_dir() / "recognizer.yaml")
    assert words.junk_transcripts == JUNK
    assert words.filler_words == FILLERS
    assert words.english_markers == ("the", "start", "pause", "stop")
    assert words.prompt_topic == TOPIC
    assert default_recognizer_words() == words
    assert check_recognizer_words(default_routine_dir() / "recognizer.yaml") == []


def test_a_valid_text_loads() -> None:
    words = recognizer_words_from_yaml(GOOD, Path("r.yaml"))
    assert words.junk_transcripts == {"thank you", "bye"}
    assert words.filler_words == ("the", "no")


def problems(text: str) -> list[str]:
    with pytest.raises(ContentFileError) as caught:
        recognizer_words_from_yaml(text, Path("r.yaml"))
    return [str(error) for error in caught.value.errors]


def test_problems_are_reported_at_their_line_and_column() -> None:
    text = GOOD.replace("[the, \"no\"]", "[the, no, the, Two words]") + "junk: [x]\n"
    assert problems(text) == [
        "r.yaml:5:1: unknown key 'junk' (keys: junk_transcripts, prompt_topic, filler_words, "
        "english_markers)",
        "r.yaml:3:21: filler_words: False is not text (put it in quotes to make it text)",
        "r.yaml:3:25: filler_words: 'the' is listed twice",
        "r.yaml:3:30: filler_words: 'Two words' is not one lowercase word",
    ]


def test_missing_keys_wrong_types_and_bad_yaml() -> None:
    assert problems("junk_transcripts: [Thank you.]\nprompt_topic: [a]\n") == [
        "r.yaml:1:1: missing key 'filler_words'",
        "r.yaml:1:1: missing key 'english_markers'",
        "r.yaml:1:20: junk_transcripts: 'Thank you.' is not lowercase words without "
        "punctuation",
        "r.yaml:2:15: prompt_topic must be text (empty for none) (put it in quotes to make it "
        "text)",
    ]
    assert problems("- a\n")[0].startswith("r.yaml:1:1: recognizer.yaml must be a mapping")
    assert problems(GOOD.replace("english_markers: [the, stop]", "english_markers: the"))[0] \
        == "r.yaml:4:18: english_markers must be a list of words (one lowercase word)"
    assert problems("junk_transcripts: [a\n")[0].startswith("r.yaml:2:1: invalid YAML")


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    found = check_recognizer_words(tmp_path / "missing.yaml")
    assert len(found) == 1 and "cannot read the file" in str(found[0])
