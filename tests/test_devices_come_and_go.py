"""Devices come and go; a signal ends every mode cleanly.

Through a private PulseAudio server, pulled away mid-workout and started again: the
coach says once that the speaker is lost and holds the routine where it is, says once
that it is back, speaks again (recorded on the sink's monitor) and goes on from the same
place; stderr stays free of tracebacks, of repeated warnings and of leak reports. A
microphone that stops sending is told once, and once that it is back, when audio flows
again; the routine goes on meanwhile and hears the next command. Then
Ctrl-C exits 130 hands-free, typed and reading a routine aloud, and SIGTERM 143.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.speech_fixtures import Pcm, espeak_available, speak
from tests.support.pulse import SinkRecorder, VirtualAudio, start_virtual_audio

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup"),
]

COACH = Path(sys.executable).parent / "coach"
RATE = 16000
CHUNK = 320  # 20 ms
LOUD = 2000
"""A sample above this on the sink's monitor is the coach's voice (silence is 0)."""

Event = dict[str, object]


class Server:
    """A private PulseAudio that can be pulled away and started again in the same place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.audio: VirtualAudio | None = start_virtual_audio(folder)

    @property
    def running(self) -> VirtualAudio:
        assert self.audio is not None
        return self.audio

    def pull_away(self) -> None:
        self.running.stop()
        self.audio = None

    def come_back(self) -> VirtualAudio:
        self.audio = start_virtual_audio(self.folder)
        return self.audio

    def stop(self) -> None:
        if self.audio is not None:
            self.audio.stop()


class Microphone:
    """Writes the fifo microphone in real time (speech when queued, silence otherwise) and
    opens it again when a restarted server makes a new one."""

    def __init__(self, fifo: Path) -> None:
        self._fifo = fifo
        self._speech: list[Pcm] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        self._speech.append(speak(text))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self._fifo, os.O_RDWR | os.O_NONBLOCK)
            except OSError:  # the server is away: no fifo yet
                time.sleep(0.1)
                continue
            try:
                self._feed(fd, os.fstat(fd).st_ino)
            finally:
                os.close(fd)

    def _feed(self, fd: int, inode: int) -> None:
        started, written = time.monotonic(), 0
        while not self._stop.is_set():
            chunk = np.zeros(CHUNK, np.int16)
            if self._speech:
                words = self._speech[0]
                chunk[: min(CHUNK, len(words))] = words[:CHUNK]
                self._speech[0] = words[CHUNK:]
                if not len(self._speech[0]):
                    self._speech.pop(0)
            with contextlib.suppress(OSError):  # full while the server is away
                os.write(fd, chunk.astype("<i2").tobytes())
            written += CHUNK
            time.sleep(max(0.0, started + written / RATE - time.monotonic()))
            if _inode(self._fifo) != inode:
                return  # a new server, a new fifo


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


class Coach:
    """`coach` as a user runs it, its JSON events and its stderr collected."""

    def __init__(self, env: dict[str, str], *args: str, stdin: int | None = None) -> None:
        self.process = subprocess.Popen([str(COACH), *args], env=env, stdin=stdin,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.events: list[Event] = []
        self.errors: list[str] = []
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_errors, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip())

    def wait_for(self, wanted: Callable[[Event], bool], timeout: float,
                 since: int = 0) -> tuple[int, Event]:
        """The first event from index `since` on that is `wanted`, and its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for index, event in enumerate(self.events[since:], since):
                if wanted(event):
                    return index, event
            time.sleep(0.05)
        pytest.fail(f"timed out; events: {self.events}; stderr: {self.stderr()}")

    def signal(self, number: int) -> int:
        """Send `number`; the exit status once the process has wound down."""
        self.process.send_signal(number)
        status = self.process.wait(timeout=20)
        for reader in self._readers:
            reader.join(timeout=5)
        return status

    def stderr(self) -> str:
        return "\n".join(self.errors)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def environment(audio: VirtualAudio, folder: Path) -> dict[str, str]:
    return {**audio.child_env(), "XDG_STATE_HOME": str(folder / "state"),
            "XDG_DATA_HOME": str(folder / "data"),
            "COACH_SETTINGS": str(folder / "settings.toml")}


def info(start: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "info" and str(e["text"]).startswith(start)


def state(name: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "state" and e["state"] == name


def assert_clean(stderr: str) -> None:
    """No traceback, no leak report, at most one warning."""
    assert "Traceback" not in stderr, stderr
    assert "leaked" not in stderr, stderr
    assert stderr.count("WARNING") <= 1, stderr


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    audio = Server(tmp_path / "pulse")
    yield audio
    audio.stop()


def intro_seconds() -> float:
    """How long the warm-up's introduction lasts, from its timeline."""
    done = subprocess.run([str(COACH), "play", "warm-up", "--dry-run", "--json"],
                          capture_output=True, text=True, check=True, timeout=60)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return float(next(e["at"] for e in events if e.get("state") == "exercise"))


