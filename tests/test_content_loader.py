"""Tests for coach.content: YAML in, frozen model or FILE:LINE:COL errors out."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

import coach
from coach.content import (
    ContentError,
    ContentFileError,
    Cue,
    Routine,
    Severity,
    Side,
    check_paths,
    commands_from_yaml,
    default_routine_dir,
    faq_from_yaml,
    load_commands,
    load_content,
    load_faq,
    load_phrases,
    load_routine,
    phrases_from_yaml,
    routine_from_dict,
    routine_from_yaml,
)

CORE = """\
id: core
name: Core basics
aliases: [abs, Core Work]
description: Plank and bridges.
rest: 15
intro: Core time.
outro: Core done.
exercises:
  - name: plank
    seconds: 30
    how: Forearms down.
    cues:
      - Keep your back flat.
      - {at: 20, say: Breathe.}
  - name: side plank
    seconds: 20
    sides: [right, left]
    rest: 25
  - name: glute bridge
    reps: 8
    tempo: 3
    rest: 40
"""

STRETCH = """\
id: cool-down
name: Cool-down stretches
exercises:
  - name: hamstring stretch
    seconds: 30
"""

FAQ = """\
entries:
  - id: squat-back-pain
    questions:
      - why does my back hurt when I squat
      - back pain squatting
    answer: Usually a rounded or over-arched back. Keep it neutral.
    details: Brace your core and hinge at the hips.
"""

COMMANDS = """\
fillers: [um, Please]
slots:
  routine:
    legs: cool-down
intents:
  pause: [pause, "(hold | wait) [on]"]
  start_routine: ["start [the] {routine}"]
