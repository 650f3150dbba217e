"""Hands-free sessions through real (virtual) devices: PulseAudio's fifo microphone and
null-sink speaker, the real recogniser, the real TTS, `coach` as a user runs it.

A feeder writes the microphone in real time, as a sound card would: the user's words when
there are any, silence otherwise, plus (for the echo test) what the coach itself plays,
recorded from the speaker's monitor, as a speaker next to a microphone would.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from coach.content.loader import default_routine_dir, load_content
from coach.core.spoken import estimate_seconds
from coach.core.textnorm import match_form
from tests.speech_fixtures import Pcm, espeak_available, speak
from tests.support.pulse import SinkRecorder, VirtualAudio

pytestmark = [
    pytest.mark.audio,
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup"),
]

COACH = Path(sys.executable).parent / "coach"
RATE = 16000
CHUNK = 320  # 20 ms

ECHO_ROUTINE = """\
id: echo-check
name: Echo check
intro: Say stop or pause at any time. Next up, squats.
outro: Stop here. That was the echo check.
rest: 6
exercises:
  - name: next to the wall squat
    seconds: 30
    how: Pause at the bottom, then stop halfway up.
    cues:
      - Don't stop now, pause at the bottom.
      - Next rep, pause again.
  - name: pause squat
    seconds: 20
    cues: [Stop at the bottom and pause.]
"""


class MicFeeder:
    """Writes the virtual microphone continuously in real time."""

    def __init__(
        self, audio: VirtualAudio, echo_gain: float = 0.0, room: Pcm | None = None
    ) -> None:
        """`echo_gain`: how loud the coach's own voice comes back (0: not at all); `room`:
        sound of the room, looped under everything (None: a silent room)."""
        self._audio = audio
        self._echo_gain = echo_gain
        self._room = room
        self._speech: queue.Queue[Pcm] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.spoken_until = 0.0
        """time.monotonic() when the last queued words end."""

    def start(self) -> None:
        self._thread.start()

    def say(self, text: str) -> float:
        """Queue the words; return when (monotonic) they will have been spoken."""
        pcm = speak(text)
        self._speech.put(pcm)
        self.spoken_until = max(time.monotonic(), self.spoken_until) + len(pcm) / RATE
        return self.spoken_until

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        monitor = None
        if self._echo_gain > 0:
            monitor = subprocess.Popen(
                ["parec", f"--device={self._audio.monitor}", "--format=s16le",
                 f"--rate={RATE}", "--channels=1", "--raw", "--latency-msec=20"],
                env=self._audio.child_env(), stdout=subprocess.PIPE,
            )
        fd = os.open(self._audio.mic_fifo, os.O_RDWR)
        pending = np.zeros(0, np.int16)
        started = time.monotonic()
        written = 0
        try:
            while not self._stop.is_set():
                if len(pending) < CHUNK and not self._speech.empty():
                    pending = np.concatenate([pending, self._speech.get()])
                chunk = np.zeros(CHUNK, np.float32)
                if self._room is not None and len(self._room):
                    at = np.arange(written, written + CHUNK) % len(self._room)
                    chunk += self._room[at]
                take = min(CHUNK, len(pending))
                chunk[:take] = pending[:take]
                pending = pending[take:]
                if monitor is not None and monitor.stdout is not None:
                    echo = np.frombuffer(monitor.stdout.read(CHUNK * 2), "<i2")
                    chunk[: len(echo)] += self._echo_gain * echo
                else:
                    time.sleep(max(0.0, started + written / RATE - time.monotonic()))
                os.write(fd, np.clip(chunk, -32768, 32767).astype("<i2").tobytes())
                written += CHUNK
        finally:
            os.close(fd)
            if monitor is not None:
                monitor.kill()
                monitor.communicate()


class CoachProcess:
    """`coach` hands-free, its JSON events collected from stdout."""

    def __init__(self, audio: VirtualAudio, state_dir: Path, *args: str) -> None:
        env = {**audio.child_env(), "XDG_STATE_HOME": str(state_dir),
               "COACH_SETTINGS": str(state_dir / "settings.toml")}
        self.process = subprocess.Popen(
            [str(COACH), "--engine", "whisper", *args, "run", "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.events: list[dict[str, object]] = []
        self.speaking_until = 0.0
        """time.monotonic() by which the coach will have said all it has said so far."""
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._error_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._error_reader.start()

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip())

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            with self._lock:
                self.events.append(event)
                if event["type"] == "said":  # lines queue one after another
                    start = max(time.monotonic(), self.speaking_until)
                    self.speaking_until = start + estimate_seconds(str(event["text"]))

    def wait_until_quiet(self, limit: float = 20.0) -> None:
        """Wait until the coach has (by a generous estimate) said everything it queued."""
        time.sleep(max(0.0, min(limit, self.speaking_until - time.monotonic())) + 0.5)

    def wait_for(self, predicate: object, timeout: float) -> dict[str, object]:
        event = self.poll(predicate, timeout)
        if event is None:
            pytest.fail(f"timed out; events: {self.events}; stderr: {self.stderr()}")
        return event

    def poll(self, predicate: object, timeout: float, since: int = 0) -> dict[str, object] | None:
        """The first event from index `since` on that satisfies `predicate`, or None."""
        deadline = time.monotonic() + timeout
        seen = since
        while time.monotonic() < deadline:
            with self._lock:
                fresh = self.events[seen:]
                seen += len(fresh)
            for event in fresh:
                if callable(predicate) and predicate(event):
                    return event
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def count(self) -> int:
        with self._lock:
            return len(self.events)

    def said(self) -> list[tuple[object, object]]:
        """What the coach said: (event time, text)."""
        return [(e["at"], e["text"]) for e in self.events if e["type"] == "said"]

    def heard(self) -> list[dict[str, object]]:
        with self._lock:
            return [e for e in self.events if e["type"] == "heard"]

    def stderr(self) -> str:
        return "\n".join(self.errors)

    def judged(self) -> list[str]:
        """The echo judge's verdicts, logged when the coach runs with --verbose."""
        return [line for line in self.errors if "judged" in line]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._reader.join(timeout=5)
        self._error_reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture()
