"""The command line, through the installed console script."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

COACH = Path(sys.executable).parent / "coach"

BROKEN_ROUTINE = """\
id: broken
name: Broken
intro: Hi.
outro: Bye.
exercises:
  - name: plank
    secs: 30
"""

GOOD_ROUTINE = """\
id: mini
name: Mini routine
aliases: [tiny one]
intro: Short one.
outro: Done.
exercises:
  - name: plank
    seconds: 20
    cues: [Squeeze your glutes.]
"""


def coach(
    *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # a fresh state folder: the first-run disclaimer is due, and the user's marker untouched
    env = {**os.environ, "XDG_STATE_HOME": tempfile.mkdtemp(prefix="coach-state-")}
    result = subprocess.run(
        [str(COACH), *args], input=stdin, capture_output=True, text=True, timeout=120,
        check=False, env=env,
    )
    if check and result.returncode != 0:
        pytest.fail(f"coach {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_console_script_and_module_both_run() -> None:
    assert COACH.exists(), "install the package: scripts/setup"
    assert coach("--version").stdout.startswith("coach ")
    module = subprocess.run([sys.executable, "-m", "coach", "--version"], capture_output=True,
                            text=True, timeout=60, check=True)
    assert module.stdout.startswith("coach ")


def test_list_shows_the_five_routines() -> None:
    out = coach("list").stdout
    for routine in ("warm-up", "core", "cool-down", "hip-hinge", "squat"):
        assert routine in out


def test_show_accepts_a_spoken_alias() -> None:
    out = coach("show", "warm up").stdout
    assert out.startswith("Dynamic warm-up (warm-up)")
    assert "1. marching in place" in out


def test_unknown_routine_is_a_clear_error() -> None:
    result = coach("show", "leg day", check=False)
    assert result.returncode == 2
    assert "no routine called 'leg day'" in result.stderr and "warm-up" in result.stderr


def test_dry_run_json_timeline_is_complete_and_ordered() -> None:
    events = json_lines(coach("play", "warm-up", "--dry-run", "--json").stdout)
    assert events[0] == {"type": "state", "at": 0.0, "state": "intro", "routine": "warm-up",
                         "step": 1}
    times = [float(e["at"]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times)
    said = [e for e in events if e["type"] == "said"]
    assert [e["text"] for e in said if e["kind"] == "count"][:3] == ["3", "2", "1"]
    assert events[-2]["state"] == "finished"
    assert said[-1]["kind"] == "finish"


def test_ask_json_contract() -> None:
    answer = json_lines(coach("ask", "why does my lower back hurt after leg day", "--json").stdout)
    assert set(answer[0]) == {"answer", "id", "score"}
    assert isinstance(answer[0]["answer"], str) and answer[0]["id"]
    none = json_lines(coach("ask", "what's the best pizza topping", "--json").stdout)[0]
    assert none["answer"] is None and none["id"] is None


def test_ask_answers_as_the_coach_would_aloud_with_the_meaning_model() -> None:
    # word overlap alone picks the physical-therapy entry; asked aloud, the coach gives the
    # red-flag advice, and `coach ask` the same
    answer = json_lines(coach("ask", "when do i need to get my back looked at by a doctor",
                              "--json").stdout)[0]
    assert answer["id"] == "red-flags"


def test_intent_json_contract() -> None:
    result = json_lines(coach("intent", "um coach start the core please", "--json").stdout)[0]
    assert result == {"intent": "start_routine", "slots": {"routine": "core"}, "score": 1.0}
    unrelated = json_lines(coach("intent", "my cat likes the sofa", "--json").stdout)[0]
    assert unrelated["intent"] is None and unrelated["slots"] == {}


def test_check_passes_on_the_shipped_content() -> None:
    result = coach("check")
    assert result.stdout.startswith("OK")


def test_check_reports_file_line_column_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_ROUTINE)
    result = coach("check", str(tmp_path), check=False)
    assert result.returncode == 1
    assert f"{tmp_path / 'broken.yaml'}:7:5:" in result.stdout
    assert "seconds" in result.stdout  # the nearest valid key is suggested


def test_check_without_paths_checks_the_users_folders_too(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_ROUTINE)
    result = coach("--routines", str(tmp_path), "check", check=False)
    assert result.returncode == 1
    assert f"{tmp_path / 'broken.yaml'}:7:5:" in result.stdout


def test_user_routines_load_beside_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_ROUTINE)
    (tmp_path / "mini.yaml").write_text(GOOD_ROUTINE)
    result = coach("--routines", str(tmp_path), "list")
    assert "mini" in result.stdout and "warm-up" in result.stdout
    assert "broken.yaml:7:5" in result.stderr
    started = json_lines(coach("--routines", str(tmp_path), "intent", "start the tiny one",
                               "--json").stdout)[0]
    assert started["slots"] == {"routine": "mini"}


def test_typed_session_json_events() -> None:
    commands = "start the core\nhow much time is left\npause\nresume\nstop\n"
    events = json_lines(coach("run", "--text", "--silent", "--json", stdin=commands).stdout)
    heard = [e["intent"] for e in events if e["type"] == "heard"]
    assert heard == ["start_routine", "time_left", "pause", "resume", "stop"]
    states = [e["state"] for e in events if e["type"] == "state"]
    assert states == ["intro", "paused", "intro", "idle"]
    said = [e for e in events if e["type"] == "said"]
    assert said[0]["kind"] == "disclaimer"  # typed mode too, at the first use


def test_listen_on_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = coach("listen", "--input", str(tmp_path / "missing.wav"), check=False)
    assert result.returncode != 0
    assert result.stderr.startswith("coach: ")
    assert "Traceback" not in result.stderr


def test_a_coach_error_is_printed_once_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = importlib.import_module("coach.cli.main")  # coach.cli.main is also the function
    from coach.errors import CoachError

    class Unplugged(CoachError):
        exit_code = 3

    def fail(args: object) -> int:
        raise Unplugged("the speaker is unplugged: plug it in")

    monkeypatch.setattr(cli, "_list", fail)
    assert cli.main(["list"]) == 3
    assert capsys.readouterr().err == "coach: the speaker is unplugged: plug it in\n"


def test_other_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = importlib.import_module("coach.cli.main")  # coach.cli.main is also the function

    def fail(args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "_list", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["list"])


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    read, write = os.pipe()
    process = subprocess.Popen([str(COACH), "play", "warm-up", "--dry-run"], stdout=write,
                               stderr=subprocess.PIPE, text=True)
    os.close(write)
    os.close(read)  # gone before the first line, as `| head` is after its lines
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 141
    assert errors == ""