"""

PHRASES = """\
paused: Paused. Say resume when you're ready.
rest: Rest {seconds} seconds.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _routine_problems(text: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem in a routine; fails if there is none."""
    with pytest.raises(ContentFileError) as caught:
        routine_from_yaml(textwrap.dedent(text), Path("r.yaml"))
    return [(e.line, e.column, e.message) for e in caught.value.errors]


def _only_problem(text: str) -> tuple[int, int, str]:
    problems = _routine_problems(text)
    assert len(problems) == 1, problems
    return problems[0]


# ----------------------------------------------------------------------------- valid routines


def test_routine_fields_rests_and_counted_length() -> None:
    routine = routine_from_yaml(CORE, Path("core.yaml"))

    assert (routine.id, routine.name) == ("core", "Core basics")
    assert routine.aliases == ("abs", "Core Work")
    assert routine.source == Path("core.yaml")
    plank, side_plank, bridge = routine.exercises
    assert plank.cues == (Cue("Keep your back flat."), Cue("Breathe.", 20.0))
    assert plank.rest_after == 15.0  # routine default
    assert side_plank.rest_after == 25.0  # own rest wins
    assert side_plank.sides == (Side.RIGHT, Side.LEFT)
    assert (bridge.reps, bridge.tempo, bridge.seconds) == (8, 3.0, 24.0)
    assert bridge.rest_after == 0.0  # last exercise: no rest, whatever it says
    assert routine.total_seconds == 30 + 15 + 40 + 25 + 24


def test_routine_from_dict_layer_accepts_plain_data() -> None:
    data = {"id": "quick", "name": "Quick", "exercises": [{"name": "march", "seconds": 10}]}
    routine = routine_from_dict(data)
    assert [e.name for e in routine.exercises] == ["march"]

    with pytest.raises(ContentFileError) as caught:
        routine_from_dict({"id": "quick", "name": "Quick", "exercises": []}, Path("d.yaml"))
    assert caught.value.errors[0].message == "'exercises' is empty"


def test_multiline_text_is_collapsed_for_speech() -> None:
    folded = STRETCH.replace("Cool-down stretches", "|\n  Cool-down\n  stretches")
    routine = routine_from_yaml(folded)
    assert routine.name == "Cool-down stretches"


# ----------------------------------------------------------------------------- routine errors


def test_unknown_key_suggests_nearest() -> None:
    line, column, message = _only_problem("""\
        id: x
        name: X
        exercises:
          - name: march
            seconds: 30
            secs: 45
        """)
    assert (line, column) == (6, 5)
    assert message == "unknown key 'secs'; did you mean 'seconds'?"


def test_unknown_key_without_a_near_match() -> None:
    assert _only_problem("id: x\nname: X\nzzz: 1\nexercises: [{name: a, seconds: 1}]\n") == (
        3, 1, "unknown key 'zzz'"
    )


def test_wrong_type_names_the_value() -> None:
    assert _only_problem("""\
        id: x
        name: X
        exercises:
          - name: march
            seconds: forty
        """) == (5, 14, "'seconds' must be a number, got text 'forty'")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "'seconds' must be more than 0, got -5"),
        ("0", "'seconds' must be more than 0, got 0"),
        (".inf", "'seconds' must be a finite number, got inf"),
    ],
)
def test_time_must_be_positive_and_finite(value: str, message: str) -> None:
    assert _only_problem(f"id: x\nname: X\nexercises:\n  - name: a\n    seconds: {value}\n") == (
        5, 14, message
    )


def test_negative_rest_but_zero_rest_is_fine() -> None:
    text = (
        "id: x\nname: X\nrest: {rest}\n"
        "exercises: [{{name: a, seconds: 5}}, {{name: b, seconds: 5}}]\n"
    )
    assert _only_problem(text.format(rest=-1)) == (3, 7, "'rest' cannot be negative, got -1")
    assert routine_from_yaml(text.format(rest=0)).exercises[0].rest_after == 0.0


def test_reps_without_tempo_and_tempo_without_reps() -> None:
    assert _only_problem("id: x\nname: X\nexercises:\n  - name: a\n    reps: 8\n") == (
        5, 5, "'reps' needs 'tempo' (seconds per repetition)"
    )
    assert _only_problem("id: x\nname: X\nexercises:\n  - name: a\n    tempo: 3\n") == (
        5, 5, "'tempo' needs 'reps'"
    )


def test_reps_must_be_whole() -> None:
    assert _only_problem("id: x\nname: X\nexercises:\n  - {name: a, reps: 2.5, tempo: 3}\n") == (
        4, 21, "'reps' must be a whole number, got 2.5"
    )


def test_seconds_and_reps_together() -> None:
    assert _only_problem("""\
        id: x
        name: X
        exercises:
          - name: a
            seconds: 30
            reps: 8
            tempo: 3
        """) == (6, 5, "an exercise has either 'seconds' or 'reps', not both")


def test_unknown_and_repeated_sides() -> None:
    problems = _routine_problems("""\
        id: x
        name: X
        exercises:
          - name: lunge
            seconds: 20
            sides: [left, rigth, left]
        """)
    assert problems == [
        (6, 19, "unknown side 'rigth'; did you mean 'right'?"),
        (6, 26, "side 'left' is listed twice"),
    ]


def test_missing_required_keys_point_at_their_mapping() -> None:
    problems = _routine_problems("""\
        # comment first
        id: x
        exercises:
          - name: a
          - seconds: 3
        """)
    assert problems == [
        (2, 1, "missing required key 'name'"),
        (4, 5, "missing required key 'seconds' (or 'reps' with 'tempo')"),
        (5, 5, "missing required key 'name'"),
    ]


def test_empty_exercises_list() -> None:
    assert _only_problem("id: x\nname: X\nexercises: []\n") == (3, 12, "'exercises' is empty")
    assert _only_problem("id: x\nname: X\nexercises:\n") == (3, 11, "'exercises' has no value")


def test_cue_at_beyond_exercise_length_counts_per_side() -> None:
    problems = _routine_problems("""\
        id: x
        name: X
        exercises:
          - name: lunge
            seconds: 20
            sides: [left, right]
            cues:
              - {at: 19, say: fine}
              - {at: 25, say: too late}
              - {at: 20, say: also too late}
        """)
    assert [(line, column) for line, column, _ in problems] == [(9, 14), (10, 14)]
    assert problems[0][2] == "cue at 25 s is beyond the end of the exercise (20 s)"


def test_cue_must_be_text_or_mapping() -> None:
    line, column, message = _only_problem(
        "id: x\nname: X\nexercises:\n  - name: a\n    seconds: 9\n    cues: [5]\n"
    )
    assert (line, column) == (6, 12)
    assert message == "a cue must be text or a mapping with 'at' and 'say', got number 5"


@pytest.mark.parametrize("bad_id", ["Warm_Up", "warm up", "-core", "core-"])
def test_routine_id_format(bad_id: str) -> None:
    line, column, message = _only_problem(
        f"name: X\nid: '{bad_id}'\nexercises: [{{name: a, seconds: 1}}]\n"
    )
    assert (line, column) == (2, 5)
    assert message == f"routine id '{bad_id}' must be lowercase letters, digits and dashes"


def test_text_fields_reject_numbers_with_a_quote_hint() -> None:
    with pytest.raises(ContentFileError) as caught:
        routine_from_yaml("id: x\nname: 2024\nexercises: [{name: a, seconds: 1}]\n", Path("r"))
    (error,) = caught.value.errors
    assert str(error) == (
        "r:2:7: 'name' must be text, got number 2024 (put it in quotes to make it text)"
    )


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = _routine_problems("""\
        id: Bad Id
        name: X
        exercises:
          - name: a
            seconds: 0
          - name: b
            seconds: 10
            sides: [up]
        """)
    assert [(line, column) for line, column, _ in problems] == [(1, 5), (5, 14), (8, 13)]


# ----------------------------------------------------------------------------- YAML-level errors


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("id: x\nname: a: b\n", 2, 8, "mapping values are not allowed here"),
        ("id: x\nid: y\n", 2, 1, "duplicate key 'id'"),
        ("id: x\nexercises:\n\t- name: a\n", 3, 1, "'\\t'"),
        ("id: [x\nname: y\n", 2, 5, "expected ',' or ']'"),
    ],
)
def test_yaml_syntax_errors_have_positions(
    text: str, line: int, column: int, fragment: str
) -> None:
    ((got_line, got_column, message),) = _routine_problems(text)
    assert (got_line, got_column) == (line, column)
    assert message.startswith("invalid YAML: ")
    assert fragment in message


def test_merge_keys_may_override_without_duplicate_error() -> None:
    routine = routine_from_yaml("""\
        id: x
        name: X
        exercises:
          - &march {name: march, seconds: 30}
          - <<: *march
            seconds: 40
        """)
    assert [e.seconds for e in routine.exercises] == [30.0, 40.0]


def test_empty_file_and_wrong_top_level(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.yaml", "# nothing here\n")
    listed = _write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(ContentFileError) as caught:
        load_routine(empty)
    assert caught.value.errors[0].message == "the file is empty"
    with pytest.raises(ContentFileError) as caught:
        load_routine(listed)
    (error,) = caught.value.errors
    assert (error.line, error.column) == (1, 1)
    assert error.message.startswith("a routine file must be a mapping of keys")


def test_content_error_string_format() -> None:
    error = ContentError(Path("routines/core.yaml"), 6, 5, "unknown key 'secs'", "did you mean?")
    assert str(error) == "routines/core.yaml:6:5: unknown key 'secs' (did you mean?)"
    warning = ContentError(Path("f"), 1, 2, "long", severity=Severity.WARNING)
    assert str(warning) == "f:1:2: warning: long"


# ------------------------------------------------------------------------- faq, commands, phrases


def test_faq_loads() -> None:
    (entry,) = faq_from_yaml(FAQ)
    assert entry.id == "squat-back-pain"
    assert entry.questions[1] == "back pain squatting"


def test_faq_entry_needs_every_key_and_a_question() -> None:
    with pytest.raises(ContentFileError) as caught:
        faq_from_yaml("entries:\n  - id: a\n    questions: []\n    answer: Yes.\n", Path("faq"))
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (2, 5, "missing required key 'details'"),
        (3, 16, "'questions' is empty"),
    ]


def test_duplicate_faq_ids() -> None:
    text = FAQ + FAQ.split("\n", 1)[1]
    with pytest.raises(ContentFileError) as caught:
        faq_from_yaml(text, Path("faq"))
    errors = [e for e in caught.value.errors if not e.is_warning]
    assert [(e.line, e.column, e.message) for e in errors] == [
        (8, 9, "duplicate FAQ id 'squat-back-pain'")
    ]
    assert errors[0].hint == "first used at faq:2:9"


def test_long_faq_answer_is_a_warning_and_still_loads() -> None:
    text = FAQ.replace("Keep it neutral.", "Keep it neutral. Brace. Breathe.")
    warnings: list[ContentError] = []
    (entry,) = faq_from_yaml(text, Path("faq"), warnings=warnings)
    assert entry.answer.endswith("Breathe.")
    ((warning),) = warnings
    assert warning.severity is Severity.WARNING
    assert (warning.line, warning.column) == (6, 13)
    assert warning.message == "the short answer has 4 sentences; keep it to 2"


def test_commands_add_routine_names_and_aliases(tmp_path: Path) -> None:
    routines = {"core": routine_from_yaml(CORE), "cool-down": routine_from_yaml(STRETCH)}
    commands = load_commands(_write(tmp_path, "commands.yaml", COMMANDS), routines)

    routine_slot = commands.slots["routine"]
    assert routine_slot["legs"] == "cool-down"  # written in commands.yaml
    for spoken in ("core", "core basics", "abs", "core work", "cool-down", "cool down",
                   "cool-down stretches", "cool down stretches"):
        assert routine_slot[spoken] in routines, spoken
    assert commands.fillers == ("um", "please")
    templates = {i.name: i.templates for i in commands.intents}
    assert templates["pause"] == ("pause", "(hold | wait) [on]")


def test_commands_unknown_routine_in_slot_is_dropped_with_a_warning() -> None:
    routines = {"core": routine_from_yaml(CORE), "cool-down": routine_from_yaml(STRETCH)}
    warnings: list[ContentError] = []
    text = COMMANDS.replace("legs: cool-down", "legs: legs-day")
    commands = commands_from_yaml(text, routines, Path("c"), warnings=warnings)
    assert "legs" not in commands.slots["routine"]
    (warning,) = warnings
    assert (warning.line, warning.column) == (4, 11)
    assert warning.message == "unknown routine 'legs-day' in slot 'routine'; known: cool-down, core"


_NO_TEMPLATES = "intent 'pause' needs a list of at least one template; got no templates"


@pytest.mark.parametrize(
    ("intents", "line", "column", "message"),
    [
        ("  pause: []\n", 6, 10, _NO_TEMPLATES),
        ("  pause:\n", 6, 9, _NO_TEMPLATES),
        ("  pause: [\"(hold | wait\"]\n", 6, 11, "unclosed '(' in template '(hold | wait'"),
        ("  pause: [\"hold]\"]\n", 6, 11, "unmatched ']' in template 'hold]'"),
    ],
)
def test_intent_template_errors(intents: str, line: int, column: int, message: str) -> None:
    text = COMMANDS.split("intents:")[0] + "intents:\n" + intents
    with pytest.raises(ContentFileError) as caught:
        commands_from_yaml(text, {"cool-down": routine_from_yaml(STRETCH)}, Path("c"))
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [(line, column, message)]


def test_unknown_intent_names_are_an_error() -> None:
    text = "intents:\n  dance: [let's dance]\n  pause: [pause]\n"
    with pytest.raises(ContentFileError) as caught:
        commands_from_yaml(text, {}, Path("c"))
    (error,) = caught.value.errors
    assert (error.line, error.column, error.message) == (2, 3, "unknown intent 'dance'")


def test_phrases_load_and_bad_templates_are_reported() -> None:
    assert phrases_from_yaml(PHRASES)["rest"] == "Rest {seconds} seconds."
    with pytest.raises(ContentFileError) as caught:
        phrases_from_yaml("ok: fine\nbad: Rest {seconds seconds.\nnested: {a: b}\n", Path("p"))
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, 6), (3, 9)]
    assert caught.value.errors[0].message.startswith("phrase 'bad' is not a valid template")
    assert caught.value.errors[1].message == "phrase 'nested' must be text, got a mapping"


# ----------------------------------------------------------------------------- folders


def _bundled(folder: Path) -> Path:
    _write(folder, "core.yaml", CORE)
    _write(folder, "cool-down.yaml", STRETCH)
    _write(folder, "faq.yaml", FAQ)
    _write(folder, "commands.yaml", COMMANDS)
    _write(folder, "phrases.yaml", PHRASES)
    return folder


def test_load_content_skips_a_broken_file_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = _bundled(tmp_path / "bundled")
    _write(folder, "broken.yaml", "id: broken\nname: [unclosed\n")
    _write(folder, "bad-value.yaml", "id: bad\nname: B\nexercises: [{name: a, seconds: x}]\n")

    content, problems = load_content([folder])

    assert sorted(content.routines) == ["cool-down", "core"]
    assert {(p.path.name, p.line, p.column) for p in problems} == {
        ("broken.yaml", 3, 1),
        ("bad-value.yaml", 3, 32),
    }
    assert [e.id for e in content.faq] == ["squat-back-pain"]
    assert content.phrases["paused"].startswith("Paused.")
    assert content.commands.slots["routine"]["abs"] == "core"


def test_user_folder_overrides_and_extends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundled = _bundled(tmp_path / "bundled")
    user = tmp_path / "user"
    _write(user, "my-core.yaml", CORE.replace("Core basics", "My core"))
    _write(user, "extra.yaml", STRETCH.replace("cool-down", "extra").replace("Cool", "Extra"))
    _write(user, "phrases.yaml", "paused: Hold on.\n")
    _write(user, "commands.yaml", "slots: {routine: {bonus: extra}}\nintents: {pause: [freeze]}\n")

    with caplog.at_level(logging.INFO, logger="coach.content.loader"):
        content, problems = load_content([bundled, user])

    assert problems == []
    assert content.routines["core"].name == "My core"
    assert content.routines["core"].source == user / "my-core.yaml"
    assert "replaces" in caplog.text
    assert sorted(content.routines) == ["cool-down", "core", "extra"]
    assert content.phrases == {"paused": "Hold on.", "rest": "Rest {seconds} seconds."}
    templates = {i.name: i.templates for i in content.commands.intents}
    assert templates["pause"] == ("pause", "(hold | wait) [on]", "freeze")
    assert content.commands.slots["routine"]["bonus"] == "extra"
    assert content.commands.slots["routine"]["legs"] == "cool-down"


def test_duplicate_routine_ids_within_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    _write(folder, "a.yaml", STRETCH)
    _write(folder, "b.yaml", "# same id again\n" + STRETCH.replace("Cool-down", "Other"))

    content, problems = load_content([folder])

    assert content.routines["cool-down"].name == "Cool-down stretches"
    (problem,) = problems
    assert (problem.path.name, problem.line, problem.column) == ("b.yaml", 2, 5)
    assert problem.message == "duplicate routine id 'cool-down'"
    assert problem.hint == f"first used at {folder / 'a.yaml'}:1:5"


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    content, problems = load_content([tmp_path / "nope"])
    assert content.routines == {}
    assert [p.message for p in problems] == ["no such folder"]


def test_check_paths_empty_when_valid_and_lists_every_problem(tmp_path: Path) -> None:
    folder = _bundled(tmp_path / "ok")
    assert check_paths([folder]) == []
    assert check_paths([folder / "core.yaml", folder / "commands.yaml"]) == []

    _write(folder, "faq.yaml", FAQ.replace("details: Brace your core and hinge at the hips.", ""))
    _write(folder, "core.yaml", CORE.replace("seconds: 30", "secs: 30"))
    problems = check_paths([folder, tmp_path / "missing.yaml"])

    assert sorted((p.path.name, p.line, p.column) for p in problems) == [
        ("core.yaml", 9, 5),  # the exercise that lost its length
        ("core.yaml", 10, 5),  # 'secs'
        ("faq.yaml", 2, 5),
        ("missing.yaml", 1, 1),
    ]


def test_check_paths_resolves_routines_next_to_commands(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    _write(folder, "neighbour.yaml", STRETCH.replace("cool-down", "neighbour-only"))
    _write(folder, "commands.yaml", """\
        slots:
          routine:
            fine: neighbour-only
            bogus: zz-no-such-routine
        """)
    problems = check_paths([folder / "commands.yaml"])  # the routine file itself is not checked
    (warning,) = problems
    assert warning.is_warning
    assert (warning.path, warning.line, warning.column) == (folder / "commands.yaml", 4, 12)
    assert warning.message.startswith("unknown routine 'zz-no-such-routine' in slot 'routine'; ")
    assert "neighbour-only" in warning.message.split("known: ")[1].split(", ")


def test_load_functions_raise_with_the_file_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "faq.yaml", "entries: nope\n")
    with pytest.raises(ContentFileError) as caught:
        load_faq(path)
    assert str(caught.value) == (
        f"{path}:1:10: 'entries' must be a list, got text 'nope' "
        "(write one item per line, each starting with '- ')"
    )
    assert load_phrases(_write(tmp_path, "phrases.yaml", PHRASES))["paused"]
    assert isinstance(load_routine(_write(tmp_path, "core.yaml", CORE)), Routine)


def test_default_routine_dir_is_next_to_the_package_in_a_source_tree() -> None:
    source_tree_folder = Path(coach.__file__).resolve().parent.parent / "routines"
    if not any(source_tree_folder.glob("*.yaml")):
        pytest.skip("running from an installed package, not a source tree")
    assert default_routine_dir() == source_tree_folder


def test_shipped_no_answer_phrase_is_what_coach_ask_says() -> None:
    phrases = load_phrases(default_routine_dir() / "phrases.yaml")
    assert phrases["no_answer"] == (
        "I don't have an answer to that. Ask about lower back pain during leg workouts."
    )
