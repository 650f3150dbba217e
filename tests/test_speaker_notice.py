"""The session when the speaker goes and comes back, on a fake clock: one notice each way,
the routine held where it is and resumed from there; a routine read aloud waits for it."""

from __future__ import annotations

import queue
import threading

from coach.session.inputs import EndOfInput, Input, SpeakerChanged
from coach.session.loop import run_loop
from tests.test_app import FakeVoice, make_coach, said


def notices(events: list[dict]) -> list[str]:
    return [str(e["text"]) for e in events if e["type"] == "info"]


def states(events: list[dict]) -> list[tuple[float, str, object]]:
    return [(float(e["at"]), str(e["state"]), e["step"]) for e in events if e["type"] == "state"]


def test_a_lost_speaker_holds_the_routine_and_its_return_resumes_it() -> None:
    voice = FakeVoice()
    coach, events = make_coach(voice)
    coach.typed("start the warm up", 0.0)
    coach.tick(30.0)  # into the first exercise
    before = coach.player.remaining(30.0)
    voice.said.clear()

    coach.speaker_changed(False, "pulse", 30.0)
    assert notices(events) == ["Speaker lost (pulse went silent). The workout is paused where "
                               "it is; it goes on when the speaker is back."]
    assert states(events)[-1] == (30.0, "paused", 1)
    assert voice.said == []  # nobody would hear it
    coach.tick(90.0)
    assert coach.player.remaining(90.0) == before  # the clock stood still

    coach.speaker_changed(True, "pulse", 90.0)
    assert notices(events)[1:] == ["Speaker back (pulse). Resuming the workout."]
    assert states(events)[-1] == (90.0, "exercise", 1)
    assert said(events)[-1].startswith("Resuming.")
    assert voice.said[-1][0] == said(events)[-1]  # spoken, on the speaker that came back
    assert coach.player.remaining(90.0) == before


def test_a_lost_speaker_with_nothing_running_is_only_said() -> None:
    coach, events = make_coach(FakeVoice())
    coach.speaker_changed(False, "pulse", 1.0)
    coach.speaker_changed(True, "pulse", 2.0)
    assert notices(events) == [
        "Speaker lost (pulse went silent). What I say is shown here until it is back.",
        "Speaker back (pulse).",
    ]
    assert states(events) == []


def test_a_routine_read_aloud_waits_for_the_speaker_rather_than_ending() -> None:
    coach, events = make_coach(FakeVoice())
    now = [0.0]
    coach.typed("start the warm up", 0.0)
    inputs: queue.Queue[Input] = queue.Queue()
    inputs.put(SpeakerChanged(False, "pulse"))
    inputs.put(EndOfInput())  # play mode's "nothing more to come" must not end a hold
    done = threading.Event()

    def play() -> None:
        run_loop(coach, inputs, lambda: now[0], until_finished=True)
        done.set()

    threading.Thread(target=play, daemon=True).start()
    assert not done.wait(1.0)
    assert coach.player.held
    now[0] = 10_000.0  # long after the routine would have ended
    inputs.put(SpeakerChanged(True, "pulse"))
    assert not done.wait(1.0)  # resumed: it runs on from where it was
    assert states(events)[-1][1] == "intro"
    inputs.put(EndOfInput())
    coach.player.handle("stop", {}, now[0])
    assert done.wait(5.0)
