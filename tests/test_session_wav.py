"""A whole session from a WAV file: `coach run --input`, the clock is the audio position.

Real speech (espeak-ng), the real built-in recogniser, the real intent layer; the coach's
voice is virtual. Every said event is checked against the routine's own timeline: before
the pause it is the dry-run timeline shifted to the start command, after the resume the
same shifted by exactly the time spent paused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.speech_fixtures import Pcm, espeak_available, speak

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup"),
]

COACH = Path(sys.executable).parent / "coach"
RATE = 16000

SCRIPT = [  # (second the words start, words)
    (0.5, "start the core"),
    (30.0, "pause"),
    (34.0, "how much time is left"),
    (39.0, "why does my lower back hurt when I squat"),
    (46.0, "resume"),
    (80.0, "stop"),
]


def build_session(path: Path, script: list[tuple[float, str]] = SCRIPT,
                  seconds: float = 84.0) -> None:
    """A WAV of `script`'s words (espeak-ng), each at its second, silence between."""
    audio = np.zeros(int(seconds * RATE), np.int16)
    for start, words in script:
        pcm: Pcm = speak(words)
        first = int(start * RATE)
        audio[first : first + len(pcm)] = pcm
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.tobytes())


def run(*args: str) -> list[dict[str, object]]:
    # a fresh state folder: the first-run disclaimer is due, and the user's marker untouched
    env = {**os.environ, "XDG_STATE_HOME": tempfile.mkdtemp(prefix="coach-state-")}
    result = subprocess.run([str(COACH), *args], capture_output=True, text=True, timeout=300,
                            check=True, env=env)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    wav = tmp_path_factory.mktemp("session") / "session.wav"
    build_session(wav)
    return run("--engine", "whisper", "run", "--input", str(wav), "--json")


def heard(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in events if e["type"] == "heard"]


def test_every_command_is_heard_in_order(session: list[dict[str, object]]) -> None:
    got = [(e["intent"], e["slots"]) for e in heard(session)]
    assert got[0] == ("start_routine", {"routine": "core"})
    assert [name for name, _ in got] == [
        "start_routine", "pause", "time_left", "question", "resume", "stop",
    ]
    for event, (start, _) in zip(heard(session), SCRIPT, strict=True):
        assert abs(float(event["start"]) - start) < 0.4  # type: ignore[arg-type]
        assert float(event["at"]) >= float(event["end"])  # type: ignore[arg-type]


def test_said_events_follow_the_routine_timeline_exactly(
    session: list[dict[str, object]],
) -> None:
    dry = [e for e in run("play", "core", "--dry-run", "--json") if e["type"] == "said"]
    start, pause, _, _, resume, stop = (float(e["at"]) for e in heard(session))  # type: ignore[arg-type]
    said = [e for e in session if e["type"] == "said"
            and e["kind"] not in ("reply", "answer", "disclaimer")]
    before = [(e["text"], round(float(e["at"]) - start, 3)) for e in said  # type: ignore[arg-type]
              if float(e["at"]) <= pause]  # type: ignore[arg-type]
    expected_before = [(e["text"], e["at"]) for e in dry if float(e["at"]) + start <= pause]  # type: ignore[arg-type]
    assert before == expected_before
    shift = start + (resume - pause)
    after = [(e["text"], round(float(e["at"]) - shift, 3), e["kind"]) for e in said  # type: ignore[arg-type]
             if resume <= float(e["at"]) < stop]  # type: ignore[arg-type]
    expected_after = [(e["text"], e["at"], e["kind"]) for e in dry
                      if resume <= float(e["at"]) + shift < stop]  # type: ignore[arg-type]
    # The clock's lines all come, on their shifted second; a form cue may give way to the
    # "Resuming" reply, never the other way round.
    assert [a for a in after if a[2] != "cue"] == [e for e in expected_after if e[2] != "cue"]
    assert {a for a in after if a[2] == "cue"} <= {e for e in expected_after if e[2] == "cue"}
    assert len(after) >= 3  # the clock went on after the resume


def test_replies_come_at_the_decision_time(session: list[dict[str, object]]) -> None:
    replies = [e for e in session if e["type"] == "said" and e["kind"] in ("reply", "answer")]
    by_time = {float(e["at"]): str(e["text"]) for e in replies}  # type: ignore[arg-type]
    decisions = [float(e["at"]) for e in heard(session)]  # type: ignore[arg-type]
    assert by_time[decisions[1]].startswith("Paused.")
    assert "of dead bug" in by_time[decisions[2]]  # time left names the exercise
    assert "Say tell me more" in by_time[decisions[3]]
    assert by_time[decisions[5]].startswith("Stopped the core")
    states = [e["state"] for e in session if e["type"] == "state"]
    assert states[-1] == "idle"


