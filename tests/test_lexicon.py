"""routines/lexicon.yaml: the shipped word lists, and the problems a broken file reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coach.content.errors import ContentFileError
from coach.content.lexicon import (
    LEXICON_FILE,
    check_lexicon,
    load_lexicon,
    shipped_lexicon,
)
from coach.content.loader import default_routine_dir

SHIPPED = default_routine_dir() / LEXICON_FILE

# The word lists as they were in coach/core/textnorm.py before they moved to data.
QUESTION_STARTERS = """why how what whats when where which who whom whose should shall is are am
    was were does do did can could will would may might explain describe teach"""
STOPWORDS = """a an the and or but if so to of in on at by for from with without into onto about
    while than then that this these those there here it its
    is are am was were be been being do does did doing done have has had having
    i im ive id me my mine myself you your youre we our us he she they them their his her
    whats who where can could would will shall may might must
    not no dont doesnt any some just really very much more most also too up down out off
    get got gets make makes way thing things something one ones
    kind kinds sort sorts type types
    man mate bro dude buddy pal guys lads
    explain describe teach tell"""
FRAME_WORDS = "why how what which when should after during before workout"
FAMILIES = {
    "pain": "pain pains painful hurt hurts hurting ache aches aching achy",
    "sore": "sore soreness stiff stiffness tight tightness",
    "workout": "workout workouts train training trained gym exercise exercises exercising "
    "session sessions lift lifts lifting",
    "leg": "leg legs",
    "prevent": "prevent preventing prevention avoid avoiding protect protecting safe safely",
    "cause": "cause causes causing caused reason reasons trigger triggers triggering",
    "treat": "treat treating treatment treatments relieve relief remedy remedies cure heal "
    "healing",
    "doctor": "doctor doctors physician physio physiotherapist professional medical",
    "serious": "serious dangerous worry worried worrying concern concerned injury injured "
    "alarming",
    "squat": "squat squats squatting squatted",
    "deadlift": "deadlift deadlifts deadlifting",
    "bend": "bend bending bent bends",
    "hinge": "hinge hinging hinges",
    "correct": "correct correctly right properly proper",
    "need": "need needs needed necessary important essential",
    "risky": "risky risk risks worst harmful",
}
COMPOUNDS = {
    ("work", "out"): "workout",
    ("working", "out"): "workout",
    ("worked", "out"): "workout",
    ("leg", "day"): "leg workout",
    ("leg", "days"): "leg workout",
    ("warm", "up"): "warm",
    ("warming", "up"): "warm",
    ("cool", "down"): "cool",
    ("cooling", "down"): "cool",
    ("over", "training"): "overtraining",
    ("over", "train"): "overtraining",
    ("over", "trained"): "overtraining",
    ("over", "trains"): "overtraining",
    ("dead", "lift"): "deadlift",
    ("dead", "lifts"): "deadlifts",
    ("dead", "lifting"): "deadlifting",
}
ONES = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen"""
TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
SOUND_DIGRAPHS = (("ph", "f"), ("ck", "k"), ("gh", ""), ("th", "t"), ("sh", "s"),
                  ("ch", "s"), ("qu", "kw"), ("wh", "w"))
SOUND_CLASSES = str.maketrans("bpmdtgkcqxvfzjsnlrhwy", "BBBTTKKKKKFFSSSNLR___")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def test_the_shipped_lexicon_holds_the_word_lists_the_code_had() -> None:
    lexicon = shipped_lexicon()
    assert lexicon.question_starters == _set(QUESTION_STARTERS)
    assert lexicon.question_anywhere == {"why"}
    assert lexicon.stopwords == _set(STOPWORDS)
    assert lexicon.frame_words == _set(FRAME_WORDS)
    assert dict(lexicon.families) == {head: _set(words) for head, words in FAMILIES.items()}
    assert dict(lexicon.compounds) == {pair: tuple(to.split()) for pair, to in COMPOUNDS.items()}
    assert lexicon.negations == _set("doesnt dont wont not never")
    assert dict(lexicon.negated) == {"pain": "prevent"}
    assert lexicon.dangling == _set("the a an to my of and")
    assert lexicon.leading == _set("and then but")
    assert lexicon.endings == ("ing", "ed", "es", "ly")
    assert lexicon.numbers.ones == tuple(ONES.split())
    assert lexicon.numbers.tens == tuple(TENS.split())
    assert (lexicon.numbers.hundred, lexicon.numbers.thousand) == ("hundred", "thousand")
    assert lexicon.sound.digraphs == SOUND_DIGRAPHS
    letters = "abcdefghijklmnopqrstuvwxyz"
    assert letters.translate(lexicon.sound.table) == letters.translate(SOUND_CLASSES)


