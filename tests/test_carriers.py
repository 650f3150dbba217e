"""Carrier phrases: declared in commands.yaml, validated with positions, applied to every
intent when matching, and never added to the phrase list."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.content import ContentFileError, commands_from_yaml
from coach.content.commands import merge_commands
from coach.content.model import CommandSet, IntentSpec
from coach.core.carriers import Carriers, Span
from coach.core.intents import IntentMatcher
from coach.core.understanding import Understanding

PLAIN = CommandSet(
    intents=(
        IntentSpec("pause", ("pause [the workout]", "hold on", "wait")),
        IntentSpec("stop", ("stop [the workout]", "(i'm | i am) done")),
        IntentSpec("next", ("next [exercise]", "skip [this one]")),
        IntentSpec("quieter", ("turn it down",)),
        IntentSpec("louder", ("turn it up",)),
    ),
    fillers=("um", "okay", "coach", "please"),
)
CARRIED = CommandSet(
    intents=PLAIN.intents,
    fillers=PLAIN.fillers,
    carriers_before=("(can | could) you [just]", "(i want | i'd like) to", "yeah"),
    carriers_after=("(now | then | real quick)",),
    carriers_asides=("i (need | have) to",),
)


@pytest.fixture(scope="module")
def matcher() -> IntentMatcher:
    return IntentMatcher(CARRIED)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can you pause", "pause"),
        ("could you just skip this one real quick", "next"),
        ("okay coach i want to stop the workout now", "stop"),
        ("yeah can you turn it down then", "quieter"),
        ("wait wait hold on", "pause"),  # phrases of one command in a row
        ("i'm done stop the workout", "stop"),
        ("hold on i need to tie my shoe", "pause"),  # an aside after a whole command
    ],
)
def test_carriers_wrap_every_intent(matcher: IntentMatcher, text: str, intent: str) -> None:
    found = matcher.match(text)
    assert (found.name, found.score, found.carried) == (intent, 1.0, True)


@pytest.mark.parametrize(
    "text",
    [
        "i want to stop by the store later",  # a phrase followed by other talk
        "can you turn your music down dave",
        "i need to stop",  # an aside needs a whole command before it
        "turn it up turn it down",  # two meanings
        "yeah now",  # carriers alone
        "can you",
    ],
)
def test_carriers_do_not_let_other_talk_through(matcher: IntentMatcher, text: str) -> None:
    assert matcher.match(text).name is None


def test_without_carriers_the_frames_are_not_understood() -> None:
    assert IntentMatcher(PLAIN).match("i'd like to skip this one").name is None
    assert IntentMatcher(CARRIED).match("i'd like to skip this one").name == "next"


def test_carriers_add_no_phrases(matcher: IntentMatcher) -> None:
    assert matcher.phrases() == IntentMatcher(PLAIN).phrases()


def test_fuzzy_matching_tries_the_words_inside_the_carriers(matcher: IntentMatcher) -> None:
    found = matcher.match("can you just pawse the workout")
    assert (found.name, found.carried) == ("pause", True)
    assert found.score < 1.0


def test_a_carried_command_is_not_complete_early() -> None:
    # "can you stop" may go on "by the store": wait for the whole sentence.
    understanding = Understanding(CARRIED, ())
    assert understanding.is_complete("stop")
    assert not understanding.is_complete("can you stop")
    assert understanding.interpret("can you stop").name == "stop"


def test_spans_strip_carriers_from_both_ends() -> None:
    carriers = Carriers(
        before=frozenset({("can", "you"), ("yeah",)}),
        after=frozenset({("now",)}),
        asides=frozenset({("i", "need")}),
    )
    words = ["yeah", "can", "you", "pause", "now", "i", "need", "water"]
    spans = carriers.spans(words)
    assert Span(3, 4, aside=True) in spans
    assert Span(1, 8, aside=False) in spans
    assert spans[0].end - spans[0].start == max(span.end - span.start for span in spans)
    assert carriers.unframed(words) == words[3:]
    assert carriers.unframed(["can", "you"]) == ["you"]


def test_unframed_polite_request_is_not_a_question() -> None:
    commands = CommandSet(
        intents=(IntentSpec("form", ("give me a tip",)),),
        carriers_before=("can you",),
    )
    understanding = Understanding(commands, ())
    assert understanding.interpret("can you give me a tip").name == "form"


COMMANDS_YAML = """\
carriers:
  before: ["(can | could) you", "Yeah"]
  after: [now]
  asides: ["i need"]
intents:
  pause: [pause]
"""


def test_carriers_are_read_from_commands_yaml() -> None:
    commands = commands_from_yaml(COMMANDS_YAML, {}, Path("c"))
    assert commands.carriers_before == ("(can | could) you", "yeah")
    assert commands.carriers_after == ("now",)
    assert commands.carriers_asides == ("i need",)
    merged = merge_commands([commands, CommandSet((), carriers_after=("now", "then"))])
    assert merged.carriers_after == ("now", "then")


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("carriers:\n  before: ['(can | could you']\n", 2, 12,
         "unclosed '(' in template '(can | could you'"),
        ("carriers:\n  after: ['{routine} now']\n", 2, 11,
         "template '{routine} now' uses slot 'routine' where none is allowed"),
        ("carriers:\n  around: [now]\n", 2, 3, "unknown key 'around'"),
    ],
)
def test_carrier_errors_have_positions(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(ContentFileError) as caught:
        commands_from_yaml(text, {}, Path("c"))
    (error,) = caught.value.errors
    assert (error.line, error.column) == (line, column)
    assert error.message.startswith(message)
