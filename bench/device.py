"""The real-device path: speech into a PulseAudio virtual microphone, reply out of its sink.

A private PulseAudio server (tests.support.pulse) gives a fifo microphone and a null sink.
The hands-free `coach run --json` listens on `pulse` and speaks to `pulse`; the bench writes
commands into the fifo in real time (silence in between, as a real microphone never stops),
records the sink's monitor, and measures end of speech -> first sample of the reply.
Both ends are on this process's monotonic clock: the moment the last speech sample went
into the fifo, and parec's start time plus the reply's sample offset (parec's own buffering,
~20 ms, is counted against the coach).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.audio import RATE, Pcm, Voice, active_span, normalise_speech, speak

__all__ = ["DEVICE_COMMANDS", "DeviceResult", "reply_onsets", "run_device_bench"]

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEVICE_COMMANDS = (
    "what routines do you have",
    "how much time is left",
    "pause",
    "what's next",
    "resume",
    "stop",
    "how long is left",
    "what comes next",
    "skip this one",
    "go back",
)
"""Commands that get a spoken reply while no routine runs."""
_CHUNK = RATE // 50  # 20 ms
_READY_TIMEOUT = 60.0
_REPLY_THRESHOLD = 200
_QUIET_BEFORE = 0.1
"""The sink must be silent this long before the end of speech for an onset to count (s)."""
_VOICE = Voice("en-us", 165)


@dataclass
class DeviceResult:
    engine: str
    startup_seconds: float | None = None
    """Process spawn to the coach's "Ready" line (seconds)."""
    latencies: list[float | None] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, object]:
        found = [x for x in self.latencies if x is not None]
        return {
            "engine": self.engine,
            "commands": len(self.latencies),
            "replied": len(found),
            "reply_latency_p50": float(np.percentile(found, 50)) if found else None,
            "reply_latency_p95": float(np.percentile(found, 95)) if found else None,
            "latencies": [None if x is None else round(x, 3) for x in self.latencies],
            "startup_seconds": self.startup_seconds,
            "heard": self.heard,
            "error": self.error,
        }


class _MicWriter(threading.Thread):
    """Feeds the fifo at real-time pace: silence, or the queued speech when there is some."""

    def __init__(self, fifo: Path) -> None:
        super().__init__(name="bench-mic", daemon=True)
        self._fd = os.open(fifo, os.O_RDWR)
        self._queue: queue.SimpleQueue[tuple[Pcm, int]] = queue.SimpleQueue()
        self.stopped = threading.Event()
        self.marks: list[float] = []
        """monotonic() when each queued clip's marked sample was written."""

    def play(self, pcm: Pcm, mark: int) -> None:
        self._queue.put((pcm, mark))

    def run(self) -> None:
        silence = np.zeros(_CHUNK, np.int16)
        due = time.monotonic()
        try:
            while not self.stopped.is_set():
                try:
                    pcm, mark = self._queue.get_nowait()
                except queue.Empty:
                    due = self._write(silence, due)
                    continue
                for offset in range(0, len(pcm), _CHUNK):
                    due = self._write(pcm[offset : offset + _CHUNK], due)
                    if offset <= mark < offset + _CHUNK:
                        self.marks.append(due - (offset + _CHUNK - mark) / RATE)
        finally:
            os.close(self._fd)

    def _write(self, chunk: Pcm, due: float) -> float:
        os.write(self._fd, np.ascontiguousarray(chunk, "<i2").tobytes())
        due += len(chunk) / RATE
        time.sleep(max(0.0, due - time.monotonic()))
        return due


def reply_onsets(
    recording: Pcm, started_at: float, ends: Sequence[float], threshold: int = _REPLY_THRESHOLD
) -> list[float | None]:
    """For each end of speech, seconds until the recording first gets loud (before the next).

    None when nothing starts before the next command, or when an earlier reply is still
    playing at the end of speech (no onset to measure).
    """
    loud = np.flatnonzero(np.abs(recording.astype(np.int32)) > threshold)
    out: list[float | None] = []
    for index, end in enumerate(ends):
        limit = ends[index + 1] if index + 1 < len(ends) else float("inf")
        at_end = max(0, round((end - started_at) * RATE))
        first = int(np.searchsorted(loud, at_end))
        busy = first > 0 and loud[first - 1] >= at_end - round(_QUIET_BEFORE * RATE)
        if first >= len(loud) or busy:
            out.append(None)
            continue
        onset = started_at + loud[first] / RATE
        out.append(onset - end if onset < limit else None)
    return out


def run_device_bench(engine: str, commands: Sequence[str], gap_seconds: float,
                     enhance: str | None = None) -> DeviceResult:
    """Start virtual audio and a hands-free coach; speak `commands`; time the replies."""
    from tests.support.pulse import PulseError, SinkRecorder, start_virtual_audio

    result = DeviceResult(engine)
    with tempfile.TemporaryDirectory(prefix="bench-pulse-") as folder:
        try:
            audio = start_virtual_audio(Path(folder) / "pulse")
        except PulseError as exc:
            result.error = f"virtual audio unavailable: {exc}"
            return result
        writer = _MicWriter(audio.mic_fifo)
        writer.start()
        process: subprocess.Popen[str] | None = None
        try:
            spawned = time.monotonic()
            process = _start_coach(engine, audio.child_env(), Path(folder), enhance)
            lines: queue.SimpleQueue[tuple[float, str]] = queue.SimpleQueue()
            threading.Thread(target=_read_lines, args=(process, lines), daemon=True).start()
            ready = _wait_ready(lines, process)
            if ready is None:
                result.error = "the coach never said it was ready"
                return result
            result.startup_seconds = round(ready - spawned, 3)
            recorder = SinkRecorder(audio, RATE)
            recorder.start()
            time.sleep(0.5)
            for command in commands:
                pcm, end = _clip(command)
                writer.play(pcm, end)
                time.sleep(len(pcm) / RATE + gap_seconds)
            recording = recorder.stop()
            result.latencies = reply_onsets(recording, recorder.started_at, writer.marks)
            result.heard = _heard(lines)
        finally:
            writer.stopped.set()
            if process is not None:
                _stop(process)
            writer.join(timeout=2.0)
            audio.stop()
    return result


def _clip(text: str) -> tuple[Pcm, int]:
    speech = normalise_speech(speak(text, _VOICE))
    _, last = active_span(speech)
    return speech, max(0, last - 1)


def _start_coach(engine: str, env: dict[str, str], home: Path,
                 enhance: str | None = None) -> subprocess.Popen[str]:
    env = {**env, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "coach", "--engine", engine, "--mic", "pulse",
               "--speaker", "pulse", *(["--enhance", enhance] if enhance else ["--no-enhance"]),
               "run", "--json"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _read_lines(
    process: subprocess.Popen[str], lines: queue.SimpleQueue[tuple[float, str]]
) -> None:
    if process.stdout is None:
        return
    for line in process.stdout:
        lines.put((time.monotonic(), line))


def _wait_ready(lines: queue.SimpleQueue[tuple[float, str]],
                process: subprocess.Popen[str]) -> float | None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            at, line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if "Ready" in line:
            return at
    return None


def _heard(lines: queue.SimpleQueue[tuple[float, str]]) -> list[str]:
    heard = []
    while not lines.empty():
        _, line = lines.get()
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("type") == "heard":
            heard.append(f"{event.get('text')!r} -> {event.get('intent')}")
    return heard


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5.0)