@pytest.mark.slow
def test_a_speaker_lost_mid_routine_holds_it_and_its_return_goes_on_from_the_same_place(
    server: Server, tmp_path: Path
) -> None:
    intro = intro_seconds()
    mic = Microphone(server.running.mic_fifo)
    coach = Coach(environment(server.running, tmp_path), "--engine", "whisper", "run", "--json")
    try:
        coach.wait_for(info("Ready"), timeout=60)
        mic.say("start the warm up")
        _, started = coach.wait_for(state("intro"), timeout=20)
        time.sleep(8)  # into the introduction

        server.pull_away()
        lost_at, _ = coach.wait_for(info("Speaker lost"), timeout=10)
        _, paused = coach.wait_for(state("paused"), timeout=5)
        assert (paused["routine"], paused["step"]) == ("warm-up", 1)
        time.sleep(3)

        recorder = SinkRecorder(server.come_back())
        recorder.start()
        back_at, _ = coach.wait_for(info("Speaker back"), timeout=20)
        _, resumed = coach.wait_for(state("intro"), timeout=5, since=back_at)
        assert (resumed["routine"], resumed["step"]) == ("warm-up", 1)  # the same place
        _, exercise = coach.wait_for(state("exercise"), timeout=intro + 10, since=back_at)
        voice = recorder.stop()

        notices = [str(e["text"]) for e in coach.events if e["type"] == "info"]
        assert sum(n.startswith("Speaker lost") for n in notices) == 1, notices
        assert sum(n.startswith("Speaker back") for n in notices) == 1, notices
        assert [e for e in coach.events[lost_at:back_at] if e["type"] == "said"] == []
        # The clock stood still while nobody could hear it: the introduction ends as late
        # as it was held, not a second earlier.
        held = float(resumed["at"]) - float(paused["at"])
        expected = float(started["at"]) + intro + held
        assert abs(float(exercise["at"]) - expected) < 0.5, (started, paused, resumed, exercise)
        assert int(np.abs(voice.astype(np.int32)).max()) > LOUD  # the coach is heard again
        assert_clean(coach.stderr())

        assert coach.signal(signal.SIGINT) == 130
        assert coach.stderr().count("Stopped.") == 1
        assert_clean(coach.stderr())
    finally:
        coach.close()
        mic.stop()


def _silence_the_microphone(audio: VirtualAudio) -> str:
    """Move every capture stream to a pipe source nobody writes, now the default: the
    coach's microphone really stops (PulseAudio would move the streams of an unloaded
    source to another, speaker.monitor at worst). The silent source's module index."""
    module = audio.pactl(
        "load-module", "module-pipe-source", "source_name=deadmic",
        f"file={audio.runtime_dir / 'dead.fifo'}", "format=s16le", "rate=16000",
        "channels=1").strip()
    audio.pactl("set-default-source", "deadmic")
    for line in audio.pactl("list", "short", "source-outputs").splitlines():
        audio.pactl("move-source-output", line.split("\t")[0], "deadmic")
    return module