def feeder(pulse_devices: VirtualAudio) -> Iterator[MicFeeder]:
    mic = MicFeeder(pulse_devices)
    mic.start()
    yield mic
    mic.stop()


def is_ready(event: dict[str, object]) -> bool:
    return event["type"] == "info" and str(event["text"]).startswith("Ready")


def shown(*parts: object) -> str:
    """Events in full for a failure message (pytest shortens a repr, not a string)."""
    return "\n".join(json.dumps(part, default=str) for part in parts)


def heard_intent(name: str):  # type: ignore[no-untyped-def]
    return lambda e: e["type"] == "heard" and e["intent"] == name


def transcribe(pcm: Pcm) -> str:
    from coach.hearing.asr.whisper import WhisperDecoder

    decoder = WhisperDecoder()
    window = 9 * RATE
    texts = [decoder.decode(pcm[i : i + window]).text for i in range(0, len(pcm), window)]
    return match_form(" ".join(texts))  # "warm-up" and "warm up" alike


def test_a_hands_free_session_through_real_devices(
    pulse_devices: VirtualAudio, feeder: MicFeeder, tmp_path: Path
) -> None:
    coach = CoachProcess(pulse_devices, tmp_path)
    try:
        coach.wait_for(is_ready, timeout=60)
        recorder = SinkRecorder(pulse_devices)
        recorder.start()
        feeder.say("start the warm up")
        coach.wait_for(heard_intent("start_routine"), timeout=20)
        # the not-a-doctor line (a first run), the intro and the first exercise's set-up line
        time.sleep(30)
        voice = recorder.stop()
        said = transcribe(voice)
        loud = int(np.abs(voice.astype(np.int32)).max()) if len(voice) else 0
        said_events = [e["text"] for e in coach.events if e["type"] == "said"][:3]
        playing = pulse_devices.pactl("list", "short", "sink-inputs")
        # the set-up line, "March on the spot...", in Whisper tiny's ears: "remarks on the
        # spot" once, as its first word runs into the line before
        assert "warm up" in said and ("march" in said or "on the spot" in said), (
            said, loud, coach.stderr(), said_events, playing
        )

        for words, intent in [("pause", "pause"), ("how much time is left", "time_left"),
                              ("resume", "resume"),
                              ("why does my lower back hurt when I squat", "question"),
                              ("stop", "stop")]:
            time.sleep(2.5)
            if not _barge_in(intent):
                coach.wait_until_quiet()  # a user asks when the coach has finished
            since = coach.count()
            feeder.say(words)
            coach.wait_for(heard_intent(intent), timeout=20)
        # a stop heard over the coach's voice is asked about first: the user says yes (or,
        # when nothing came of it, says stop again in the quiet)
        ended = coach.poll(lambda e: (e["type"] == "state" and e["state"] == "idle")
                           or e.get("text") == "Stop the workout?", timeout=10, since=since)
        if ended is None or ended.get("text") == "Stop the workout?":
            _answer_yes(coach, feeder.say, since)
        states = [e["state"] for e in coach.events if e["type"] == "state"]
        assert "paused" in states and states[-1] == "idle"
        time_left = next(e for e in coach.events if e["type"] == "said"
                         and "left in the dynamic warm-up" in str(e["text"]))
        assert "of marching in place" in str(time_left["text"])
    finally:
        coach.close()


