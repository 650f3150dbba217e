"""The spoken help and README's "Things you can say" come from the same data and agree."""

from __future__ import annotations

from pathlib import Path

from coach.content.model import IntentName
from coach.session.help_text import BEGIN, END, HELP_KEYS, help_items, readme_paragraph
from tests.test_app import shipped

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_list_is_made_from_the_data() -> None:
    content, _ = shipped()
    text = README.read_text(encoding="utf-8")
    shown = text[text.index(BEGIN): text.index(END) + len(END)]
    assert shown == readme_paragraph(content), (
        "README's 'Things you can say' is out of date: python -m coach.session.help_text")


def test_every_thing_the_help_says_to_say_is_understood() -> None:
    content, understanding = shipped()
    for key in HELP_KEYS:
        items = help_items(content.phrases[key])
        assert len(items) >= 3, key
        for item in items:
            assert understanding.interpret(item).name is not None, (key, item)


def test_help_fits_each_moment() -> None:
    content, understanding = shipped()

    def intents(key: str) -> set[str | None]:
        return {understanding.interpret(item).name for item in help_items(content.phrases[key])}

    assert {"start_routine", "list_routines"} <= intents("help_idle")
    assert {"pause", "next", "time_left", "form", "stop"} <= intents("help_running")
    assert {"resume", "stop"} <= intents("help_paused")
    assert {"resume", "start_routine", "list_routines"} <= intents("help_stopped")
    assert "pause" not in intents("help_paused") and "pause" not in intents("help_idle")


def test_readme_names_every_intent_a_user_can_say() -> None:
    content, understanding = shipped()
    paragraph = readme_paragraph(content)
    said = {understanding.interpret(phrase).name for phrase in understanding.leading_phrases()
            if phrase in paragraph}
    listed = {understanding.interpret(item).name for key in HELP_KEYS
              for item in help_items(content.phrases[key])}
    answers_and_questions = {IntentName.QUESTION, IntentName.YES, IntentName.NO}
    assert {name.value for name in IntentName} - answers_and_questions <= said | listed
    assert "yes or no" in paragraph


def test_help_items_parse() -> None:
    assert help_items("You can say: pause, skip, or stop. Ask me.") == ["pause", "skip", "stop"]
    assert help_items("Paused.") == []
