"""A private PulseAudio server with virtual devices, for tests, benches and CI.

It gives a machine without a sound card real devices:

- sink ``speaker`` (a null sink): whatever the coach plays; ``speaker.monitor`` records it;
- source ``mic`` (a pipe source): the bytes written to ``mic.fifo`` (s16le, 16 kHz, mono)
  are what the microphone hears. A pipe source produces nothing until something is written,
  so a reader of ``mic`` blocks while the fifo is idle.

The server runs in the foreground as our child (not ``-D``), so we know its pid and stop it
ourselves; it works as root without ``--system`` when its runtime and config dirs are private.

sounddevice / PortAudio: PortAudio lists devices once, at initialisation, and the ALSA
``pulse`` plugin finds the server through ``PULSE_SERVER``. So either set the environment
(``VirtualAudio.apply_env()``) before sounddevice is first imported, or re-initialise PortAudio
afterwards with ``coach.audio.devices.reload_portaudio()`` (``sd._terminate()`` then
``sd._initialize()``: checked to work with libportaudio2 19.6; it closes open streams).
Then sounddevice lists ``pulse`` and ``default`` (ALSA devices backed by this server).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "MIC_RATE",
    "PulseError",
    "SinkRecorder",
    "VirtualAudio",
    "start_virtual_audio",
]

_LOGGER = logging.getLogger(__name__)

MIC_RATE = 16000
"""Sample rate of the virtual microphone (hertz); s16le mono."""

SINK_NAME = "speaker"
SOURCE_NAME = "mic"
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
_MIC_CHUNK_SECONDS = 0.02
_SETTLED_LATENCY_USEC = 50_000


class PulseError(RuntimeError):
    """The virtual PulseAudio server could not be started or used."""


@dataclass(frozen=True)
class VirtualAudio:
    """A running private PulseAudio server and its virtual devices."""

    runtime_dir: Path
    """Private directory holding the socket, the fifo, pid file and config."""
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)
    """The pulseaudio process (our child)."""
    keepalive: list[subprocess.Popen[bytes]] = field(
        default_factory=list, repr=False, compare=False
    )
    """Silent low-latency stream holding the sink at sound-card latency (see `_hold_latency`)."""
    sink: str = SINK_NAME
    """Null sink the coach plays to."""
    source: str = SOURCE_NAME
    """Pipe source fed from `mic_fifo`."""
    mic_rate: int = MIC_RATE
    """Sample rate of the microphone fifo (hertz)."""

    @property
    def monitor(self) -> str:
        """Source that records what is played to the sink."""
        return f"{self.sink}.monitor"

    @property
    def mic_fifo(self) -> Path:
        """Bytes written here (s16le mono at `mic_rate`) are what the microphone hears."""
        return self.runtime_dir / "mic.fifo"

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "pulse" / "native"

    @property
    def server(self) -> str:
        """Value for PULSE_SERVER."""
        return f"unix:{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for clients (child processes, or this process via `apply_env`)."""
        return {"PULSE_SERVER": self.server}

    def child_env(self) -> dict[str, str]:
        """A full environment for subprocesses that should use this server."""
        return {**os.environ, **self.env}

    def apply_env(self) -> None:
        """Point this process's PulseAudio clients (and sounddevice) at this server."""
        os.environ.update(self.env)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def pactl(self, *args: str) -> str:
        """Run pactl against this server and return its stdout."""
        return _run_pactl(self.child_env(), *args)

    def write_mic(self, pcm: npt.NDArray[np.int16], realtime: bool = True) -> None:
        """Feed int16 mono samples at `mic_rate` to the microphone.

        With `realtime`, chunks are paced by the clock, as a real microphone delivers them;
        otherwise they are written as fast as the fifo takes them (it holds about 2 s).
        """
        data = np.ascontiguousarray(pcm, dtype="<i2").tobytes()
        chunk = int(self.mic_rate * _MIC_CHUNK_SECONDS) * 2
        started = time.monotonic()
        # O_RDWR never blocks on open, even before pulseaudio has the fifo open for reading.
        fd = os.open(self.mic_fifo, os.O_RDWR)
        try:
            for offset in range(0, len(data), chunk):
                os.write(fd, data[offset : offset + chunk])
                if realtime:
                    due = started + (offset + chunk) / 2 / self.mic_rate
                    time.sleep(max(0.0, due - time.monotonic()))
        finally:
            os.close(fd)

    def record_sink(self, seconds: float, rate: int = MIC_RATE) -> npt.NDArray[np.int16]:
        """Record `seconds` of what is played to the sink (mono int16 at `rate`)."""
        recorder = SinkRecorder(self, rate)
        recorder.start()
        time.sleep(seconds)
        return recorder.stop()

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        for helper in self.keepalive:
            helper.kill()
            helper.wait(_STOP_TIMEOUT)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _LOGGER.warning("pulseaudio did not stop in %.0f s; killing it", _STOP_TIMEOUT)
                self.process.kill()
                self.process.wait(_STOP_TIMEOUT)
        _LOGGER.debug("virtual pulseaudio in %s stopped", self.runtime_dir)


