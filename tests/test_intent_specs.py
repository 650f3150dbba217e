"""commands.yaml intents as mappings: what each intent may do, checked with FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coach.content import ContentError, ContentFileError, check_paths, commands_from_yaml
from coach.content.loader import default_routine_dir, load_content
from coach.content.model import IntentName, IntentSpec
from coach.core.understanding import Understanding
from coach.errors import CoachError


def _commands(text: str, warnings: list[ContentError] | None = None) -> tuple[IntentSpec, ...]:
    return commands_from_yaml(textwrap.dedent(text), {}, Path("c"), warnings=warnings).intents


def _errors(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ContentFileError) as caught:
        _commands(text)
    return [(e.line, e.column, e.message) for e in caught.value.errors]


def test_a_mapping_declares_what_the_intent_may_do() -> None:
    (stop, pause) = _commands("""\
        intents:
          stop:
            templates: [stop, "end [the] workout"]
            barge_in: true
            destructive: true
            not_alone_over_coach: [End, enough]
          pause: [pause]
        """)
    assert stop == IntentSpec("stop", ("stop", "end [the] workout"), barge_in=True,
                              destructive=True, not_alone_over_coach=("end", "enough"))
    assert pause == IntentSpec("pause", ("pause",))  # a plain list: every flag off


def test_shown_as_names_the_intent_on_a_screen_with_known_slots_only() -> None:
    (start,) = _commands("""\
        slots:
          routine: {warm up: warm-up}
        intents:
          start_routine:
            templates: ["start {routine}"]
            shown_as: "start the {routine}"
        """)
    assert start.shown_as == "start the {routine}"
    errors = _errors("""\
        slots:
          routine: {warm up: warm-up}
        intents:
          start_routine:
            templates: ["start {routine}"]
            shown_as: "start the {roututine}"
        """)
    assert [e for e in errors if "shown_as" in e[2]] == [
        (6, 15, "shown_as of intent 'start_routine' names an unknown slot 'roututine'")]


def test_a_users_file_may_rename_an_intent_on_the_screen(tmp_path: Path) -> None:
    (tmp_path / "commands.yaml").write_text(
        "intents:\n  whats_next:\n    templates: [and then]\n    shown_as: up next\n",
        encoding="utf-8")
    content, problems = load_content([default_routine_dir(), tmp_path])
    assert problems == []
    specs = {spec.name: spec for spec in content.commands.intents}
    assert specs["whats_next"].shown_as == "up next"
    assert specs["start_routine"].shown_as == "start the {routine}"


def test_unknown_intent_name_is_an_error_with_a_did_you_mean() -> None:
    with pytest.raises(ContentFileError) as caught:
        _commands("intents:\n  pasue: [pause]\n  pause: [hold on]\n")
    (error,) = caught.value.errors
    assert (error.line, error.column) == (2, 3)
    assert error.message == "unknown intent 'pasue'; did you mean 'pause'?"
    assert "start_routine" in error.hint


def test_unknown_key_in_an_intent_mapping() -> None:
    assert _errors("""\
        intents:
          stop:
            templates: [stop]
            bargein: true
        """) == [(4, 5, "unknown key 'bargein'; did you mean 'barge_in'?")]


def test_wrong_value_types() -> None:
    assert _errors("""\
        intents:
          stop:
            templates: stop
            barge_in: 1
            destructive: "very"
            not_alone_over_coach: end
        """) == [
        (3, 16, "intent 'stop' needs a list of at least one template; got text 'stop', not a list"),
        (4, 15, "'barge_in' must be true or false, got number 1"),
        (5, 18, "'destructive' must be true or false, got text 'very'"),
        (6, 27, "'not_alone_over_coach' must be a list, got text 'end'"),
    ]


def test_templates_are_required_in_a_mapping() -> None:
    assert _errors("intents:\n  stop:\n    barge_in: true\n") == [
        (3, 5, "missing required key 'templates'"),
    ]


def test_not_alone_items_are_words_or_phrases() -> None:
    assert _errors("""\
        intents:
          stop:
            templates: [stop]
            barge_in: true
            not_alone_over_coach: [end, "that's enough", 3]
        """) == [
        (5, 50, "each item of 'not_alone_over_coach' must be text, got number 3"),
    ]


def test_coach_check_shows_intent_problems(tmp_path: Path) -> None:
    (tmp_path / "commands.yaml").write_text(
        "intents:\n  stopp: [stop]\n  pause:\n    templates: [pause]\n    barge: true\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in check_paths([tmp_path / "commands.yaml"])]
    path = tmp_path / "commands.yaml"
    assert problems == [
        f"{path}:2:3: unknown intent 'stopp'; did you mean 'stop'? "
        f"(the coach acts on {', '.join(name.value for name in IntentName)})",
        f"{path}:5:5: unknown key 'barge'; did you mean 'barge_in'? (intent 'pause' has "
        "'templates', 'barge_in', 'destructive', 'not_alone_over_coach', 'shown_as' and "
        "'open_slot')",
    ]


def test_user_files_add_flags_and_words(tmp_path: Path) -> None:
    bundled = default_routine_dir()
    (tmp_path / "commands.yaml").write_text(
        "intents:\n  stop:\n    templates: [halt]\n    not_alone_over_coach: [over]\n"
        "  help: [help me]\n", encoding="utf-8")
    content, problems = load_content([bundled, tmp_path])
    assert problems == []
    specs = {spec.name: spec for spec in content.commands.intents}
    assert specs["stop"].barge_in and specs["stop"].destructive
    assert specs["stop"].not_alone_over_coach == ("end", "enough", "over")
    assert "halt" in specs["stop"].templates and not specs["help"].barge_in


def test_shipped_commands_declare_todays_behaviour() -> None:
    content, problems = load_content([default_routine_dir()])
    assert problems == []
    understanding = Understanding(content.commands, content.faq)
    assert understanding.barge_in_intents == {"stop", "pause", "resume", "next", "pain", "yes",
                                              "no"}
    assert understanding.not_alone_over_coach == {
        "stop": {"end", "enough"}, "resume": {"ready", "lets go"}, "pause": {"break"},
    }
    for word, words in understanding.not_alone_over_coach.items():
        for lone in words:  # each word is listed under the intent it means
            assert understanding.interpret(lone).name == word
    destructive = {spec.name for spec in content.commands.intents if spec.destructive}
    assert destructive == {"stop", "start_routine", "previous"}


def test_every_intent_the_program_handles_is_named() -> None:
    content, _ = load_content([default_routine_dir()])
    names = {name.value for name in IntentName}
    assert {spec.name for spec in content.commands.intents} | {"question"} == names


def test_content_errors_are_coach_errors() -> None:
    assert issubclass(ContentFileError, CoachError)


def test_a_filler_as_a_required_alternative_is_an_error() -> None:
    problems = _errors("fillers: [argh, please]\n"
                       "intents:\n  pain:\n    - '(ouch | argh) my back'\n    - 'pause [please]'\n")
    assert problems == [(3, 3, "'argh' is a filler, so the alternative 'argh' in template "
                               "'(ouch | argh) my back' says nothing")]
