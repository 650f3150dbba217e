"""Play int16 PCM through sounddevice: interruptible, with exact timing.

One output stream stays open and running; its callback copies the current utterance (or
zeros) into each small block. So an utterance starts at the next block, `stop()` is heard
within a block plus the device latency, and the player knows to the block when sound comes
out of the speaker (`playing_until`, listeners) - the recogniser must never act on the
coach's own voice. `duck` lowers the voice within a block or two (a short gain ramp, so no
click) while the user talks over it, and brings it back more slowly.

Devices come and go (a USB speaker pulled out, the audio server restarted): the watchdog
restarts a stream that stops asking for audio; when it cannot, the device is lost, said once
to `OutputListener`s, nothing is queued while it is gone (no stale lines when it returns),
and the device is looked for again every `retry_seconds` until it is back (said once too).
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.audio.alsa import route_alsa_messages_to_log
from coach.audio.c_stderr import c_library_lines_to_log
from coach.audio.devices import (
    PORTAUDIO_LOCK,
    AudioDevice,
    choose_device,
    portaudio_generation,
    query_devices,
    reload_portaudio,
)
from coach.errors import CoachError
from coach.settings.voice import PlaybackSettings

__all__ = [
    "NO_OUTPUT_HINT",
    "NoOutputDeviceError",
    "OutputDevice",
    "OutputDeviceEvent",
    "OutputListener",
    "Pcm",
    "PcmPlayer",
    "PlaybackEvent",
    "PlaybackListener",
    "apply_gain",
    "duck_gain",
    "list_output_devices",
    "resolve_output_device",
]

_LOGGER = logging.getLogger(__name__)

NO_OUTPUT_HINT = (
    "no audio output device: connect speakers or headphones and run `coach devices`, "
    "or add --silent to print what the coach says instead"
)


@dataclass(frozen=True)
class Pcm:
    """Mono audio."""

    samples: npt.NDArray[np.int16]
    """int16 mono samples."""
    rate: int
    """Sample rate (hertz)."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class PlaybackEvent:
    """Sound started or stopped coming out of the speaker."""

    playing: bool
    """True: an utterance starts being heard; False: it ends (finished or stopped)."""
    at: float
    """When this is heard, device latency included: time.monotonic() for a device (a text
    speaker uses its own clock)."""
    label: str
    """What was played (the text, for a speaker)."""
    seconds: float | None = None
    """How long the whole utterance lasts when played to its end (set when it starts): where
    in it each word falls."""


@dataclass(frozen=True)
class OutputDeviceEvent:
    """The output device was lost, or is back."""

    available: bool
    """False: nothing can be heard any more; True: sound comes out again."""
    device: str
    """The device's name (why it was lost, in PortAudio's words, is for the log)."""


PlaybackListener = Callable[[PlaybackEvent], None]
OutputListener = Callable[[OutputDeviceEvent], None]
"""Told (on the watchdog thread) when the output device is lost or back; must be quick."""
OutputTap = Callable[[npt.NDArray[np.int16], int, float], None]
"""Sees every block sent to the speaker: (samples, rate, time.monotonic() it is heard)."""


OutputDevice = AudioDevice
"""An audio output device as PortAudio lists it."""


class NoOutputDeviceError(CoachError, RuntimeError):
    """No usable audio output device; the message says how to connect one or go silent."""


def duck_gain(settings: PlaybackSettings) -> float:
    """The voice's gain while ducked (linear)."""
    return float(10 ** (settings.duck_db / 20))


def apply_gain(block: npt.NDArray[np.int16], gain: float, target: float,
               settings: PlaybackSettings, rate: int) -> float:
    """Scale `block` in place by a gain moving from `gain` towards `target` at the attack
    (down) or release (up) speed (a step would click); return the gain reached."""
    if gain == target == 1.0 or not len(block):
        return gain
    if gain == target:
        ramp = np.full(len(block), gain)
    else:
        seconds = (settings.duck_attack_seconds if target < gain
                   else settings.duck_release_seconds)
        step = (1.0 - duck_gain(settings)) / max(1.0, seconds * rate)
        moves = step * np.arange(1, len(block) + 1)
        ramp = (np.maximum(gain - moves, target) if target < gain
                else np.minimum(gain + moves, target))
    block[:] = np.round(block * ramp).astype(np.int16)
    return float(ramp[-1])