class SinkRecorder:
    """Records the sink's monitor with parec in the background.

    A thread drains parec's stdout as it comes: a pipe holds only 64 KiB (2 s at 16 kHz),
    and a parec blocked on a full pipe makes the server drop everything after it.
    """

    def __init__(self, audio: VirtualAudio, rate: int = MIC_RATE) -> None:
        self._audio = audio
        self.rate = rate
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._chunks: list[bytes] = []
        self.started_at = 0.0
        """time.monotonic() when parec was started."""

    def start(self) -> None:
        command = [
            _require("parec"),
            f"--device={self._audio.monitor}",
            "--format=s16le",
            f"--rate={self.rate}",
            "--channels=1",
            "--raw",
            "--latency-msec=20",
        ]
        self.started_at = time.monotonic()
        self._chunks = []
        self._process = subprocess.Popen(
            command,
            env=self._audio.child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._reader = threading.Thread(
            target=self._drain, args=(self._process,), name="sink-recorder", daemon=True
        )
        self._reader.start()

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 65536):
            self._chunks.append(chunk)

    def stop(self) -> npt.NDArray[np.int16]:
        """Stop recording; return everything recorded."""
        if self._process is None or self._reader is None:
            raise PulseError("SinkRecorder.stop() called before start()")
        process, self._process = self._process, None
        reader, self._reader = self._reader, None
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT)
        reader.join(timeout=_STOP_TIMEOUT)
        errors = b""
        if process.stderr is not None:
            errors = process.stderr.read()
            process.stderr.close()
        if process.stdout is not None:
            process.stdout.close()
        data = b"".join(self._chunks)
        if not data and errors:
            raise PulseError(f"parec failed: {errors.decode(errors='replace').strip()}")
        usable = len(data) - len(data) % 2
        return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)