def test_the_disclaimer_comes_first_in_a_wav_session(session: list[dict[str, object]]) -> None:
    said = [e for e in session if e["type"] == "said"]
    assert said[0]["kind"] == "disclaimer"
    assert [e["kind"] for e in said].count("disclaimer") == 1


SAY_AGAIN_SCRIPT = [  # (second the words start, words, level in dBFS); music all along
    (8.0, "purple monkey dishwasher", -18.0),  # near and loud, not understood: say again
    (14.0, "elephant umbrella sandwich", -18.0),  # right after: not a second time
    (18.0, "what routines do you have", -18.0),
    (25.0, "purple monkey dishwasher", -38.0),  # as loud as the music: the room's
]
MUSIC_DBFS = -38.0


@pytest.fixture(scope="module")
def say_again_session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    from bench.audio import music, normalise_speech, to_int16

    audio = music(int(34.0 * RATE), seed=4) * 32768 * 10 ** (MUSIC_DBFS / 20)
    for start, words, dbfs in SAY_AGAIN_SCRIPT:
        pcm = normalise_speech(speak(words), dbfs).astype(np.float64)
        first = int(start * RATE)
        audio[first : first + len(pcm)] += pcm
    wav = tmp_path_factory.mktemp("say-again") / "say-again.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(to_int16(audio).tobytes())
    return run("--engine", "whisper", "run", "--input", str(wav), "--json")


def test_a_request_not_understood_gets_say_again_music_alone_does_not(
    say_again_session: list[dict[str, object]],
) -> None:
    again = [e for e in say_again_session if e["type"] == "said"
             and e["kind"] == "not_understood"]
    assert [e["text"] for e in again] == ["Sorry, say that again?"]
    first = next(e for e in heard(say_again_session) if e["intent"] is None)
    assert abs(float(first["start"]) - 8.0) < 0.4  # type: ignore[arg-type]
    assert float(first["level_db"]) >= 15.0  # type: ignore[arg-type]
    assert again[0]["at"] == first["at"]
    # nothing heard from the music alone, or from the words at the music's level, was
    # answered: the only say-again is the one for the near, loud request
    understood = [e["intent"] for e in heard(say_again_session) if e["intent"] is not None]
    assert understood == ["list_routines"]


OVER_COACH_SCRIPT = [  # (second the words start, words): the middle two over the coach
    (0.5, "start the core"),
    (9.0, "what comes next"),
    (20.0, "how much time is left"),
    (27.0, "stop"),
]


@pytest.fixture(scope="module")
def over_coach_session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    wav = tmp_path_factory.mktemp("over-coach") / "over-coach.wav"
    build_session(wav, OVER_COACH_SCRIPT, 32.0)
    return run("--engine", "whisper", "run", "--input", str(wav), "--json")


def test_requests_over_the_virtual_voice_act_like_in_silence(
    over_coach_session: list[dict[str, object]],
) -> None:
    # The WAV holds only the user (the coach's voice is virtual): a question or a command
    # said over the disclaimer, the introduction or the how-to is understood and answered.
    got = heard(over_coach_session)
    assert [e["intent"] for e in got] == ["start_routine", "whats_next", "time_left", "stop"]
    assert [e.get("over_coach", False) for e in got[:3]] == [False, True, True]
    replies = {float(e["at"]) for e in over_coach_session  # type: ignore[arg-type]
               if e["type"] == "said" and e["kind"] == "reply"}
    assert {float(e["at"]) for e in got[1:3]} <= replies  # type: ignore[arg-type]
    assert [e["state"] for e in over_coach_session if e["type"] == "state"][-1] == "idle"


GUESS_SCRIPT = [  # (second the words start, words)
    (0.5, "you speak too quick"),  # no phrasing of the coach's: a guess
    (6.0, "yes"),
]


@pytest.fixture(scope="module")
def guess_session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    wav = tmp_path_factory.mktemp("guess") / "guess.wav"
    build_session(wav, GUESS_SCRIPT, 10.0)
    return run("--engine", "whisper", "run", "--input", str(wav), "--json")


def test_a_near_miss_is_asked_about_and_yes_carries_it_out(
    guess_session: list[dict[str, object]],
) -> None:
    got = heard(guess_session)
    assert [e["intent"] for e in got] == [None, "yes"]
    asked = [e for e in guess_session if e["type"] == "said" and e["kind"] == "confirm"]
    assert [e["text"] for e in asked] == ["Did you mean: slower?"]
    assert asked[0]["at"] == got[0]["at"]
    done = [e for e in guess_session if e["type"] == "said" and e["at"] == got[1]["at"]]
    assert done  # the yes carried it out: the coach answered at once