@pytest.mark.slow
def test_a_microphone_lost_mid_routine_is_told_once_and_listening_comes_back(
    server: Server, tmp_path: Path
) -> None:
    audio = server.running
    mic = Microphone(audio.mic_fifo)
    coach = Coach(environment(audio, tmp_path), "--engine", "whisper", "run", "--json")
    try:
        coach.wait_for(info("Ready"), timeout=60)
        mic.say("start the warm up")
        coach.wait_for(state("intro"), timeout=20)

        silent = _silence_the_microphone(audio)
        lost_at, _ = coach.wait_for(info("Microphone lost"), timeout=15)
        time.sleep(8)  # it tries again every few seconds; each reopened stream is silent
        audio.pactl("set-default-source", audio.source)
        audio.pactl("unload-module", silent)  # its streams go to the real microphone
        back_at, _ = coach.wait_for(info("Microphone is back"), timeout=20, since=lost_at)

        paused: Event | None = None
        for _ in range(3):  # heard again (said over the coach, a word may be misheard)
            mic.say("pause")
            deadline = time.monotonic() + 10
            while paused is None and time.monotonic() < deadline:
                paused = next((e for e in coach.events[back_at:]
                               if e["type"] == "state" and e["state"] == "paused"), None)
                time.sleep(0.1)
            if paused is not None:
                break
        assert paused is not None, coach.events[back_at:]
        assert paused["routine"] == "warm-up"  # the routine was kept where it was
        notices = [str(e["text"]) for e in coach.events if e["type"] == "info"]
        assert sum(n.startswith("Microphone lost") for n in notices) == 1, notices
        assert sum(n.startswith("Microphone is back") for n in notices) == 1, notices
        assert not [e for e in coach.events if e["type"] == "state" and e["state"] == "idle"]
        assert_clean(coach.stderr())
    finally:
        coach.close()
        mic.stop()


@pytest.mark.slow
def test_ctrl_c_ends_a_hands_free_session_with_130(server: Server, tmp_path: Path) -> None:
    mic = Microphone(server.running.mic_fifo)
    coach = Coach(environment(server.running, tmp_path), "--engine", "whisper", "run", "--json")
    try:
        coach.wait_for(info("Ready"), timeout=60)
        mic.say("start the warm up")
        coach.wait_for(state("intro"), timeout=20)
        code = coach.signal(signal.SIGINT)
        assert code == 130, coach.stderr()
        assert coach.errors[-1] == "Stopped.", coach.stderr()
        assert_clean(coach.stderr())
    finally:
        coach.close()
        mic.stop()


@pytest.mark.parametrize(("args", "number", "status"), [
    (("run", "--text", "--json"), signal.SIGINT, 130),
    (("run", "--text", "--json"), signal.SIGTERM, 143),
    (("play", "warm-up", "--json"), signal.SIGINT, 130),
    (("play", "warm-up", "--json"), signal.SIGTERM, 143),
], ids=["typed-ctrl-c", "typed-sigterm", "play-ctrl-c", "play-sigterm"])
def test_a_signal_ends_typed_and_play_sessions_with_its_status(
    server: Server, tmp_path: Path, args: tuple[str, ...], number: int, status: int
) -> None:
    coach = Coach(environment(server.running, tmp_path), *args, stdin=subprocess.PIPE)
    try:
        if args[0] == "run":
            assert coach.process.stdin is not None
            coach.process.stdin.write("start the warm-up\n")
            coach.process.stdin.flush()
        coach.wait_for(state("intro"), timeout=30)
        time.sleep(1)  # speaking
        assert coach.signal(number) == status
        assert coach.errors[-1] == "Stopped.", coach.stderr()
        assert_clean(coach.stderr())
    finally:
        coach.close()