def start_virtual_audio(runtime_dir: Path) -> VirtualAudio:
    """Start a private PulseAudio server with a null sink and a fifo microphone.

    Sets `speaker` as default sink and `mic` as default source. Raises PulseError, saying
    what to install, when pulseaudio is missing or does not come up.
    """
    runtime_dir = Path(runtime_dir).resolve()
    (runtime_dir / "pulse").mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    # Its log goes to a file: an undrained pipe would block the server once full.
    with (runtime_dir / "pulseaudio.log").open("wb") as log:
        process = subprocess.Popen(
            _daemon_command(runtime_dir),
            env=_daemon_env(runtime_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal should not reach it first
        )
    audio = VirtualAudio(runtime_dir=runtime_dir, process=process)
    try:
        _wait_until_ready(audio)
        audio.pactl("set-default-sink", audio.sink)
        audio.pactl("set-default-source", audio.source)
        audio.keepalive.append(_hold_latency(audio))
        _wait_for_low_latency(audio)
    except BaseException:
        audio.stop()
        raise
    _LOGGER.info("virtual pulseaudio running at %s (pid %d)", audio.server, process.pid)
    return audio


def _hold_latency(audio: VirtualAudio) -> subprocess.Popen[bytes]:
    """Play silence at 10 ms latency to the sink for as long as the server runs.

    An idle null sink renders 2 s ahead; a stream that connects then sees its first ~2 s
    swallowed in one gulp, and PortAudio's callback stalls. A permanent low-latency input
    keeps the sink clocked like a sound card. Mixing zeros changes nothing audible.
    """
    command = [
        _require("pacat"),
        "--playback",
        f"--device={audio.sink}",
        "--raw",
        "--format=s16le",
        "--rate=48000",
        "--channels=1",
        "--latency-msec=10",
        "/dev/zero",
    ]
    return subprocess.Popen(
        command,
        env=audio.child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_low_latency(audio: VirtualAudio) -> None:
    # The sink catches up with what it rendered ahead before the keepalive came (<= 2 s).
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        latency = _sink_latency_usec(audio)
        if latency is not None and latency < _SETTLED_LATENCY_USEC:
            return
        time.sleep(0.05)
    _LOGGER.warning("the virtual sink's latency did not settle; playback may stutter")


def _sink_latency_usec(audio: VirtualAudio) -> int | None:
    for line in audio.pactl("list", "sinks").splitlines():
        words = line.split()
        if words[:1] == ["Latency:"] and len(words) > 1 and words[1].isdigit():
            return int(words[1])
    return None


def _daemon_command(runtime_dir: Path) -> list[str]:
    socket = runtime_dir / "pulse" / "native"
    fifo = runtime_dir / "mic.fifo"
    return [
        _require("pulseaudio"),
        "--daemonize=no",
        "--exit-idle-time=-1",
        "-n",  # no default.pa: only the modules below
        "--disable-shm=yes",  # clients may run in other namespaces (containers, CI)
        f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
        f"--load=module-null-sink sink_name={SINK_NAME} rate=48000",
        (
            f"--load=module-pipe-source source_name={SOURCE_NAME} file={fifo}"
            f" format=s16le rate={MIC_RATE} channels=1"
        ),
    ]


def _daemon_env(runtime_dir: Path) -> dict[str, str]:
    # Private runtime/config dirs: no clash with a user's session server or another test run.
    env = {**os.environ}
    env.pop("PULSE_SERVER", None)
    env.update(
        XDG_RUNTIME_DIR=str(runtime_dir),
        PULSE_RUNTIME_PATH=str(runtime_dir / "pulse"),
        XDG_CONFIG_HOME=str(runtime_dir / "config"),
        HOME=str(runtime_dir),
    )
    return env


def _wait_until_ready(audio: VirtualAudio) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if not audio.is_running():
            log = (audio.runtime_dir / "pulseaudio.log").read_text(errors="replace")
            raise PulseError(f"pulseaudio exited at start: {log.strip()[-800:]}")
        if audio.socket.exists():
            try:
                audio.pactl("info")
                return
            except PulseError:
                pass
        time.sleep(0.05)
    raise PulseError(f"pulseaudio did not answer within {_START_TIMEOUT:.0f} s")


def _run_pactl(env: dict[str, str], *args: str) -> str:
    try:
        result = subprocess.run(
            [_require("pactl"), *args],
            env=env,
            capture_output=True,
            timeout=_STOP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PulseError(f"pactl {' '.join(args)} timed out") from exc
    if result.returncode != 0:
        raise PulseError(f"pactl {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode(errors="replace")


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise PulseError(
            f"{program} not found: apt-get install pulseaudio pulseaudio-utils "
            "(virtual audio devices need them)"
        )
    return path
