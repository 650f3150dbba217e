"""Talking to the coach while it talks, through real (virtual) devices: its voice comes back
into the microphone, the room's chatter is always there, and the user asks a question over a
form cue, asks what's next over the countdown, and mumbles something meant for it.
Whisper, the echo canceller, the endpointer and the conversation rules, as a user runs them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.speech_fixtures import babble, espeak_available
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
    seconds: 45
    cues:
      - Keep your back flat against the wall and your knees right over your ankles.
      - Breathe steadily and keep your weight back in your heels the whole time.
      - Press your lower back gently into the wall and keep your shoulders relaxed.
  - name: glute bridge
    seconds: 30
"""
ROOM_DBFS = -42.0
"""The room's chatter: other people talking a few metres away, well under the user's voice."""


def said(kind: str):  # type: ignore[no-untyped-def]
    return lambda e: e["type"] == "said" and e.get("kind") == kind


def test_requests_over_the_coach_are_answered_and_only_a_near_mumble_gets_say_again(
    pulse_devices: VirtualAudio, tmp_path: Path
) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "talk-check.yaml").write_text(TALK_ROUTINE)
    mic = MicFeeder(pulse_devices, echo_gain=0.8, room=babble(20.0, ROOM_DBFS))
    mic.start()
    coach = CoachProcess(pulse_devices, tmp_path, "--routines", str(routines))
    try:
        coach.wait_for(is_ready, timeout=60)
        time.sleep(3)  # the room alone, before anyone speaks to the coach
        mic.say("start the talk check")
        coach.wait_for(heard_intent("start_routine"), timeout=20)

        # A question over a form cue: heard over the coach's voice and answered.
        answered = None
        for _ in range(3):
            since = coach.count()
            cue = coach.poll(said("cue"), timeout=30, since=since)
            assert cue is not None, coach.events
            time.sleep(0.5)  # into the line
            mic.say("why does my lower back hurt when I squat")
            asked = coach.poll(heard_intent("question"), timeout=10, since=since)
            if asked is not None and asked.get("over_coach") is True:
                answered = coach.poll(said("answer"), timeout=10, since=since)
                break
        assert answered is not None, (coach.heard(), coach.stderr())

        # "What's next" over the countdown: answered with the next exercise.
        since = coach.count()
        count = coach.poll(lambda e: e["type"] == "said" and e.get("kind") == "count",
                           timeout=60, since=since)
        assert count is not None, coach.events
        mic.say("what's next")
        asked_next = coach.poll(heard_intent("whats_next"), timeout=15, since=since)
        assert asked_next is not None, (coach.heard(), coach.stderr())
        reply = coach.poll(lambda e: e["type"] == "said" and "glute bridge" in str(e["text"])
                           and e.get("kind") == "reply", timeout=10, since=since)
        assert reply is not None, (coach.heard(), coach.events[since:])

        # A mumble meant for the coach, said near and loud in a pause: "say that again".
        mic.say("pause")
        coach.wait_for(heard_intent("pause"), timeout=15)
        coach.wait_until_quiet()
        since = coach.count()
        mic.say("purple monkey dishwasher")
        again = coach.poll(said("not_understood"), timeout=15, since=since)
        assert again is not None and again["text"] == "Sorry, say that again?", coach.heard()

        # The whole session long, the room's chatter was never answered or acted on.
        asked_again = [e for e in coach.events if said("not_understood")(e)]
        assert len(asked_again) == 1, (asked_again, coach.heard())
        acted = [e["intent"] for e in coach.heard() if e["intent"] is not None]
        assert set(acted) <= {"start_routine", "question", "whats_next", "pause"}, coach.heard()
    finally:
        coach.close()
        mic.stop()