def _sounddevice() -> Any:
    route_alsa_messages_to_log()  # before PortAudio starts probing devices through ALSA
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise NoOutputDeviceError(
            f"PortAudio not found ({exc}): apt-get install libportaudio2; {NO_OUTPUT_HINT}"
        ) from exc
    return sounddevice


def list_output_devices() -> list[OutputDevice]:
    """Output devices, for `coach devices` and `coach doctor`."""
    return query_devices(_sounddevice(), "output")


def resolve_output_device(device: str | int | None = None) -> OutputDevice:
    """The output device by index, exact name or name substring; None = the default."""
    devices = list_output_devices()
    if not devices:
        raise NoOutputDeviceError(NO_OUTPUT_HINT)
    found = choose_device(devices, device)
    if found is None:
        names = ", ".join(f"{d.index}: {d.name}" for d in devices)
        raise NoOutputDeviceError(f"no output device {device!r} (have {names}); {NO_OUTPUT_HINT}")
    return found


@dataclass
class _Utterance:
    samples: npt.NDArray[np.int16]
    label: str
    position: int = 0


class PcmPlayer:
    """Plays Pcm on one output device; FIFO of utterances; stop at any time."""

    def __init__(
        self,
        device: str | int | None = None,
        rate: int | None = None,
        settings: PlaybackSettings | None = None,
    ) -> None:
        sd = _sounddevice()
        self.settings = settings or PlaybackSettings()
        """Block size, latency asked for, and the watchdog's timing."""
        self._wanted = device
        self.device = resolve_output_device(device)
        self.rate = rate or self.device.default_rate
        """Sample rate of the output stream (hertz): Pcm must be at this rate."""
        self._lock = threading.Lock()
        self._current: _Utterance | None = None
        self._queue: collections.deque[_Utterance] = collections.deque()
        self._audible_until = 0.0
        self._idle = threading.Event()
        self._idle.set()
        self._listeners: list[PlaybackListener] = []
        self._taps: list[OutputTap] = []
        self._events: queue.SimpleQueue[PlaybackEvent | None] = queue.SimpleQueue()
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="coach-playback-events", daemon=True
        )
        self._dispatcher.start()
        self.latency = 0.0
        """Output latency the device reports (seconds)."""
        self._last_fill = time.monotonic()
        self._closed = threading.Event()
        self._gain = 1.0
        self._gain_target = 1.0
        self.restarts = 0
        """How often the watchdog had to restart a stalled stream."""
        self._lost = False
        self._device_listeners: list[OutputListener] = []
        self._generation = portaudio_generation()
        try:
            self._stream = self._open_stream(sd)
        except sd.PortAudioError as exc:
            self._events.put(None)
            raise NoOutputDeviceError(
                f"cannot open {self.device.name!r}: {exc}; {NO_OUTPUT_HINT}"
            ) from exc
        self.latency = float(self._stream.latency)
        _LOGGER.debug(
            "playing on %r at %d Hz, latency %.3f s", self.device.name, self.rate, self.latency
        )
        self._watchdog = threading.Thread(
            target=self._watch, name="coach-playback-watchdog", daemon=True
        )
        self._watchdog.start()

    def _open_stream(self, sd: Any) -> Any:
        stream = sd.OutputStream(
            samplerate=self.rate,
            blocksize=int(self.rate * self.settings.block_seconds),
            device=self.device.index,
            channels=1,
            dtype="int16",
            latency=self.settings.latency_seconds,
            callback=self._fill,
        )
        try:
            stream.start()
        except Exception:
            stream.close()
            raise
        self._generation = portaudio_generation()
        self._last_fill = time.monotonic()
        return stream

    @property
    def available(self) -> bool:
        """False while the output device is lost (nothing can be heard)."""
        return not self._lost

    def add_device_listener(self, listener: OutputListener) -> None:
        """Call `listener` (on the watchdog thread) when the device is lost and when it is
        back."""
        self._device_listeners.append(listener)

    def _watch(self) -> None:
        """Restart the stream when PortAudio stops asking for audio; when that fails, the
        device is lost: look for it again every `retry_seconds`.

        The stream's callback runs all the time (silence included), so no callback means no
        sound: ALSA's pulse plugin has been seen to stall it without an error, a device that
        goes away stops it, and re-initialising PortAudio (the microphone's recovery) closes
        it.
        """
        next_try = 0.0
        while not self._closed.wait(self.settings.watch_seconds):
            now = time.monotonic()
            if self._lost:
                if now >= next_try:
                    next_try = now + self.settings.retry_seconds
                    self._look_again()
            elif now - self._last_fill >= self.settings.stall_seconds:
                next_try = now + self.settings.retry_seconds
                self._restart()

    def _restart(self) -> None:
        try:
            # PortAudio's own lines for a device that is gone go to the log: _lose says it
            with c_library_lines_to_log(_LOGGER):
                self._reopen()
        except Exception as exc:  # gone: said once, then looked for quietly
            self._lose(exc)
            return
        self.restarts += 1
        _LOGGER.info("audio output stalled; restarted the stream")

    def _lose(self, exc: BaseException) -> None:
        with self._lock:
            self._lost = True
            self._silence_locked()
        why = _reason(exc)
        _LOGGER.warning("audio output %r lost (%s); trying again every %g s",
                        self.device.name, why, self.settings.retry_seconds)
        self._tell(OutputDeviceEvent(False, self.device.name))

    def _look_again(self) -> None:
        try:
            with c_library_lines_to_log(_LOGGER):  # told once already, in _lose
                self._reopen()
        except Exception as exc:
            _LOGGER.debug("audio output still missing (%s)", _reason(exc))
            return
        with self._lock:
            self._lost = False
        _LOGGER.info("audio output %r is back", self.device.name)
        self._tell(OutputDeviceEvent(True, self.device.name))

    def _reopen(self) -> None:
        """Open the wanted device afresh, found again by name (its index may have moved)."""
        sd = _sounddevice()
        with PORTAUDIO_LOCK:
            self._close_stream()
            self.device = self._find_device()
            self._stream = self._open_stream(sd)
        self.latency = float(self._stream.latency)

    def _find_device(self) -> OutputDevice:
        try:
            return resolve_output_device(self._wanted)
        except NoOutputDeviceError:
            # PortAudio lists devices once: one that came back since is new to it.
            reload_portaudio()
            return resolve_output_device(self._wanted)

    def _close_stream(self) -> None:
        if self._generation != portaudio_generation():
            return  # PortAudio was re-initialised, which closed the stream already
        try:
            self._stream.abort()
            self._stream.close()
        except Exception:  # a vanished device may fail to close; nothing to keep
            _LOGGER.debug("closing the audio output failed", exc_info=True)

    def _tell(self, event: OutputDeviceEvent) -> None:
        for listener in list(self._device_listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("output device listener %r failed", listener)

    @property
    def playing_until(self) -> float:
        """time.monotonic() until which sound may come out of the speaker."""
        with self._lock:
            return self._audible_until

    def add_listener(self, listener: PlaybackListener) -> None:
        """Call `listener` (on a helper thread) when sound starts and stops."""
        self._listeners.append(listener)

    def add_output_tap(self, tap: OutputTap) -> None:
        """Call `tap` from the audio callback with every block played, silence included: it
        must be quick and must not block."""
        self._taps.append(tap)

    def play(self, pcm: Pcm, *, label: str = "", interrupt: bool = False) -> None:
        """Queue `pcm`; with `interrupt`, drop what is playing or queued first."""
        if pcm.rate != self.rate:
            raise ValueError(f"Pcm at {pcm.rate} Hz, the output runs at {self.rate} Hz")
        utterance = _Utterance(np.ascontiguousarray(pcm.samples, dtype=np.int16), label)
        with self._lock:
            if self._lost:  # nobody hears it; said later, it would be stale
                _LOGGER.debug("no audio output: dropped %r", label)
                return
            if interrupt:
                self._silence_locked()
            self._queue.append(utterance)
            self._idle.clear()

    def duck(self, lowered: bool) -> None:
        """Lower the voice by `duck_db` (True) or bring it back (False), from the next block
        on, ramped. Cheap: may be called with every microphone block."""
        target = duck_gain(self.settings) if lowered else 1.0
        with self._lock:
            self._gain_target = target

    @property
    def gain(self) -> float:
        """The voice's current gain (1.0: full; lower while ducked)."""
        with self._lock:
            return self._gain

    def stop(self) -> None:
        """Silence the output at the next block and drop the queue."""
        with self._lock:
            self._silence_locked()

    def is_playing(self) -> bool:
        """True while an utterance is queued, playing, or still in the device's buffer."""
        with self._lock:
            busy = self._current is not None or bool(self._queue)
            return busy or time.monotonic() < self._audible_until

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the output is silent; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._idle.wait(timeout):
            return False
        while self.is_playing():  # the tail still in the device's buffer
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(self.settings.poll_seconds)
        return True

    def close(self) -> None:
        """Stop and release the device; the listeners and taps are let go."""
        if self._closed.is_set():
            return
        self.stop()
        self._closed.set()
        self._watchdog.join(timeout=2.0)
        with PORTAUDIO_LOCK:
            self._close_stream()
        self._events.put(None)
        self._dispatcher.join(timeout=1.0)
        # A tap may hold a resampler (the echo canceller's): dropped now, it is freed before
        # the interpreter's exit, which reports native objects still alive then as leaks.
        self._taps.clear()
        self._listeners.clear()
        self._device_listeners.clear()

    def _silence_locked(self) -> None:
        was_playing = self._current is not None
        label = self._current.label if self._current else ""
        self._current = None
        self._queue.clear()
        self._idle.set()
        if was_playing:
            self._events.put(PlaybackEvent(False, self._audible_until, label))

    def _fill(self, outdata: npt.NDArray[np.int16], frames: int, _time: Any, status: Any) -> None:
        """PortAudio callback: copy queued audio into `outdata`, zeros after it."""
        if status:
            _LOGGER.debug("output status: %s", status)
        now = time.monotonic()
        self._last_fill = now
        heard_at = now + self.latency
        written = 0
        with self._lock:
            while written < frames:
                utterance = self._next_utterance_locked(heard_at + written / self.rate)
                if utterance is None:
                    break
                written += self._copy(utterance, outdata, written, frames)
                if utterance.position >= len(utterance.samples):
                    self._finish_locked(utterance, heard_at + written / self.rate)
            if written:
                self._audible_until = heard_at + written / self.rate
            outdata[written:] = 0
            self._ramp_locked(outdata[:, 0])
        for tap in self._taps:
            try:
                tap(outdata[:, 0], self.rate, heard_at)
            except Exception:  # never let an observer silence the speaker
                _LOGGER.exception("output tap %r failed", tap)

    def _ramp_locked(self, block: npt.NDArray[np.int16]) -> None:
        self._gain = apply_gain(block, self._gain, self._gain_target, self.settings, self.rate)

    def _next_utterance_locked(self, heard_at: float) -> _Utterance | None:
        if self._current is None and self._queue:
            self._current = self._queue.popleft()
            seconds = len(self._current.samples) / self.rate
            self._events.put(PlaybackEvent(True, heard_at, self._current.label, seconds))
        return self._current

    @staticmethod
    def _copy(
        utterance: _Utterance, outdata: npt.NDArray[np.int16], offset: int, frames: int
    ) -> int:
        count = min(frames - offset, len(utterance.samples) - utterance.position)
        chunk = utterance.samples[utterance.position : utterance.position + count]
        outdata[offset : offset + count, 0] = chunk
        utterance.position += count
        return count

    def _finish_locked(self, utterance: _Utterance, heard_until: float) -> None:
        self._current = None
        self._events.put(PlaybackEvent(False, heard_until, utterance.label))
        if not self._queue:
            self._idle.set()

    def _dispatch(self) -> None:
        while (event := self._events.get()) is not None:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    _LOGGER.exception("playback listener %r failed", listener)


def _reason(exc: BaseException) -> str:
    """An error in a few words, for a log line or a notice."""
    return str(exc).strip() or type(exc).__name__
