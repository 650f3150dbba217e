"""Hostile and careless content files: every one is a positioned problem, never a traceback,
a hang or a runaway; the good routines beside them still load. Plus a fuzz of the YAML
loader: nothing but the project's own error comes out of it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.content.errors import ContentFileError
from coach.content.limits import LIMITS
from coach.content.loader import check_paths, default_routine_dir, load_content, routine_from_yaml
from tests.test_cli import coach

HOSTILE = Path(__file__).parent / "data" / "hostile" / "routines"
GOOD = {"good", "spaced", "utf16"}
"""Routines of the hostile folder that are fine: a .yml file and a UTF-16 one among them."""


def test_coach_check_names_every_hostile_file_with_a_position() -> None:
    result = coach("check", str(HOSTILE), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    problem_lines = [line for line in lines if line.startswith(str(HOSTILE))]
    named = {Path(line.split(":", 1)[0]).stem for line in problem_lines}
    hostile = {path.stem for path in HOSTILE.iterdir()} - GOOD
    assert named == hostile
    for line in problem_lines:  # FILE:LINE:COL: message
        _, line_no, column, message = line.split(":", 3)
        assert line_no.isdigit() and column.isdigit() and message.strip()


def test_the_good_routines_beside_hostile_ones_still_load_and_play() -> None:
    content, problems = load_content([default_routine_dir(), HOSTILE])
    assert set(content.routines) >= GOOD
    assert "warm-up" in content.routines
    assert problems
    listed = coach("--routines", str(HOSTILE), "list")
    assert "good" in listed.stdout and "spaced" in listed.stdout
    played = coach("--routines", str(HOSTILE), "play", "good", "--dry-run")
    assert "Good one" in played.stdout
    assert "Traceback" not in listed.stderr + played.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("deep-flow", "nested more than"),
        ("deep-block", "nested more than"),
        ("reps-billion", "'reps' must be at most"),
        ("seconds-exponent", "'seconds' must be at most 3600 s, got 1000000000 s"),
        ("routine-too-long", "the routine lasts 360 minutes"),
        ("too-many-exercises", "'exercises' has more than"),
        ("long-text", "'intro' is longer than"),
        ("python-tag", "could not determine a constructor"),
        ("nul-in-text", "control character"),
    ],
)
def test_each_limit_is_told_where_it_was_crossed(name: str, message: str) -> None:
    problems = check_paths([HOSTILE / f"{name}.yaml"])
    assert any(message in str(problem) for problem in problems), problems
    assert all(problem.line >= 1 for problem in problems)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("id: big\nname: Big\n# " + "x" * LIMITS.file_bytes + "\n", encoding="utf-8")
    (problem,) = check_paths([big])
    assert "larger than" in problem.message


def test_a_pipe_named_yaml_is_refused_without_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    result = coach("check", str(pipe), check=False)  # would block forever if it were read
    assert result.returncode == 1
    assert "not a regular file" in result.stdout + result.stderr
    assert "no such file" not in result.stdout + result.stderr


def test_a_folder_of_too_many_files_reads_the_first_and_says_so(tmp_path: Path) -> None:
    for index in range(LIMITS.files_per_folder + 2):
        (tmp_path / f"r{index:04d}.yaml").write_text(
            f"id: r{index:04d}\nname: R\nexercises:\n  - {{name: x, seconds: 5}}\n",
            encoding="utf-8",
        )
    content, problems = load_content([tmp_path])
    assert len(content.routines) == LIMITS.files_per_folder
    (problem,) = problems
    assert f"more than {LIMITS.files_per_folder} YAML files" in problem.message
    assert "r0500.yaml and the 1 after it" in problem.message


# --- fuzz ---------------------------------------------------------------------------------

_SHIPPED = sorted(path.read_text(encoding="utf-8") for path in default_routine_dir().glob("*.yaml")
                  if path.stem in {"warm-up", "core", "squat"})
_YAML_BITS = st.sampled_from([
    "\n", " ", "  ", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "!!", "<<: ", "? ", "|",
    ">", "'", '"', "#", "\t", "id", "name", "exercises", "seconds", "reps", "tempo", "cues",
    "at", "say", "sides", "left", "1e9", "-1", ".inf", ".nan", "0", "999999999999", "null",
    "~", "yes", "\x00", "\ufeff", "\u2028", "é", "%YAML 1.1\n", "---\n", "...\n",
])


def _mutated(data: st.DataObject) -> str:
    text = data.draw(st.sampled_from(_SHIPPED))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 8))):
        at = rng.randrange(len(chars) + 1)
        action = rng.choice(("insert", "delete", "replace"))
        bit = data.draw(_YAML_BITS)
        if action == "insert":
            chars[at:at] = bit
        elif action == "delete":
            del chars[at:at + rng.randint(1, 20)]
        else:
            chars[at:at + len(bit)] = bit
    return "".join(chars)


def _load(text: str) -> None:
    try:
        routine_from_yaml(text)
    except ContentFileError as error:
        assert error.errors  # every refusal says why


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_routines_raise_only_content_errors(data: st.DataObject) -> None:
    _load(_mutated(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(_YAML_BITS, max_size=60).map("".join))
def test_fuzz_yaml_shaped_noise_raises_only_content_errors(text: str) -> None:
    _load(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_any_text_raises_only_content_errors(text: str) -> None:
    _load(text)