@pytest.mark.parametrize(("echo_cancel", "tts"), [
    (True, "pyttsx3"), (False, "pyttsx3"), (True, "piper"),
], ids=["echo-cancelled", "text-rules-only", "echo-cancelled-piper"])
def test_the_coach_never_acts_on_its_own_voice(
    pulse_devices: VirtualAudio, tmp_path: Path, echo_cancel: bool, tts: str
) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "echo-check.yaml").write_text(ECHO_ROUTINE)
    mic = MicFeeder(pulse_devices, echo_gain=0.8)
    mic.start()
    flags = ["--tts", tts] if echo_cancel else ["--tts", tts, "--no-echo-cancel"]
    coach = CoachProcess(pulse_devices, tmp_path, "--routines", str(routines), *flags)
    try:
        coach.wait_for(is_ready, timeout=60)
        mic.say("start the echo check")
        coach.wait_for(heard_intent("start_routine"), timeout=20)
        coach.wait_for(lambda e: e["type"] == "state" and e["state"] == "finished", timeout=150)
        time.sleep(4)  # the outro, which says "stop", is heard too
        heard = coach.heard()
        acted = [e for e in heard if e["intent"] is not None][1:]
        said = [(e["at"], e["text"]) for e in coach.events if e["type"] == "said"]
        assert acted == [], shown(acted, said)
        if not echo_cancel:
            # Not a deaf pass: the coach's voice did reach the recogniser, over the coach.
            assert sum(1 for e in heard if e.get("over_coach")) >= 3, heard
        said = [e for e in coach.events if e["type"] == "said"]
        assert len(said) > 10
        states = [e["state"] for e in coach.events if e["type"] == "state"]
        assert "paused" not in states and "idle" not in states
    finally:
        coach.close()
        mic.stop()


