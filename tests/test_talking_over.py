"""Talking to the coach through real (virtual) devices: its voice comes back into the
microphone, and the user stops it mid-line, asks, and mumbles. Whisper, the echo
canceller, the endpointer and the conversation rules, as a user runs them.

Not here yet: a question asked over the coach's voice. Through this echo path the canceller
removes 4-12 dB of the coach's voice, below the 15 dB at which its levels are trusted to
say a second voice spoke (docs/tuning/hearing.md); then barge-in commands act over it, and
whole sentences of the user's own words when surely understood. A question over a form cue
comes back mixed with the cue ("Why does my lower back third when I squat? Your ankles.",
0.55 from its FAQ entry), not surely understood: the second look for questions (hearing
issue) is what it waits for.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coach.session.policy import ANSWERS
from tests.speech_fixtures import espeak_available
from tests.support.pulse import VirtualAudio
from tests.test_hands_free import CoachProcess, MicFeeder, heard_intent, is_ready

pytestmark = [
    pytest.mark.audio,
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup"),
]

TALK_ROUTINE = """\
id: talk-check
name: Talk check
intro: Get ready to hold a wall sit.
outro: That was the talk check.
rest: 8
exercises:
  - name: wall sit
    seconds: 75
    cues:
      - Keep your back flat against the wall and your knees right over your ankles.
      - Breathe steadily and keep your weight back in your heels the whole time.
      - Press your lower back gently into the wall and keep your shoulders relaxed.
      - Keep your chin tucked and look straight ahead, not down at the floor.
      - Hold the position and let your thighs do the work, not your lower back.
  - name: glute bridge
    seconds: 30
"""


def said(kind: str):  # type: ignore[no-untyped-def]
    return lambda e: e["type"] == "said" and e.get("kind") == kind


def told_so(event: dict[str, object]) -> bool:
    """The coach said it did not understand: "say that again" or its no-answer line."""
    return said("not_understood")(event) or (
        event["type"] == "said" and str(event["text"]).startswith("I don't have an answer"))


def test_talking_to_the_coach_through_real_devices(
    pulse_devices: VirtualAudio, tmp_path: Path
) -> None:
    """A command over a form cue stops the line and acts; in the pause a question and
    "what's next" are answered; a near mumble gets "say that again" once. (With quiet espeak
    chatter looped under it, Whisper heard the room as "hold it" and "yes": room chatter is
    tested in WAV mode with music, tests/test_session_wav.py; see issue 13.)"""
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "talk-check.yaml").write_text(TALK_ROUTINE)
    mic = MicFeeder(pulse_devices, echo_gain=0.8)
    mic.start()
    coach = CoachProcess(pulse_devices, tmp_path, "--routines", str(routines))
    try:
        coach.wait_for(is_ready, timeout=60)
        time.sleep(3)  # the room alone, before anyone speaks to the coach
        mic.say("start the talk check")
        coach.wait_for(heard_intent("start_routine"), timeout=20)

        # "Pause" over a form cue, once the echo filter has had the first lines to learn.
        paused = None
        for _ in range(4):
            since = coach.count()
            cue = coach.poll(said("cue"), timeout=30, since=since)
            assert cue is not None, coach.events
            time.sleep(0.5)  # into the line
            mic.say("pause")
            paused = coach.poll(heard_intent("pause"), timeout=8, since=since)
            if paused is not None:
                break
        assert paused is not None and paused.get("over_coach") is True, coach.heard()
        coach.wait_for(lambda e: e["type"] == "state" and e["state"] == "paused", timeout=5)
        coach.wait_until_quiet()

        # In the pause: a question from the article, then what comes next.
        # (Up to two tries: the endpointer may close at the pause after "why does", and the
        # coach then answers the fragment over the rest; a user says it again.)
        answer = None
        for _ in range(2):
            since = coach.count()
            mic.say("why does my lower back hurt when I squat")
            answer = coach.poll(said("answer"), timeout=15, since=since)
            coach.wait_until_quiet()
            time.sleep(1)
            if answer is not None:
                break
        assert answer is not None, coach.heard()
        since = coach.count()
        mic.say("what's next")
        reply = coach.poll(lambda e: e["type"] == "said" and "glute bridge" in str(e["text"]),
                           timeout=15, since=since)
        assert reply is not None, (coach.heard(), coach.events[since:])
        coach.wait_until_quiet()
        time.sleep(2)  # well clear of the reply: said over it, a request is the levels' call

        # Words meant for the coach that mean nothing to it, near and loud: never silence.
        # "Say that again", or the no-answer line where Whisper wrote them as a question.
        # (Up to two tries: in one fresh-clone CI run nothing came back, what Whisper heard
        # unseen; a user says it again.)
        told = None
        for _ in range(2):
            since = coach.count()
            mic.say("blue cheese and crackers")
            told = coach.poll(told_so, timeout=15, since=since)
            if told is not None:
                break
            coach.wait_until_quiet()
            time.sleep(1)
        assert told is not None, coach.heard()
        time.sleep(4)  # the room goes on talking

        # Nothing else was answered or acted on, and "say that again" never twice in a row.
        asked_again = [e for e in coach.events if said("not_understood")(e)]
        assert len(asked_again) <= 1, (asked_again, coach.heard())
        # (a "yes" or "no" heard in the room does nothing unless the coach asked something)
        acted = {e["intent"] for e in coach.heard()
                 if e["intent"] is not None and e["intent"] not in ANSWERS}
        assert acted <= {"start_routine", "pause", "question", "whats_next"}, coach.heard()
        states = [e["state"] for e in coach.events if e["type"] == "state"]
        assert states[-1] == "paused"  # nothing the room said moved the workout on
    finally:
        coach.close()
        mic.stop()