def test_the_shipped_lexicon_checks_clean_and_is_read_once() -> None:
    assert check_lexicon(SHIPPED) == []
    assert shipped_lexicon() is shipped_lexicon()


def test_family_of_maps_every_word_to_its_head() -> None:
    family_of = shipped_lexicon().family_of
    assert family_of["hurts"] == "pain"
    assert family_of["properly"] == "correct"
    assert "back" not in family_of


def _broken(tmp_path: Path, replace: str, by: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert replace in text
    path = tmp_path / LEXICON_FILE
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    return path


def _line_col(path: Path, needle: str) -> tuple[int, int]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.mark.parametrize(
    ("replace", "by", "at", "message"),
    [
        ("endings: [", "ending: [x]\nendings: [", "ending:", "unknown key 'ending'; did you mean"),
        ('"on", at,', "on, at,", "on, at,", "must be text, got yes/no value true"),
        ("leading: [and, then, but]", "leading: [and, '', but]", "''", "is empty"),
        ("dangling: [the,", "dangling: [The,", "The,", "'The' is not allowed"),
        ("leg: [leg, legs]", "leg: [leg, legs, aches]", "aches]", "'aches' is in two families"),
        ("negations: [", "negations: 3 #", "3 #", "must be a list, got number 3"),
        ("  work out: workout", "  work: workout", "work:", "must be two words"),
        ("pain: prevent", "ache: prevent", "ache: prevent", "'ache' is not a family"),
        ("tens: [twenty,", "tens: [", "[ thirty", "must list 8 words, got 7"),
        ("    R: [r]", "    R: [r, b]", "b]", "'b' is already in class 'B'"),
        ("frame_words: [why, how,", "frame_words: [why, why's, how,", "why's", "'why's' is not"),
    ],
)
def test_a_broken_lexicon_reports_where(
    tmp_path: Path, replace: str, by: str, at: str, message: str
) -> None:
    path = _broken(tmp_path, replace, by)
    problems = check_lexicon(path)
    assert len(problems) == 1, problems
    assert (problems[0].path, problems[0].line, problems[0].column) == (path, *_line_col(path, at))
    assert message in problems[0].message
    with pytest.raises(ContentFileError) as raised:
        load_lexicon(path)
    assert message in str(raised.value)


def test_a_word_listed_twice_is_reported_at_its_second_place(tmp_path: Path) -> None:
    path = _broken(tmp_path, "frame_words: [why, how,", "frame_words: [why, how, why,")
    problems = check_lexicon(path)
    line, column = _line_col(path, "how, why,")
    assert [(p.line, p.column, p.message) for p in problems] == [
        (line, column + len("how, "), "'why' is listed twice in 'frame_words'")
    ]


def test_a_missing_key_is_reported_at_the_top(tmp_path: Path) -> None:
    path = _broken(tmp_path, "endings: [ing, ed, es, ly]", "")
    line, column = _line_col(path, "question_starters:")
    assert [(p.line, p.column, p.message) for p in check_lexicon(path)] == [
        (line, column, "missing key 'endings'")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("[a, b]\n", "must be a mapping"), ("a: [\n", "invalid YAML")],
)
def test_a_file_that_is_not_a_lexicon_is_reported(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / LEXICON_FILE
    path.write_text(text, encoding="utf-8")
    assert message in str(check_lexicon(path)[0])


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    problems = check_lexicon(tmp_path / LEXICON_FILE)
    assert len(problems) == 1
    assert "cannot read the file" in problems[0].message


def test_importing_the_core_reads_no_file() -> None:
    code = (
        "import coach.core.faq, coach.core.intents, coach.core.textnorm\n"
        "from coach.content.lexicon import shipped_lexicon\n"
        "assert shipped_lexicon.cache_info().currsize == 0\n"
        "coach.core.textnorm.match_form('3')\n"
        "assert shipped_lexicon.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