@pytest.mark.parametrize("tts", ["pyttsx3", "piper"])
def test_stop_said_over_the_coach_is_acted_on(
    pulse_devices: VirtualAudio, tmp_path: Path, tts: str
) -> None:
    """Barge-in through the real devices: the coach's voice comes back into the microphone
    (a speaker next to it) and "stop" is said while it speaks; it asks, and "yes" stops the
    workout. Up to four tries, each over a long line once the echo filter has had the first
    lines to learn the room (in one fresh-clone CI run, three tries over Piper's voice all
    missed)."""
    mic = MicFeeder(pulse_devices, echo_gain=0.8)
    mic.start()
    coach = CoachProcess(pulse_devices, tmp_path, "--verbose", "--tts", tts)
    try:
        coach.wait_for(is_ready, timeout=60)
        mic.say("start the warm up")
        coach.wait_for(heard_intent("start_routine"), timeout=20)
        time.sleep(10)
        stopped = None
        for _ in range(4):
            since = coach.count()
            line = coach.poll(lambda e: e["type"] == "said" and len(str(e["text"])) > 30,
                              timeout=60, since=since)
            assert line is not None, shown(coach.events)
            time.sleep(0.6)  # into the line
            mic.say("stop")
            stopped = coach.poll(heard_intent("stop"), timeout=8, since=since)
            if stopped is not None:
                break
        assert stopped is not None, shown(coach.heard(), coach.said(), coach.judged())
        assert stopped.get("over_coach") is True  # said while the coach was speaking
        # over its own voice it stops talking, and asks before losing the user's place
        asked = coach.poll(lambda e: e["type"] == "said" and e["text"] == "Stop the workout?",
                           timeout=10, since=since)
        assert asked is not None, shown(coach.events[since:], coach.judged())
        assert _answer_yes(coach, mic.say, since), shown(coach.heard(), coach.judged())
        # A stop loses nothing: resume carries on where it left off.
        step = [e for e in coach.events if e["type"] == "state" and e["state"] != "idle"
                and e["state"] != "paused"][-1]["step"]
        # answered as the stopped line ends; the line says "resume" itself, seconds before
        # (its said event may come after the stop's state event: wait for the line first)
        ended = coach.poll(lambda e: e["type"] == "said" and str(e["text"]).startswith("Stopped"),
                           timeout=10, since=since)
        assert ended is not None, shown(coach.events[since:])
        coach.wait_until_quiet()
        since = coach.count()
        mic.say("resume")
        back = coach.poll(lambda e: e["type"] == "state" and e["state"] in RUNNING_STATES,
                          timeout=15, since=since)
        assert back is not None, shown(coach.events[since:], coach.said(), coach.judged())
        assert (back["routine"], back["step"]) == ("warm-up", step)
    finally:
        coach.close()
        mic.stop()


RUNNING_STATES = ("intro", "exercise", "rest")


def _answer_yes(coach: CoachProcess, say: Callable[[str], None], since: int) -> bool:
    """Answer "Stop the workout?" as a user would, once the coach has finished asking: "yes"
    while the question stands, else "stop" again in the quiet (a stop that lands on a cue is
    asked about again, and answered). Whether the workout then stopped."""
    def stopped(e: dict[str, object]) -> bool:
        return e["type"] == "state" and e["state"] == "idle"

    def asked(e: dict[str, object]) -> bool:
        return e["type"] == "said" and e["text"] == "Stop the workout?"

    words = "yes"
    for _ in range(4):
        coach.wait_until_quiet()
        said_at = coach.count()
        say(words)
        found = coach.poll(lambda e: stopped(e) or asked(e), timeout=10, since=said_at)
        if found is not None and stopped(found):
            return True
        words = "yes" if found is not None else "stop"
    return coach.poll(stopped, timeout=1, since=since) is not None


def _barge_in(intent: str) -> bool:
    """Whether the shipped commands.yaml lets `intent` interrupt the coach while it speaks."""
    commands = load_content([default_routine_dir()])[0].commands
    return any(spec.name == intent and spec.barge_in for spec in commands.intents)


def test_the_dashboard_of_a_hands_free_session_shows_the_engine_the_meter_and_what_it_heard(
    pulse_devices: VirtualAudio, feeder: MicFeeder, tmp_path: Path
) -> None:
    import shlex
    import shutil

    from tests.support.terminal import Terminal

    assert shutil.which("tmux"), "tmux is not installed: run scripts/setup --test"
    env = {**pulse_devices.child_env(), "XDG_STATE_HOME": str(tmp_path / "state"),
           "COACH_SETTINGS": str(tmp_path / "none.toml")}
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    command = (f"env -u COLUMNS -u LINES {assignments} {COACH} --engine whisper run --silent "
               f"2>{tmp_path}/stderr; echo EXITED $?; sleep 60")
    terminal = Terminal(command, 100, 34)
    try:
        screen = terminal.wait_for(lambda s: "● listening" in s, timeout=120)
        assert "whisper" in screen.splitlines()[0]  # the engine in use, in the frame's title
        assert re.search(r"-\d+ dB", screen)
        feeder.say("start the warm-up")
        screen = terminal.wait_for(lambda s: "GET READY" in s, timeout=60)
        assert "Heard" in screen and "start the warm-up" in screen.lower()
        terminal.keys("C-c")
        assert "EXITED 130" in terminal.wait_for(lambda s: "EXITED" in s)
    finally:
        terminal.close()
