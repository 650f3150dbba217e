"""A long soak of a real hands-free session through the PulseAudio test devices.

    python -m bench.soak --hours 2 --out DIR [--engine whisper]
    python -m bench.soak --report-only DIR [--md bench/SOAK.md]

A private PulseAudio server (tests.support.pulse) gives a fifo microphone and a null sink; the
hands-free `coach run --json` listens on `pulse` and speaks to `pulse`. The bench:

- writes the microphone in real time (20 ms chunks): espeak-ng commands, and always the coach's
  own voice fed back: the sink monitor recorded with parec (PulseAudio resamples 48 kHz to
  16 kHz), delayed 50 ms and attenuated 12 dB, mixed into every chunk, like a laptop's speaker
  heard by its microphone;
- keeps a routine running (warm-up, core, cool-down, hip-hinge, squat in turn: the next one
  starts when one finishes) and every few minutes says a command from a fixed cycle
  ("how much time is left", "pause" then "resume" 20 s later, "what's next", "skip this one");
- takes the microphone away (unloads the pipe source for 10 s, loads it back) and the speaker
  (unloads the null sink for 10 s) once in each half of the run;
- samples the coach's RSS and CPU time every 30 s.

Everything goes to DIR/soak.jsonl as it happens (a cut-off run still has its data); the coach's
stderr to DIR/coach.stderr. The report (bench/SOAK.md) is made from those files.

Announcement drift: the coach's `said` lines are timed on this process's monotonic clock when
they arrive on stdout, and compared with the routine's dry-run plan (`coach play R --dry-run
--json`) from an anchor: the first step-changing `state` line after a routine start or after a
command that moves the schedule (pause/resume/skip/next/back). drift = (arrival - anchor
arrival) - (planned time - anchor's planned time). Missed announcements: planned lines in a
stretch between an anchor and the next command (or the routine's end) that never arrived, with
a 3 s margin at the stretch's end.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bench.audio import RATE, Pcm, Voice, normalise_speech, speak

__all__ = ["main", "write_report"]

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = ("warm-up", "core", "cool-down", "hip-hinge", "squat")
COMMAND_CYCLE = ("how much time is left", "pause", "what's next", "skip this one")
_CHUNK = RATE // 50  # 20 ms
_FEEDBACK_GAIN = 10 ** (-12 / 20)
_FEEDBACK_DELAY = RATE // 20  # 50 ms
_FEEDBACK_MAX = RATE // 5  # at most 200 ms queued: drop the excess to keep the delay
_VOICE = Voice("en-us", 165)
_SAMPLE_EVERY = 30.0
_RESUME_AFTER = 20.0
_LOSS_SECONDS = 10.0
_READY_TIMEOUT = 120.0
_MOVES_SCHEDULE = {"pause", "resume", "next", "previous", "stop", "restart", "start_routine"}
_MISS_MARGIN = 3.0
_CUE_BEHIND_REPLY = 20.0
"""A form cue this soon after a reply may be held back by design (the player's busy rule)."""
_PLAN_KINDS = {"intro", "how", "start", "cue", "halfway", "ten", "count", "rep", "rest",
               "finish"}


class Log:
    """JSON lines, flushed one by one; safe from several threads."""

    def __init__(self, path: Path, t0: float) -> None:
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.t0 = t0

    def write(self, kind: str, **fields: Any) -> None:
        record = {"kind": kind, "t": round(time.monotonic() - self.t0, 3), **fields}
        with self._lock:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class Feedback:
    """What the sink plays, recorded from its monitor, queued for the microphone writer."""

    def __init__(self, env: dict[str, str], monitor: str) -> None:
        self._env = env
        self._monitor = monitor
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.loud_seconds = 0.0
        """Monitor audio in reads with a sample louder than 500: the coach audible (s)."""

    def start(self) -> None:
        with self._lock:
            self._buffer.clear()
            self._buffer.extend(bytes(2 * _FEEDBACK_DELAY))
        command = ["parec", f"--device={self._monitor}", "--format=s16le", f"--rate={RATE}",
                   "--channels=1", "--raw", "--latency-msec=20"]
        self._process = subprocess.Popen(command, env=self._env, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
        threading.Thread(target=self._drain, args=(self._process,), daemon=True,
                         name="soak-feedback").start()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def on_monitor(self, audio: Any) -> bool:
        """Whether our parec still records the monitor (PulseAudio may have moved it)."""
        if self._process is None:
            return False
        monitor = _index_of(audio, "sources", self._monitor)
        current = None
        for line in audio.pactl("list", "source-outputs").splitlines():
            line = line.strip()
            if line.startswith("Source:"):
                current = line.split()[-1]
            elif line == f'application.process.id = "{self._process.pid}"':
                return current == monitor
        return False

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 4096):
            usable = len(chunk) - len(chunk) % 2
            if usable and int(np.max(np.abs(np.frombuffer(chunk[:usable], "<i2")
                                                .astype(np.int32)))) > 500:
                self.loud_seconds += usable / 2 / RATE
            with self._lock:
                self._buffer.extend(chunk)
                excess = len(self._buffer) - 2 * _FEEDBACK_MAX
                if excess > 0:
                    del self._buffer[:excess + excess % 2]

    def take(self, count: int) -> Pcm:
        with self._lock:
            n = min(count, len(self._buffer) // 2)
            out = np.frombuffer(bytes(self._buffer[:2 * n]), "<i2").astype(np.int16)
            del self._buffer[:2 * n]
        if n < count:
            out = np.concatenate([out, np.zeros(count - n, np.int16)])
        return out

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5.0)
            self._process = None


class MicWriter(threading.Thread):
    """Feeds the fifo at real-time pace: queued speech or silence, plus the coach's voice."""

    def __init__(self, fifo: Path, feedback: Feedback) -> None:
        super().__init__(name="soak-mic", daemon=True)
        self._fifo = fifo
        self._feedback = feedback
        self._fd: int | None = None
        self._queue: queue.SimpleQueue[Pcm] = queue.SimpleQueue()
        self.stopped = threading.Event()
        self.detached = threading.Event()
        """Set while the microphone is unloaded: chunks are paced but not written."""
        self.dropped_chunks = 0

    def play(self, pcm: Pcm) -> None:
        self._queue.put(pcm)

    def _open(self) -> None:
        self._close()
        self._fd = os.open(self._fifo, os.O_RDWR | os.O_NONBLOCK)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def run(self) -> None:
        due = time.monotonic()
        pending: Pcm = np.zeros(0, np.int16)
        try:
            while not self.stopped.is_set():
                if len(pending) == 0:
                    try:
                        pending = self._queue.get_nowait()
                    except queue.Empty:
                        pending = np.zeros(_CHUNK, np.int16)
                chunk, pending = pending[:_CHUNK], pending[_CHUNK:]
                if len(chunk) < _CHUNK:
                    chunk = np.concatenate([chunk, np.zeros(_CHUNK - len(chunk), np.int16)])
                echo = self._feedback.take(_CHUNK).astype(np.float64) * _FEEDBACK_GAIN
                mixed = np.clip(chunk.astype(np.float64) + echo, -32768, 32767).astype(np.int16)
                self._write(mixed)
                due += _CHUNK / RATE
                time.sleep(max(0.0, due - time.monotonic()))
                if time.monotonic() - due > 1.0:  # fell behind (suspended?): do not burst
                    due = time.monotonic()
        finally:
            self._close()

    def _write(self, chunk: Pcm) -> None:
        if self.detached.is_set():
            self._close()
            return
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            os.write(self._fd, np.ascontiguousarray(chunk, "<i2").tobytes())
        except (BlockingIOError, FileNotFoundError, OSError):
            self.dropped_chunks += 1
            self._close()


@dataclass
class CoachProcess:
    process: subprocess.Popen[str]
    lines: queue.SimpleQueue[tuple[float, dict[str, Any]]] = field(
        default_factory=queue.SimpleQueue)


def _start_coach(engine: str, env: dict[str, str], home: Path, stderr: TextIO,
                 log: Log) -> CoachProcess:
    env = {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "coach", "--engine", engine, "--mic", "pulse",
               "--speaker", "pulse", "--no-enhance", "run", "--json"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    coach = CoachProcess(process)
    log.write("coach_started", pid=process.pid, command=command)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            at = time.monotonic()
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"type": "text", "text": line.rstrip("\n")}
            log.write("coach", event=event)
            coach.lines.put((at, event))

    threading.Thread(target=read, daemon=True, name="soak-stdout").start()
    return coach


def _proc_sample(pid: int) -> dict[str, float] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rss_kb = 0
    threads = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return {"rss_mb": round(rss_kb / 1024, 2), "cpu_s": round(cpu, 2), "threads": threads}


def _clip(text: str) -> Pcm:
    pcm: Pcm = normalise_speech(speak(text, _VOICE))
    return pcm


class Session:
    """The soak's driver: commands, device losses, samples."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args = args
        self.out = out
        self.t0 = time.monotonic()
        self.log = Log(out / "soak.jsonl", self.t0)
        self.duration = args.hours * 3600.0
        self.state: dict[str, Any] = {}
        self.routine_index = 0
        self.command_index = 0
        self.clips: dict[str, Pcm] = {}

    def say(self, writer: MicWriter, text: str) -> None:
        if text not in self.clips:
            self.clips[text] = _clip(text)
        self.log.write("command", text=text)
        writer.play(self.clips[text])

    def run(self) -> int:
        from tests.support.pulse import start_virtual_audio

        out = self.out
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        (out / "meta.json").write_text(json.dumps({
            "commit": commit, "root": str(ROOT), "hours": self.args.hours,
            "engine": self.args.engine, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command_every_s": self.args.command_every, "python": sys.executable,
            "mic_loss": self.args.mic_loss,
        }, indent=1))
        self.log.write("meta", commit=commit, hours=self.args.hours)
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            audio = start_virtual_audio(Path(folder) / "pulse")
            env = audio.child_env()
            feedback = Feedback(env, audio.monitor)
            feedback.start()
            writer = MicWriter(audio.mic_fifo, feedback)
            writer.start()
            stderr = (out / "coach.stderr").open("a", encoding="utf-8")
            coach: CoachProcess | None = None
            crashes = 0
            try:
                coach = _start_coach(self.args.engine, env, Path(folder) / "home", stderr,
                                     self.log)
                losses = self._loss_plan()
                next_sample = time.monotonic()
                next_command = time.monotonic() + self.args.command_every
                resume_at: float | None = None
                start_retry_at: float | None = time.monotonic() + 5.0
                ready = False
                end = self.t0 + self.duration
                while time.monotonic() < end:
                    now = time.monotonic()
                    code = coach.process.poll()
                    if code is not None:
                        crashes += 1
                        self.log.write("coach_exit", code=code, crash=True)
                        coach = _start_coach(self.args.engine, env, Path(folder) / "home",
                                             stderr, self.log)
                        ready, start_retry_at = False, now + 5.0
                    while not coach.lines.empty():
                        _, event = coach.lines.get()
                        if event.get("type") == "info" and "Ready" in str(event.get("text")):
                            ready = True
                        if event.get("type") == "state":
                            self.state = event
                            if event.get("state") == "finished":
                                start_retry_at = time.monotonic() + 4.0
                            elif event.get("state") in ("intro", "exercise", "rest"):
                                start_retry_at = None
                    sampled = now >= next_sample
                    if sampled:
                        sample = _proc_sample(coach.process.pid)
                        self.log.write("sample", pid=coach.process.pid, **(sample or {}),
                                       feedback_alive=feedback.alive(),
                                       sink_loud_s=round(feedback.loud_seconds, 2),
                                       dropped_mic_chunks=writer.dropped_chunks)
                        next_sample += _SAMPLE_EVERY
                    if not losses_active(losses) and (
                            not feedback.alive() or (sampled and not feedback.on_monitor(audio))):
                        self.log.write("feedback_restart", alive=feedback.alive())
                        feedback.restart()
                    if ready and start_retry_at is not None and now >= start_retry_at:
                        routine = ROUTINES[self.routine_index % len(ROUTINES)]
                        self.routine_index += 1
                        self.say(writer, f"start the {routine}")
                        start_retry_at = now + 25.0  # said again if it did not start
                    if resume_at is not None and now >= resume_at:
                        self.say(writer, "resume")
                        resume_at = None
                    if ready and now >= next_command and start_retry_at is None:
                        text = COMMAND_CYCLE[self.command_index % len(COMMAND_CYCLE)]
                        self.command_index += 1
                        self.say(writer, text)
                        if text == "pause":
                            resume_at = now + _RESUME_AFTER
                        next_command = now + self.args.command_every
                    elif now >= next_command:
                        next_command = now + 10.0
                    self._device_losses(losses, audio, writer, feedback, now)
                    time.sleep(0.1)
                self.log.write("end", crashes=crashes)
            finally:
                if coach is not None:
                    code = _stop(coach.process)
                    self.log.write("coach_exit", code=code, crash=False,
                                   note="stopped by the bench (SIGINT)")
                writer.stopped.set()
                writer.join(timeout=2.0)
                feedback.stop()
                audio.stop()
                stderr.close()
                self.log.close()
        return 0

    def _loss_plan(self) -> list[dict[str, Any]]:
        plan = []
        for fraction, device in ((0.2, "mic"), (0.35, "speaker"), (0.7, "mic"),
                                 (0.85, "speaker")):
            plan.append({"device": device, "at": self.t0 + fraction * self.duration,
                         "phase": "pending"})
        return plan

    def _device_losses(self, losses: list[dict[str, Any]], audio: Any, writer: MicWriter,
                       feedback: Feedback, now: float) -> None:
        for loss in losses:
            if loss["phase"] == "pending" and now >= loss["at"]:
                self._unload(loss, audio, writer, feedback)
                loss["phase"], loss["back_at"] = "down", now + _LOSS_SECONDS
            elif loss["phase"] == "down" and now >= loss["back_at"]:
                self._reload(loss, audio, writer, feedback)
                loss["phase"] = "done"

    def _unload(self, loss: dict[str, Any], audio: Any, writer: MicWriter,
                feedback: Feedback) -> None:
        name = audio.source if loss["device"] == "mic" else audio.sink
        module = _module_of(audio, name)
        loss["module"] = module
        if loss["device"] == "mic":
            writer.detached.set()
        before = dict(self.state)
        killed: list[str] = []
        try:
            source_index = _index_of(audio, "sources", name) if loss["device"] == "mic" else None
            on_mic = [line.split("\t")[0] for line in
                      audio.pactl("list", "short", "source-outputs").splitlines()
                      if source_index is not None and line.split("\t")[1:2] == [source_index]]
            if self.args.mic_loss == "kill" and loss["device"] == "mic":
                # PulseAudio moves a lost source's streams to another source (else the only
                # one left, speaker.monitor) and pactl cannot end a stream: put a silent
                # source in its place (a pipe source nobody writes sends nothing), so the
                # coach's microphone really stops.
                dead = audio.runtime_dir / "dead.fifo"
                loss["dead_module"] = audio.pactl(
                    "load-module", "module-pipe-source", "source_name=deadmic",
                    f"file={dead}", "format=s16le", "rate=16000", "channels=1").strip()
                audio.pactl("set-default-source", "deadmic")
                for index in on_mic:
                    audio.pactl("move-source-output", index, "deadmic")
                    killed.append(index)
            audio.pactl("unload-module", module[0])
            ok, error = True, None
        except Exception as exc:
            ok, error = False, str(exc)
        self.log.write("device_lost", device=loss["device"], module=module, ok=ok, error=error,
                       state_before=before, mode=self.args.mic_loss, killed_streams=killed)

    def _reload(self, loss: dict[str, Any], audio: Any, writer: MicWriter,
                feedback: Feedback) -> None:
        _, name, argument = loss["module"]
        error = None
        try:
            audio.pactl("load-module", name, *argument.split())
            if loss["device"] == "mic":
                audio.pactl("set-default-source", audio.source)
                if loss.get("dead_module"):
                    audio.pactl("unload-module", loss["dead_module"])
            else:
                audio.pactl("set-default-sink", audio.sink)
                _restart_keepalive(audio)
        except Exception as exc:
            error = str(exc)
        if loss["device"] == "mic":
            writer.detached.clear()
        # Either way: PulseAudio moves a recorder of speaker.monitor to a source that comes
        # back (seen with 16.1), and then the coach's voice is no longer fed back.
        time.sleep(0.5)
        feedback.restart()
        self.log.write("device_back", device=loss["device"], error=error,
                       state_after=dict(self.state))


def losses_active(losses: list[dict[str, Any]]) -> bool:
    return any(loss["phase"] == "down" for loss in losses)


def _module_of(audio: Any, name: str) -> tuple[str, str, str]:
    """(index, module name, arguments) of the module that made sink/source `name`."""
    for line in audio.pactl("list", "short", "modules").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and (f"sink_name={name}" in parts[2]
                                or f"source_name={name}" in parts[2]):
            return parts[0], parts[1], parts[2]
    raise RuntimeError(f"no module for {name}")


def _index_of(audio: Any, kind: str, name: str) -> str | None:
    """The index of the source or sink called `name` (`kind`: "sources" or "sinks")."""
    for line in audio.pactl("list", "short", kind).splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1] == name:
            return str(parts[0])
    return None


def _restart_keepalive(audio: Any) -> None:
    from tests.support.pulse import _hold_latency

    for helper in audio.keepalive:
        if helper.poll() is None:
            helper.kill()
        helper.wait(5.0)
    audio.keepalive.clear()
    audio.keepalive.append(_hold_latency(audio))


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=10.0)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=5.0)


# ---------------------------------------------------------------- report


def _plans(root: Path) -> dict[str, list[dict[str, Any]]]:
    plans = {}
    for routine in ROUTINES:
        done = subprocess.run([sys.executable, "-m", "coach", "play", routine, "--dry-run",
                               "--json"], cwd=root, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(root)})
        plans[routine] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return plans


def _key(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event.get("state"), event.get("step"), event.get("side"))


@dataclass
class Stretch:
    routine: str
    anchor_t: float
    anchor_plan: float
    end_t: float | None = None
    said: list[tuple[float, str]] = field(default_factory=list)
    finished: bool = False


def analyse(records: list[dict[str, Any]], plans: dict[str, list[dict[str, Any]]],
            duration: float) -> dict[str, Any]:
    """Drift and missed announcements, from the soak's records."""
    stretches: list[Stretch] = []
    current: Stretch | None = None
    waiting_anchor = True
    last_key: tuple[Any, ...] | None = None
    before_command_key: tuple[Any, ...] | None = None
    routine: str | None = None
    # The coach's clock (its events' "at") against ours: the smallest lag of its lines, per
    # coach process. Anchors are placed at the time the coach scheduled them, on our clock.
    offsets: list[float] = []
    for record in records:
        if record["kind"] == "coach_started":
            offsets.append(float("inf"))
        elif record["kind"] == "coach" and offsets and isinstance(
                record["event"].get("at"), (int, float)):
            offsets[-1] = min(offsets[-1], record["t"] - float(record["event"]["at"]))
    segment = -1
    for record in records:
        if record["kind"] == "coach_started":
            segment += 1
        if record["kind"] != "coach":
            if record["kind"] in ("device_lost", "coach_exit"):
                if current is not None:
                    current.end_t = record["t"]
                    current = None
                waiting_anchor, before_command_key = True, last_key
            continue
        event = record["event"]
        kind = event.get("type")
        if kind == "heard" and event.get("intent"):
            intent = str(event.get("intent"))
            if intent in _MOVES_SCHEDULE:
                if current is not None:
                    current.end_t = record["t"]
                    current = None
                waiting_anchor, before_command_key = True, last_key
        elif kind == "state":
            state = event.get("state")
            if state in ("finished", "idle"):
                if current is not None:
                    current.end_t = record["t"]
                    current.finished = state == "finished"
                    current = None
                waiting_anchor, before_command_key = True, None
            elif state in ("intro", "exercise", "rest"):
                routine = event.get("routine")
                key = _key(event)
                if waiting_anchor and key != before_command_key and routine in plans:
                    planned = [p for p in plans[routine]
                               if p.get("type") == "state" and _key(p) == key]
                    if planned:
                        offset = offsets[segment] if 0 <= segment < len(offsets) else 0.0
                        anchor = float(event.get("at", 0.0)) + offset
                        current = Stretch(str(routine), anchor, float(planned[0]["at"]))
                        stretches.append(current)
                        waiting_anchor = False
                last_key = key
            elif state == "paused" and current is not None:
                current.end_t = record["t"]
                current = None
                waiting_anchor, before_command_key = True, last_key
        elif kind == "said" and current is not None:
            current.said.append((record["t"], str(event.get("text"))))
    end_of_data = records[-1]["t"] if records else 0.0
    drifts: list[tuple[float, float]] = []
    missed: list[dict[str, Any]] = []
    planned_total = 0
    for stretch in stretches:
        end_t = stretch.end_t if stretch.end_t is not None else end_of_data
        plan = [p for p in plans[stretch.routine] if p.get("type") == "said"
                and p.get("kind") not in ("reply", "answer")]
        length = end_t - stretch.anchor_t
        due = [p for p in plan if stretch.anchor_plan <= float(p["at"])
               <= stretch.anchor_plan + length - _MISS_MARGIN]
        said = list(stretch.said)
        for line in due:
            planned_total += 1
            expected = stretch.anchor_t + float(line["at"]) - stretch.anchor_plan
            match = None
            for index, (t, text) in enumerate(said):
                if text == line["text"] and abs(t - expected) < 30.0:
                    match = index
                    break
            if match is None:
                reply = _last_reply(records, expected)
                behind = (line.get("kind") == "cue" and reply is not None
                          and expected - reply["t"] <= _CUE_BEHIND_REPLY)
                missed.append({"routine": stretch.routine, "plan_at": line["at"],
                               "text": line["text"], "kind": line.get("kind"),
                               "expected_t": round(expected, 1),
                               "last_reply": None if reply is None else {
                                   "t": reply["t"], "text": reply["event"].get("text"),
                                   "kind": reply["event"].get("kind")},
                               "cue_behind_reply": behind})
                continue
            t, _ = said.pop(match)
            drifts.append((t, t - expected))
    early = [d for t, d in drifts if t <= 600.0]
    late = [d for t, d in drifts if t >= duration - 600.0]
    return {"stretches": len(stretches), "planned": planned_total, "matched": len(drifts),
            "missed": missed, "drift_early": _stats(early), "drift_late": _stats(late),
            "drift_all": _stats([d for _, d in drifts]),
            "drift_by_10min": {int(t // 600) * 10: _stats([d for u, d in drifts
                                                           if int(u // 600) == int(t // 600)])
                               for t, _ in drifts}}


def _last_reply(records: list[dict[str, Any]], before: float) -> dict[str, Any] | None:
    """The last thing the coach said that is not part of a routine's plan, before `before`."""
    found = None
    for record in records:
        if record["t"] > before:
            break
        if (record["kind"] == "coach" and record["event"].get("type") == "said"
                and record["event"].get("kind") not in _PLAN_KINDS):
            found = record
    return found


def _stats(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ms = np.array(values) * 1000.0
    return {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "max_abs_ms": round(float(np.max(np.abs(ms))), 1)}


def _rss_at(samples: list[dict[str, Any]], t: float) -> dict[str, Any] | None:
    if not samples:
        return None
    return min(samples, key=lambda s: abs(s["t"] - t))


def _losses(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for index, record in enumerate(records):
        if record["kind"] != "device_lost":
            continue
        back = next((r for r in records[index + 1:] if r["kind"] == "device_back"
                     and r["device"] == record["device"]), None)
        window_end = (back["t"] if back else record["t"]) + 90.0
        during = [r for r in records[index + 1:] if r["t"] <= window_end]
        infos = [r["event"].get("text") for r in during
                 if r["kind"] == "coach" and r["event"].get("type") == "info"]
        said_after = [r for r in during if r["kind"] == "coach"
                      and r["event"].get("type") == "said"
                      and back is not None and r["t"] > back["t"]]
        heard_after = [r for r in during if r["kind"] == "coach"
                       and r["event"].get("type") == "heard"
                       and back is not None and r["t"] > back["t"]]
        states = [r["event"] for r in during if r["kind"] == "coach"
                  and r["event"].get("type") == "state"]
        exits = [r for r in during if r["kind"] == "coach_exit" and r.get("crash")]
        said_during = [r["event"].get("text") for r in during if r["kind"] == "coach"
                       and r["event"].get("type") == "said"
                       and (back is None or r["t"] <= back["t"])]
        audible = [r for r in records if r["kind"] == "sample" and "sink_loud_s" in r]
        after = [r for r in audible if back is not None and r["t"] >= back["t"]]
        audible_after = (round(after[min(4, len(after) - 1)]["sink_loud_s"]
                               - after[0]["sink_loud_s"], 1) if len(after) > 1 else None)
        out.append({
            "device": record["device"], "t": record["t"], "back_t": back["t"] if back else None,
            "unloaded": record.get("ok"), "reload_error": back.get("error") if back else None,
            "mode": record.get("mode", "unload"), "killed_streams": record.get("killed_streams"),
            "state_before": record.get("state_before"),
            "state_after_reload": back.get("state_after") if back else None,
            "states_within_90s": [(s.get("state"), s.get("routine"), s.get("step"))
                                  for s in states],
            "infos": infos, "said_after_back": len(said_after),
            "first_said_after_back_s": (round(said_after[0]["t"] - back["t"], 1)
                                        if said_after and back else None),
            "heard_after_back": [r["event"].get("text") for r in heard_after],
            "coach_exited": bool(exits), "said_while_lost": said_during,
            "audible_s_in_2min_after": audible_after,
        })
    return out


def write_report(folder: Path, md: Path) -> dict[str, Any]:
    records = [json.loads(line) for line in (folder / "soak.jsonl").read_text().splitlines()
               if line.strip()]
    meta = json.loads((folder / "meta.json").read_text())
    root = Path(meta.get("root", ROOT))
    plans = _plans(root if (root / "coach").is_dir() else ROOT)
    samples = [r for r in records if r["kind"] == "sample" and "rss_mb" in r]
    duration = records[-1]["t"] if records else 0.0
    analysis = analyse(records, plans, duration)
    at10 = _rss_at(samples, 600.0)
    last = samples[-1] if samples else None
    ratio = (last["rss_mb"] / at10["rss_mb"]) if at10 and last else None
    exits = [r for r in records if r["kind"] == "coach_exit"]
    crashes = [r for r in exits if r.get("crash")]
    stderr_path = folder / "coach.stderr"
    stderr_lines = stderr_path.read_text(errors="replace").splitlines() if (
        stderr_path.exists()) else []
    kinds = Counter(_stderr_kind(line) for line in stderr_lines
                    if line.strip() and not line[0].isspace())
    commands = [r["text"] for r in records if r["kind"] == "command"]
    heard = [r["event"] for r in records if r["kind"] == "coach"
             and r["event"].get("type") == "heard"]
    said = [r for r in records if r["kind"] == "coach" and r["event"].get("type") == "said"]
    started = [r["event"].get("routine") for r in records if r["kind"] == "coach"
               and r["event"].get("type") == "state" and r["event"].get("state") == "intro"]
    finished = [r["event"].get("routine") for r in records if r["kind"] == "coach"
                and r["event"].get("type") == "state" and r["event"].get("state") == "finished"]
    losses = _losses(records)
    _pulse_watch(folder, meta, losses)
    outcomes = _command_outcomes(records)
    not_understood = sum(1 for r in said if r["event"].get("kind") == "not_understood")
    state_seconds: dict[str, float] = {}
    previous: tuple[float, str] | None = None
    for r in records:
        if r["kind"] == "coach" and r["event"].get("type") == "state":
            if previous is not None:
                state_seconds[previous[1]] = (state_seconds.get(previous[1], 0.0)
                                              + r["t"] - previous[0])
            previous = (r["t"], str(r["event"].get("state")))
    if previous is not None:
        state_seconds[previous[1]] = (state_seconds.get(previous[1], 0.0)
                                      + duration - previous[0])
    command_times = [r["t"] for r in records if r["kind"] == "command"]
    unprompted = [{"t": r["t"], "text": r["event"].get("text"),
                   "intent": r["event"].get("intent")}
                  for r in records if r["kind"] == "coach"
                  and r["event"].get("type") == "heard" and r["event"].get("intent")
                  and not any(0.0 <= r["t"] - c <= 10.0 for c in command_times)]
    summary = {"duration_s": duration, "commit": meta.get("commit"), "rss_10min": at10,
               "rss_last": last, "rss_ratio": ratio,
               "rss_max": max((s["rss_mb"] for s in samples), default=None),
               "crashes": len(crashes), "exits": exits, "stderr_lines": len(stderr_lines),
               "stderr_kinds": kinds.most_common(12), "commands": len(commands),
               "heard": len(heard), "said": len(said), "analysis": analysis,
               "losses": losses, "routines_started": started, "routines_finished": finished,
               "command_outcomes": outcomes, "not_understood": not_understood,
               "unprompted": unprompted,
               "state_minutes": {k: round(v / 60, 1) for k, v in state_seconds.items()}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    md.write_text(_markdown(summary, meta, samples, heard, folder))
    return summary


def _pulse_watch(folder: Path, meta: dict[str, Any],
                 losses: list[dict[str, Any]]) -> None:
    """Add to each loss where the streams were, from an optional `pulse-watch.log`.

    Its lines (`EPOCH|sources I:NAME ...|sinks ...|source-outputs I:SOURCE:..|sink-inputs
    I:SINK:..`) come from a pactl poll every 2 s next to the run; matched to the bench's
    clock by the run's start time (to the second).
    """
    path = folder / "pulse-watch.log"
    if not path.exists() or "started" not in meta:
        return
    import calendar

    t0 = calendar.timegm(time.strptime(meta["started"].replace(" UTC", ""),
                                       "%Y-%m-%d %H:%M:%S"))
    polls = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != 5:
            continue
        try:
            at = float(parts[0]) - t0
        except ValueError:
            continue
        fields = {part.split(" ", 1)[0]: part.split(" ", 1)[1].split()
                  for part in parts[1:] if " " in part}
        names = {i.split(":")[0]: i.split(":", 1)[1] for i in fields.get("sources", [])}
        sinks = {i.split(":")[0]: i.split(":", 1)[1] for i in fields.get("sinks", [])}
        capture = sorted({names.get(o.split(":")[1], "?" + o.split(":")[1])
                          for o in fields.get("source-outputs", []) if o.count(":") >= 2})
        playback = len([o for o in fields.get("sink-inputs", []) if o.count(":") >= 2
                        and o.split(":")[1] in sinks])
        polls.append((at, ", ".join(capture), playback, ", ".join(sinks.values()) or "none"))
    for loss in losses:
        end = (loss["back_t"] or loss["t"]) + 12.0
        seen: list[str] = []
        for at, on_sources, playback, sink_names in polls:
            if loss["t"] - 4.0 <= at <= end:
                text = (f"capture streams on [{on_sources}]" if loss["device"] == "mic" else
                        f"sinks [{sink_names}], {playback} playback streams")
                if not seen or seen[-1] != text:
                    seen.append(text)
        loss["pulse"] = seen


def _command_outcomes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each spoken command and the first line the coach heard with an intent within 10 s."""
    out = []
    for index, record in enumerate(records):
        if record["kind"] != "command":
            continue
        got = None
        for later in records[index + 1:]:
            if later["t"] > record["t"] + 10.0 or later["kind"] == "command":
                break
            if later["kind"] == "coach" and later["event"].get("type") == "heard" \
                    and later["event"].get("intent"):
                got = later["event"]
                break
        out.append({"t": record["t"], "text": record["text"],
                    "intent": got.get("intent") if got else None,
                    "heard": got.get("text") if got else None})
    return out


_EXPECTED = {"how much time is left": "time_left", "pause": "pause", "resume": "resume",
             "what's next": "whats_next", "skip this one": "next"}


def _command_lines(outcomes: list[dict[str, Any]]) -> list[str]:
    by_text: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        by_text.setdefault(outcome["text"], []).append(outcome)
    lines = ["", "| command spoken | times | understood as expected | other intent | "
             "nothing |", "|---|---:|---:|---:|---:|"]
    for text, group in sorted(by_text.items()):
        expected = _EXPECTED.get(text, "start_routine" if text.startswith("start") else None)
        right = sum(1 for o in group if o["intent"] == expected)
        none = sum(1 for o in group if o["intent"] is None)
        lines.append(f"| {text} | {len(group)} | {right} | {len(group) - right - none} | "
                     f"{none} |")
    return lines


def _stderr_kind(line: str) -> str:
    words = line.split()
    head = " ".join(words[:6])
    for digit in "0123456789":
        head = head.replace(digit, "#")
    return head[:90]


def _markdown(summary: dict[str, Any], meta: dict[str, Any], samples: list[dict[str, Any]],
              heard: list[dict[str, Any]], folder: Path) -> str:
    a = summary["analysis"]
    at10, last = summary["rss_10min"], summary["rss_last"]
    ratio = summary["rss_ratio"]
    cpu = last.get("cpu_s") if last else None
    hours = summary["duration_s"] / 3600
    flat = ratio is not None and abs(ratio - 1.0) <= 0.10
    exits = ", ".join(f"{e.get('code')} " + ("crash" if e.get("crash") else "at the end, after "
                                            "the bench's SIGINT") for e in summary["exits"])
    exits = exits or "none recorded"
    announcements = [m for m in a["missed"] if m.get("kind") != "cue"]
    cues_behind = [m for m in a["missed"] if m.get("kind") == "cue" and m["cue_behind_reply"]]
    cues_other = [m for m in a["missed"] if m.get("kind") == "cue" and not m["cue_behind_reply"]]
    lines = [
        "# Hands-free soak through the PulseAudio test devices",
        "",
        f"`python -m bench.soak --hours {meta.get('hours')} --out {folder}` on commit "
        f"`{summary['commit']}`, started {meta.get('started')}, engine "
        f"`{meta.get('engine')}`; ran {summary['duration_s'] / 60:.1f} min ({hours:.2f} h).",
        "",
        "Set-up: private PulseAudio (fifo microphone `mic`, null sink `speaker`); the coach "
        "runs `coach --engine ENGINE --mic pulse --speaker pulse --no-enhance run --json` "
        "with HOME/XDG_CONFIG_HOME/XDG_DATA_HOME/XDG_STATE_HOME in a temporary folder. The "
        "microphone gets, every 20 ms, the bench's espeak-ng commands (or digital silence) "
        "plus the coach's own voice: `parec -d speaker.monitor --rate=16000` (PulseAudio "
        "resamples 48 kHz to 16 kHz), delayed 50 ms (plus parec's ~20 ms) and attenuated "
        "12 dB. Routines warm-up, core, cool-down, hip-hinge, squat run in turn; every "
        f"{meta.get('command_every_s')} s a command from the cycle \"how much time is left\", "
        "\"pause\" (\"resume\" 20 s later), \"what's next\", \"skip this one\".",
        "",
        "## Verdict",
        "",
        f"- Memory: RSS {at10['rss_mb'] if at10 else '?'} MB at 10 min, "
        f"{last['rss_mb'] if last else '?'} MB at the end "
        f"(ratio {ratio:.3f}): {'flat within 10%' if flat else 'NOT within 10%'}; "
        f"max {summary['rss_max']} MB." if ratio is not None else "- Memory: no samples.",
        f"- Crashes: {summary['crashes']} (coach exits: {exits}).",
        f"- Missed announcements (every planned line but form cues): {len(announcements)}; "
        f"form cues not said: {len(cues_behind)} held back behind a reply still being spoken "
        f"(the player's rule: a form cue never talks over a reply) and {len(cues_other)} "
        f"otherwise; of {a['planned']} planned lines due in {a['stretches']} uninterrupted "
        "stretches.",
        "- Drift (arrival of the `said` line on the bench's clock vs the plan, from the "
        f"stretch's anchor as the coach scheduled it): first 10 "
        f"min {_fmt(a['drift_early'])}; last 10 min {_fmt(a['drift_late'])}; whole run "
        f"{_fmt(a['drift_all'])}.",
        f"- CPU time of the coach: {cpu} s over {summary['duration_s'] / 60:.0f} min"
        + (f" ({100 * cpu / summary['duration_s']:.1f}% of one core)." if cpu else "."),
        f"- stderr: {summary['stderr_lines']} lines.",
        "",
        "## Memory (RSS of the coach process, MB)",
        "",
        "| minute | RSS MB | CPU s | threads | coach audible on the monitor so far (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    shown = [s for s in samples if int(s["t"]) // 60 % 10 == 0 or s is samples[-1]]
    seen: set[int] = set()
    for s in shown:
        minute = int(s["t"] // 60)
        if minute in seen and s is not samples[-1]:
            continue
        seen.add(minute)
        lines.append(f"| {s['t'] / 60:.1f} | {s['rss_mb']} | {s.get('cpu_s')} | "
                     f"{s.get('threads')} | {s.get('sink_loud_s')} |")
    lines += ["", "## Drift by 10 minutes (ms)", "",
              "| from minute | lines | p50 | p95 | max abs |", "|---:|---:|---:|---:|---:|"]
    for minute, stats in sorted(a["drift_by_10min"].items(), key=lambda kv: int(kv[0])):
        lines.append(f"| {minute} | {stats['n']} | {stats['p50_ms']} | {stats['p95_ms']} | "
                     f"{stats['max_abs_ms']} |")
    lines += ["", "## Session", "",
              f"- Commands spoken into the microphone: {summary['commands']}; heard by the "
              f"coach: {summary['heard']} lines; said by the coach: {summary['said']} lines.",
              f"- Routines started: {len(summary['routines_started'])} "
              f"({', '.join(str(r) for r in summary['routines_started'])}); finished: "
              f"{len(summary['routines_finished'])}.",
              f"- Minutes in each player state: {summary.get('state_minutes')}.",
              ""]
    intents = Counter(str(h.get("intent")) for h in heard)
    over = sum(1 for h in heard if h.get("over_coach"))
    lines.append(f"- What the coach heard, by intent: "
                 f"{', '.join(f'{k} {v}' for k, v in intents.most_common())}; "
                 f"{over} flagged as heard over the coach's voice.")
    lines += _command_lines(summary.get("command_outcomes", []))
    echo = [h for h in heard if h.get("over_coach")]
    unprompted = summary.get("unprompted", [])
    lines += ["", f"- Lines the coach heard while it was speaking (`over_coach`): {len(echo)}. "
              f"Lines heard with an intent when the bench had said nothing in the 10 s "
              f"before (the coach's own voice, or a late echo of a command, taken as a "
              f"command): {len(unprompted)}"
              + (": " + "; ".join(f"min {u['t'] / 60:.1f} {u['text']!r} -> {u['intent']}"
                                  for u in unprompted[:15]) if unprompted else "")
              + f". The coach answered \"not understood\" "
              f"{summary.get('not_understood', 0)} times in all."]
    lines += ["", "## Device losses", ""]
    if not summary["losses"]:
        lines.append("None happened (the run ended before them).")
    for loss in summary["losses"]:
        before = loss["state_before"] or {}
        after_states = loss["states_within_90s"]
        kept = _place_kept(before, after_states)
        lines += [
            f"### {loss['device']} lost at {loss['t'] / 60:.1f} min, back at "
            f"{(loss['back_t'] or 0) / 60:.1f} min",
            "",
            f"- How: {_HOW[loss['device'], loss['mode']]} (coach capture streams moved off "
            f"the microphone: "
            f"{loss['killed_streams'] or 'none'}).",
            f"- Unloaded: {loss['unloaded']}; reload error: {loss['reload_error']}; coach "
            f"exited: {loss['coach_exited']}.",
            f"- Place before: {before.get('state')} {before.get('routine')} step "
            f"{before.get('step')}; states in the 90 s after: {after_states or 'none'} "
            f"-> place kept: {kept}.",
            f"- What the user saw (info lines): {loss['infos'] or 'nothing'}.",
            f"- PulseAudio, polled every 2 s from 4 s before to 12 s after: "
            f"{' -> '.join(loss.get('pulse', [])) or 'not observed'}.",
            f"- Said while the device was gone: {loss['said_while_lost'] or 'nothing'}.",
            f"- Coach audible on the sink monitor in the ~2 min after it came back: "
            f"{loss['audible_s_in_2min_after']} s.",
            f"- Announcements after the device came back: {loss['said_after_back']} within "
            f"90 s, the first after {loss['first_said_after_back_s']} s; heard after: "
            f"{loss['heard_after_back'] or 'nothing'}.",
            "",
        ]
    lines += ["## Missed announcements", ""]
    lines += [f"- {m['kind']} of {m['routine']} at plan {m['plan_at']} s (run minute "
              f"{m['expected_t'] / 60:.1f}): {m['text']!r}; last reply before it: "
              + (f"{m['expected_t'] - m['last_reply']['t']:.1f} s earlier, "
                 f"{m['last_reply']['kind']} {m['last_reply']['text']!r}"
                 if m["last_reply"] else "none")
              for m in a["missed"][:40]] or ["None."]
    lines += ["", "## stderr kinds (first words of unindented lines, digits as #)", ""]
    lines += [f"- {count} x `{kind}`" for kind, count in summary["stderr_kinds"]] or ["None."]
    lines += ["", f"Raw data: {folder}/soak.jsonl (every event and sample), "
              f"{folder}/coach.stderr, {folder}/summary.json.", ""]
    return "\n".join(lines)


_HOW = {
    ("mic", "unload"): "`pactl unload-module` of the pipe source, loaded again 10 s later "
                       "with the same arguments",
    ("mic", "kill"): "a silent pipe source (nobody writes its fifo) made the default and the "
                     "coach's capture stream moved to it, the real pipe source unloaded; 10 s "
                     "later loaded again, made the default, the silent one unloaded",
    ("speaker", "unload"): "`pactl unload-module` of the null sink, loaded again 10 s later "
                           "with the same arguments (the bench's keep-alive stream and monitor "
                           "recorder restarted)",
    ("speaker", "kill"): "`pactl unload-module` of the null sink, loaded again 10 s later "
                         "with the same arguments (the bench's keep-alive stream and monitor "
                         "recorder restarted)",
}


def _place_kept(before: dict[str, Any], after: list[tuple[Any, Any, Any]]) -> str:
    if not before or before.get("state") not in ("intro", "exercise", "rest", "paused"):
        return f"n/a (no routine running: {before.get('state')})"
    if not after:
        return "yes (no state change in the 90 s: the player went on where it was)"
    state, routine, step = after[0]
    if routine == before.get("routine") and step is not None and before.get("step") is not None \
            and step >= before["step"] and state != "idle":
        return f"yes (next state {state} step {step} of {routine})"
    return f"NO (next state {state} {routine} step {step})"


def _fmt(stats: dict[str, Any]) -> str:
    if not stats.get("n"):
        return "no data"
    return (f"p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, max |{stats['max_abs_ms']}| "
            f"ms (n={stats['n']})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak")
    parser.add_argument("--engine", default="whisper")
    parser.add_argument("--command-every", type=float, default=210.0,
                        help="seconds between commands (default 210)")
    parser.add_argument("--mic-loss", choices=("unload", "kill"), default="unload",
                        help="unload: unload the pipe source (PulseAudio moves the coach's "
                        "stream to speaker.monitor and back); kill: move the coach's capture "
                        "stream to a silent source first, so its microphone really stops")
    parser.add_argument("--report-only", type=Path, metavar="DIR")
    parser.add_argument("--md", type=Path, default=ROOT / "bench" / "SOAK.md")
    args = parser.parse_args(argv)
    if args.report_only is not None:
        summary = write_report(args.report_only, args.md)
        print(json.dumps({k: summary[k] for k in ("duration_s", "rss_ratio", "crashes")}))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    code = Session(args, args.out).run()
    write_report(args.out, args.md)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
